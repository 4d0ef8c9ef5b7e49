import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { maskTree } from '../decode/constraint';
import { Decoder } from '../decode/decoder';
import { makeDrafter } from '../decode/drafters';
import { argmax } from '../decode/sampling';
import { noisyOracle } from '../decode/noisyOracle';
import { ToyModel } from '../decode/toyModel';
import type { LoadedCheckpoint } from '../model/index';
import { tokenizerCheckpoints } from '../model/testSupport';
import { sharedPath } from '../sharedPaths';
import { buildFimPrompt } from './fim';
import { healingConstraint, planHealing, stripHealed, vocabularyTexts, type HealingTokenizer } from './healing';
import type { TokenConstraint } from '../decode/constraint';

/** The oracle: plain greedy over the full sequence, choosing the best allowed token at every step. */
function constrainedGreedy(logitsAfter: (seq: readonly number[]) => Float32Array, vocab: number, prompt: readonly number[], maxTokens: number, constraint: TokenConstraint): number[] {
  const out: number[] = [];
  while (out.length < maxTokens) {
    const logits = logitsAfter([...prompt, ...out]);
    const allowed = constraint(out);
    let best = -1;
    for (let t = 0; t < vocab; t++) if ((!allowed || allowed(t)) && (best < 0 || logits[t]! > logits[best]!)) best = t;
    out.push(best < 0 ? argmax(logits, 0, vocab) : best);
  }
  return out;
}

/** Random trees that follow `truth` (the expected output) often, with wrong siblings and broken paths. */
const noisyDrafter = (truth: () => readonly number[], promptLength: number, vocab: number, seed: number) => noisyOracle(truth, promptLength, vocab, seed, { name: 'noisy', branchRate: 0.4, siblingProb: 0.3 });

test('planHealing: kept + removed is the prefix; a trailing space and a cut identifier are backed up', async () => {
  const tok = (await import('../tokenizer')).loadTokenizer(sharedPath('tokenizers/gpt2'));
  const texts = vocabularyTexts(tok, 50257);
  const space = planHealing(tok, texts, 'for (let i = 0; ');
  assert.equal(space.removed, ' ');
  assert.equal(space.kept, 'for (let i = 0;');
  const ident = planHealing(tok, texts, 'const n = points.len');
  assert.ok(ident.removed.endsWith('len') && ident.kept + ident.removed === 'const n = points.len', JSON.stringify(ident));
  assert.equal(planHealing(tok, texts, 'x = 1\n').removed, '', 'a finished line is not healed');
  fc.assert(fc.property(fc.string({ maxLength: 40 }), (s) => {
    const plan = planHealing(tok, texts, s);
    assert.equal(plan.kept + plan.removed, s);
    assert.ok(!plan.removed.includes('\n'));
  }), { numRuns: 200 });
});

test('healingConstraint allows only tokens that agree with the rest of the removed text', () => {
  const texts = ['a', 'b', 'ab', ' ', ' a', 'ba', '', 'abc'];
  const c = healingConstraint(texts, ' ab');
  const allowed = (gen: number[]): number[] => texts.map((_, t) => t).filter((t) => c(gen)?.(t) ?? true);
  assert.deepEqual(allowed([]), [3, 4]);
  assert.deepEqual(allowed([4]), [1, 5]);
  assert.deepEqual(allowed([3]), [0, 2, 7]);
  assert.equal(c([3, 2]), undefined, 'free once the removed text is spelled');
  assert.equal(stripHealed(' abc', ' ab'), 'c');
  assert.equal(stripHealed(' a', ' ab'), '');
});

test('toy model: healed speculative decoding equals constrained greedy token for token (fast-check)', async () => {
  const alphabet = ['a', 'b', ' ', '.', '('];
  await fc.assert(fc.asyncProperty(
    fc.array(fc.array(fc.constantFrom(...alphabet), { minLength: 1, maxLength: 3 }).map((c) => c.join('')), { minLength: 4, maxLength: 24 }),
    fc.array(fc.nat(40), { minLength: 1, maxLength: 4 }),
    fc.integer({ min: 1, max: 1000 }),
    fc.boolean(),
    async (extra, removedPick, seed, fixed) => {
      // Single characters first, so every removed text can be spelled.
      const texts = [...alphabet, ...extra];
      const vocab = texts.length;
      const removed = removedPick.map((i) => texts[i % vocab]!).join('');
      const model = new ToyModel({ vocabSize: vocab, seed, order: 3 });
      const oracle = new ToyModel({ vocabSize: vocab, seed, order: 3 });
      const prompt = [seed % vocab, (seed >> 3) % vocab, 1];
      const constraint = healingConstraint(texts, removed);
      const expected = constrainedGreedy((s) => oracle.logitsAfter(s), vocab, prompt, 16, constraint);
      const drafter = noisyDrafter(() => expected, prompt.length, vocab, seed);
      const decoder = new Decoder({ model, drafter, decode: (ids) => ids.map((t) => texts[t]).join(''), learnCost: false });
      const r = await decoder.generate({ requestId: 'h', prompt, maxTokens: 16, constraint, ...(fixed ? { fixedDraftTokens: 8 } : {}) });
      assert.deepEqual(r.tokens, expected);
      assert.ok(r.text.startsWith(removed), `${JSON.stringify(r.text)} starts with ${JSON.stringify(removed)}`);
      const plain = new Decoder({ model: new ToyModel({ vocabSize: vocab, seed, order: 3 }), decode: (ids) => ids.map((t) => texts[t]).join('') });
      assert.deepEqual((await plain.generate({ requestId: 'p', prompt, maxTokens: 16, constraint, speculative: false })).tokens, expected);
    },
  ), { numRuns: 60 });
});

test('maskTree masks each node by its own path and leaves padding roots alone', () => {
  const vocab = 3;
  const logits = new Float32Array(4 * vocab).fill(1);
  // Only token 2 may follow a path whose last generated token is 0; anything may follow otherwise.
  const c: TokenConstraint = (gen) => (gen[gen.length - 1] === 0 ? (t) => t === 2 : undefined);
  maskTree(logits, [0, 1, 0, 0], [-1, 0, 1, -1], vocab, [5, 0], c);
  assert.deepEqual([...logits], [-Infinity, -Infinity, 1, 1, 1, 1, -Infinity, -Infinity, 1, 1, 1, 1]);
});

// ---- real tiny ORT checkpoints with real tokenizers ----

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'presage-heal-'));
const checkpoints: { name: string; ckpt: LoadedCheckpoint }[] = [];
before(async () => {
  checkpoints.push(...(await tokenizerCheckpoints(root, path.join(root, 'cache'), [11, 12])));
}, { timeout: 180_000 });
after(async () => {
  for (const c of checkpoints) await c.ckpt.model.dispose();
  fs.rmSync(root, { recursive: true, force: true });
});

test('tiny ORT models: healed speculative == constrained greedy for a trailing space and a cut identifier', { timeout: 180_000 }, async () => {
  const prefixes = [
    'function perimeter(points) {\n  let total = 0;\n  for (let i = 0; ',
    'def area(shape):\n    return shape.wid',
    'const n = points.len',
    'if x ==',
  ];
  for (const { name, ckpt } of checkpoints) {
    const tok: HealingTokenizer = ckpt.tokenizer;
    const vocab = ckpt.info.vocabSize;
    const texts = vocabularyTexts(tok, vocab);
    for (const [pi, prefix] of prefixes.entries()) {
      const plan = planHealing(tok, texts, prefix);
      assert.ok(plan.removed.length > 0, `${name}: ${JSON.stringify(prefix)} is healed`);
      const prompt = buildFimPrompt(ckpt.tokenizer, 'generic', plan.kept, '').ids;
      const constraint = healingConstraint(texts, plan.removed);
      const greedy = new Decoder({ model: ckpt.model, decode: (ids) => tok.decode(ids) });
      const expected = await greedy.generate({ requestId: 'g', prompt, maxTokens: 16, constraint, speculative: false });
      assert.ok(expected.text.startsWith(plan.removed), `${name} ${pi}: ${JSON.stringify(expected.text)}`);
      for (const drafter of [noisyDrafter(() => expected.tokens, prompt.length, vocab, pi), makeDrafter('hybrid')!]) {
        const spec = new Decoder({ model: ckpt.model, drafter, decode: (ids) => tok.decode(ids) });
        spec.reset();
        const r = await spec.generate({ requestId: 's', prompt, maxTokens: 16, constraint, references: [tok.encode(prefix + ' i < points.length; i++)')], fixedDraftTokens: 8 });
        assert.deepEqual(r.tokens, expected.tokens, `${name} prompt ${pi} drafter ${drafter.name}`);
        if (drafter.name === 'noisy') assert.ok(r.metrics.mat > 1.3, `${name} ${pi}: MAT ${r.metrics.mat} (drafts should be accepted)`);
      }
    }
  }
});
