import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { Decoder, type DecodeRequest } from './decoder';
import { argmax, createRng, type SamplingOptions } from './sampling';
import { chiSquare, chiSquareCritical, jointTarget } from './chiSquare';
import { ScriptedDrafter } from './scriptedDrafter';
import { ToyModel } from './toyModel';

const decodeText = (ids: readonly number[]): string => ids.map((t) => String.fromCharCode(65 + t)).join('');

/** Plain greedy decoding straight from the oracle (no KV cache, no tree). */
function naiveGreedy(model: ToyModel, prompt: readonly number[], maxTokens: number, eos: readonly number[] = []): number[] {
  const seq = [...prompt];
  const out: number[] = [];
  while (out.length < maxTokens) {
    const t = argmax(model.logitsAfter(seq), 0, model.info.vocabSize);
    if (eos.includes(t)) break;
    out.push(t);
    seq.push(t);
  }
  return out;
}

/** Random trees whose nodes follow the oracle's greedy choice with probability `hit`. */
function randomTreeDrafter(oracle: ToyModel, seed: number, hit: number): ScriptedDrafter {
  const rng = createRng(seed);
  const vocab = oracle.info.vocabSize;
  return new ScriptedDrafter('random', (context, maxTokens) => {
    const n = Math.floor(rng() * (maxTokens + 1));
    const tokens: number[] = [];
    const parents: number[] = [];
    const probs: number[] = [];
    const paths: number[][] = [];
    for (let j = 0; j < n; j++) {
      const parent = j === 0 ? -1 : Math.floor(rng() * (j + 1)) - 1;
      const base = parent === -1 ? [] : paths[parent]!;
      const good = argmax(oracle.logitsAfter([...context, ...base]), 0, vocab);
      const token = rng() < hit ? good : Math.floor(rng() * vocab);
      tokens.push(token);
      parents.push(parent);
      probs.push((parent === -1 ? 1 : probs[parent]!) * rng());
      paths.push([...base, token]);
    }
    return { tokens, parents, probs, score: probs.reduce((a, b) => a + b, 0), matchLen: 1 };
  });
}

/** Drafts that are always wrong: every node's token differs from the target's argmax at its parent. */
function alwaysWrongDrafter(oracle: ToyModel): ScriptedDrafter {
  const vocab = oracle.info.vocabSize;
  return new ScriptedDrafter('wrong', (context, maxTokens) => {
    const tokens: number[] = [];
    const parents: number[] = [];
    const paths: number[][] = [];
    for (let j = 0; j < Math.min(maxTokens, 12); j++) {
      const parent = j < 3 ? -1 : j - 3;
      const base = parent === -1 ? [] : paths[parent]!;
      const good = argmax(oracle.logitsAfter([...context, ...base]), 0, vocab);
      const token = (good + 1 + (j % 3)) % vocab;
      tokens.push(token);
      parents.push(parent);
      paths.push([...base, token]);
    }
    return { tokens, parents, probs: tokens.map(() => 0.9), score: tokens.length * 0.9, matchLen: 3 };
  });
}

/** A linear draft of the true greedy continuation (perfect drafts). */
function oracleDrafter(oracle: ToyModel, length = 8): ScriptedDrafter {
  return new ScriptedDrafter('oracle', (context, maxTokens) => {
    const tokens = naiveGreedy(oracle, context, Math.min(length, maxTokens));
    return { tokens, parents: tokens.map((_, i) => i - 1), probs: tokens.map(() => 0.95), score: tokens.length, matchLen: 4 };
  });
}

function request(prompt: number[], maxTokens: number, extra: Partial<DecodeRequest> = {}): DecodeRequest {
  return { requestId: 'r', prompt, maxTokens, ...extra };
}

test('speculative greedy equals plain greedy on random trees (fast-check)', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.integer({ min: 0, max: 19 }), { minLength: 1, maxLength: 12 }),
      fc.integer({ min: 0, max: 40 }),
      fc.integer({ min: 0, max: 1000 }),
      fc.double({ min: 0, max: 1, noNaN: true }),
      fc.option(fc.integer({ min: 0, max: 24 }), { nil: undefined }),
      async (prompt, maxTokens, seed, hit, fixed) => {
        const model = new ToyModel({ vocabSize: 20, order: 2, seed: seed % 7 });
        const oracle = new ToyModel({ vocabSize: 20, order: 2, seed: seed % 7 });
        const decoder = new Decoder({ model, drafter: randomTreeDrafter(oracle, seed, hit), decode: decodeText });
        const r = await decoder.generate(request(prompt, maxTokens, fixed !== undefined ? { fixedDraftTokens: fixed, maxDraftTokens: 24 } : {}));
        assert.deepEqual(r.tokens, naiveGreedy(oracle, prompt, maxTokens));
        assert.equal(r.text, decodeText(r.tokens));
        assert.equal(r.metrics.tokens, r.tokens.length);
        // The KV cache holds the prompt and a prefix of the greedy continuation, mirrored by the decoder.
        assert.deepEqual(model.context, decoder.committed);
        assert.deepEqual(model.context, [...prompt, ...naiveGreedy(oracle, prompt, maxTokens + 30)].slice(0, model.context.length));
      },
    ),
    { numRuns: 120 },
  );
});

test('always-wrong drafts: output unchanged, nothing accepted, one token per step', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(fc.integer({ min: 0, max: 15 }), { minLength: 1, maxLength: 10 }), fc.integer({ min: 1, max: 30 }), async (prompt, maxTokens) => {
      const model = new ToyModel({ vocabSize: 16, seed: 3 });
      const decoder = new Decoder({ model, drafter: alwaysWrongDrafter(model), decode: decodeText });
      const r = await decoder.generate(request(prompt, maxTokens, { fixedDraftTokens: 12 }));
      assert.deepEqual(r.tokens, naiveGreedy(model, prompt, maxTokens));
      assert.equal(r.metrics.acceptedTokens, 0);
      assert.equal(r.metrics.steps, r.tokens.length);
    }),
    { numRuns: 40 },
  );
});

test('perfect drafts raise the mean accepted tokens per step and are credited to the drafter', async () => {
  const model = new ToyModel({ vocabSize: 24, seed: 5 });
  const decoder = new Decoder({ model, drafter: oracleDrafter(model, 8), decode: decodeText });
  const r = await decoder.generate(request([1, 2, 3], 60, { fixedDraftTokens: 8 }));
  assert.deepEqual(r.tokens, naiveGreedy(model, [1, 2, 3], 60));
  assert.ok(r.metrics.mat > 5, `mat ${r.metrics.mat}`);
  assert.equal(r.metrics.acceptedByDrafter.oracle, r.metrics.acceptedTokens);
  assert.ok(r.metrics.acceptedTokens > 40);
});

test('adaptive tree size: verifies fewer nodes when drafts are unlikely, more when likely', async () => {
  const model = new ToyModel({ vocabSize: 24, seed: 5 });
  const low = new ScriptedDrafter('low', (_c, max) => {
    const tokens = Array.from({ length: max }, (_, i) => i % 24);
    return { tokens, parents: tokens.map((_, i) => i - 1), probs: tokens.map(() => 0.001), score: 0, matchLen: 0 };
  });
  const lowDecoder = new Decoder({ model, drafter: low, decode: decodeText, costCurve: (s) => 10 + (30 * (s - 1)) / 63, learnCost: false });
  await lowDecoder.generate(request([1], 10));
  assert.ok(model.forwardSizes.slice(1).every((s) => s === 1), `sizes ${model.forwardSizes}`);
  const model2 = new ToyModel({ vocabSize: 24, seed: 5 });
  const high = new Decoder({ model: model2, drafter: oracleDrafter(model2, 40), decode: decodeText, costCurve: (s) => 10 + (7 * (s - 1)) / 63, learnCost: false });
  await high.generate(request([1], 30, { maxDraftTokens: 40 }));
  assert.ok(Math.max(...model2.forwardSizes.slice(1)) > 16, `sizes ${model2.forwardSizes}`);
});

test('stop rules: EOS, max tokens, stop strings, caller cut rule', async () => {
  const model = new ToyModel({ vocabSize: 20, seed: 9 });
  const plain = naiveGreedy(model, [4, 5], 40);
  const decoder = new Decoder({ model, drafter: oracleDrafter(model), decode: decodeText });
  const eosToken = plain[7]!;
  const firstEos = plain.indexOf(eosToken);
  const eos = await decoder.generate(request([4, 5], 40, { eosTokenIds: [eosToken] }));
  assert.equal(eos.finishReason, 'eos');
  assert.deepEqual(eos.tokens, plain.slice(0, firstEos));

  const len = await decoder.generate(request([4, 5], 13));
  assert.equal(len.finishReason, 'length');
  assert.equal(len.tokens.length, 13);

  const text = decodeText(plain);
  const stopStr = text.slice(10, 13);
  const cut = text.indexOf(stopStr);
  const deltas: string[] = [];
  const stop = await decoder.generate(request([4, 5], 40, { stop: [stopStr], onDelta: (d) => deltas.push(d) }));
  assert.equal(stop.finishReason, 'stop');
  assert.equal(stop.text, text.slice(0, cut));
  assert.equal(deltas.join(''), stop.text);

  const block = await decoder.generate(request([4, 5], 40, { stopAt: (t) => (t.length >= 9 ? 9 : -1) }));
  assert.equal(block.finishReason, 'block_end');
  assert.equal(block.text, text.slice(0, 9));
});

test('cancellation stops within one step and frees the request state', async () => {
  const model = new ToyModel({ vocabSize: 20, seed: 2, delayMs: 5 });
  const drafter = oracleDrafter(model, 2);
  const decoder = new Decoder({ model, drafter, decode: decodeText });
  const controller = new AbortController();
  let callsAtAbort = -1;
  const r = await decoder.generate(request([1, 2], 500, {
    signal: controller.signal,
    fixedDraftTokens: 2,
    onDelta: () => {
      if (callsAtAbort < 0 && model.forwardCalls >= 4) {
        callsAtAbort = model.forwardCalls;
        controller.abort();
      }
    },
  }));
  assert.equal(r.finishReason, 'cancelled');
  assert.ok(callsAtAbort > 0);
  assert.ok(model.forwardCalls <= callsAtAbort + 1, `${model.forwardCalls} forwards after abort at ${callsAtAbort}`);
  assert.equal(drafter.activeRequests, 0);
  assert.equal(drafter.ended.at(-1)!.output, undefined, 'a cancelled request does not feed the history');
  assert.equal(model.contextLength, 2, 'generated KV dropped, prompt kept for reuse');
});

test('time budget ends generation early', async () => {
  const model = new ToyModel({ vocabSize: 20, seed: 2, delayMs: 15 });
  const decoder = new Decoder({ model, decode: decodeText });
  const r = await decoder.generate(request([1, 2], 500, { timeBudgetMs: 60 }));
  assert.equal(r.finishReason, 'time_budget');
  assert.ok(r.tokens.length < 20 && r.tokens.length >= 1);
});

test('prompt-prefix reuse: only the new suffix is prefilled and the output is unchanged', async () => {
  const model = new ToyModel({ vocabSize: 20, seed: 4 });
  const decoder = new Decoder({ model, drafter: oracleDrafter(model), decode: decodeText });
  const prompt = Array.from({ length: 50 }, (_, i) => (i * 7) % 20);
  const first = await decoder.generate(request(prompt, 10));
  const longer = [...prompt, ...first.tokens, 3, 4];
  const second = await decoder.generate(request(longer, 10));
  assert.ok(second.metrics.reusedPromptTokens >= 55, `reused ${second.metrics.reusedPromptTokens}`);
  assert.deepEqual(second.tokens, naiveGreedy(model, longer, 10));
  const edited = [...prompt.slice(0, 20), 1, 1, 1];
  const third = await decoder.generate(request(edited, 10));
  assert.equal(third.metrics.reusedPromptTokens, 20);
  assert.deepEqual(third.tokens, naiveGreedy(model, edited, 10));
  const same = await decoder.generate(request(edited, 10));
  assert.equal(same.metrics.reusedPromptTokens, edited.length - 1);
  assert.deepEqual(same.tokens, third.tokens);
});

test('bad input gets clear errors', async () => {
  const model = new ToyModel({ vocabSize: 20, maxContext: 64 });
  const decoder = new Decoder({ model, decode: decodeText });
  await assert.rejects(decoder.generate(request([], 5)), /prompt is empty/);
  await assert.rejects(decoder.generate(request([25], 5)), /outside the vocabulary/);
  await assert.rejects(decoder.generate(request(new Array(64).fill(1), 5)), /context is 64/);
  const r = await decoder.generate(request(new Array(60).fill(1), 50));
  assert.ok(r.tokens.length <= 4);
});

// ---- Lossless sampling: chi-square of the joint distribution of the first three tokens against the target. ----

async function sampleJoint(sampling: SamplingOptions, runs: number, depth: number): Promise<Map<string, number>> {
  const model = new ToyModel({ vocabSize: 5, order: 2, seed: 11, sharpness: 2 });
  // A bushy draft: several siblings at each level, including likely and unlikely tokens and a duplicate.
  const drafter = new ScriptedDrafter('bushy', () => ({
    tokens: [0, 1, 2, 1, 3, 0, 4, 2],
    parents: [-1, -1, -1, -1, 0, 0, 1, 4],
    probs: [0.5, 0.4, 0.3, 0.2, 0.3, 0.2, 0.2, 0.1],
    score: 2.2,
    matchLen: 1,
  }));
  const decoder = new Decoder({ model, drafter, decode: decodeText });
  const counts = new Map<string, number>();
  for (let s = 0; s < runs; s++) {
    const r = await decoder.generate(request([1, 3], depth, { sampling: { ...sampling, seed: 1000 + s }, fixedDraftTokens: 8 }));
    const key = r.tokens.join(',');
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

test('sampling is lossless: chi-square against the target joint distribution (and power against a wrong target)', async () => {
  const runs = 6000;
  const depth = 3;
  const model = new ToyModel({ vocabSize: 5, order: 2, seed: 11, sharpness: 2 });
  for (const sampling of [{ temperature: 1 }, { temperature: 0.8, topK: 3, topP: 0.9 }] as SamplingOptions[]) {
    const observed = await sampleJoint(sampling, runs, depth);
    const { stat, df } = chiSquare(observed, jointTarget(model, [1, 3], sampling, depth), runs);
    assert.ok(df >= 10, `df ${df}`);
    assert.ok(stat < chiSquareCritical(df), `chi2 ${stat.toFixed(1)} >= ${chiSquareCritical(df).toFixed(1)} (df ${df}) for ${JSON.stringify(sampling)}`);
    if (sampling.topK === undefined) {
      const wrong = chiSquare(observed, jointTarget(model, [1, 3], { temperature: 1.25 }, depth), runs);
      assert.ok(wrong.stat > chiSquareCritical(wrong.df), `the test cannot tell T=1.25 from T=1 (chi2 ${wrong.stat})`);
    }
  }
});

test('every registered drafter: identical to greedy, and repetitive output is drafted (MAT > 1.5)', async () => {
  const { makeDrafter, availableDrafters } = await import('./drafters');
  for (const name of availableDrafters()) {
    // An order-2 toy model over 12 tokens falls into a cycle quickly: copyable output.
    const model = new ToyModel({ vocabSize: 12, order: 2, seed: 21 });
    const decoder = new Decoder({ model, drafter: makeDrafter(name), decode: decodeText, costCurve: (s) => 10 + 0.3 * s });
    const prompt = [1, 2, 3, 4, 5];
    // Reference copy (llma) drafts from references only: give it the text it will write.
    const references = name === 'llma' ? [naiveGreedy(model, prompt, 120)] : [];
    const r = await decoder.generate(request(prompt, 120, { references }));
    assert.deepEqual(r.tokens, naiveGreedy(model, prompt, 120), name);
    // The toy model has no hidden states, so the learned speculator alone has nothing to draft from.
    if (name === 'none' || name === 'speculator') assert.equal(r.metrics.mat, 1);
    else assert.ok(r.metrics.mat > 1.5, `${name}: MAT ${r.metrics.mat}`);
  }
});

test('drafts the model keeps rejecting shrink the verified trees (calibration), without changing the output', async () => {
  const model = new ToyModel({ vocabSize: 16, seed: 3 });
  const decoder = new Decoder({ model, drafter: alwaysWrongDrafter(model), decode: decodeText, learnCost: false });
  const r = await decoder.generate(request([1, 2, 3], 80));
  assert.deepEqual(r.tokens, naiveGreedy(model, [1, 2, 3], 80));
  const sizes = model.forwardSizes.slice(1);
  assert.ok(sizes[0]! > 1, `first steps verify drafts (${sizes.slice(0, 5)})`);
  // Late steps verify only the pending token, except a one-node probe every eighth step.
  const late = sizes.slice(-24);
  assert.ok(late.every((s) => s <= 2) && late.filter((s) => s === 2).length <= 3, `late steps (${late})`);
  assert.ok(decoder.calibration < 0.1);
});

test('padding forwards to two rows changes nothing but the row count', async () => {
  const model = new ToyModel({ vocabSize: 16, seed: 8 });
  const decoder = new Decoder({ model, drafter: randomTreeDrafter(model, 4, 0.6), decode: decodeText, minForwardTokens: 2 });
  const r = await decoder.generate(request([3], 50));
  assert.deepEqual(r.tokens, naiveGreedy(model, [3], 50));
  assert.ok(model.forwardSizes.every((s) => s >= 2), `${model.forwardSizes}`);
  assert.deepEqual(model.context, decoder.committed);
});

test('logits only where acceptance reads them: the last prompt position per prefill chunk, the tree nodes when verifying', async () => {
  const model = new ToyModel({ vocabSize: 16, seed: 4 });
  const decoder = new Decoder({ model, drafter: randomTreeDrafter(model, 4, 0.6), decode: decodeText, prefillChunk: 5, minForwardTokens: 3 });
  const prompt = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
  const r = await decoder.generate(request(prompt, 40));
  assert.deepEqual(r.tokens, naiveGreedy(model, prompt, 40));
  // Three prefill chunks (5 + 5 + 2 tokens, the last padded to 3 rows), one logit row each.
  assert.deepEqual(model.forwardSizes.slice(0, 3), [5, 5, 3]);
  assert.deepEqual(model.logitRowCounts.slice(0, 3), [1, 1, 1]);
  // Verification: a row per tree node, never per padding row, and padding happened.
  const steps = model.forwardSizes.slice(3);
  const rows = model.logitRowCounts.slice(3);
  assert.ok(steps.some((s, i) => rows[i]! < s), 'some steps were padded');
  assert.ok(rows.every((n, i) => n >= 1 && n <= steps[i]!));
});
