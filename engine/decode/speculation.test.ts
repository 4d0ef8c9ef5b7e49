// The speculator in the decoding loop: greedy output identical to plain greedy with `speculator` and
// `hybrid+speculator` (a toy model with hidden states and a random speculator, and the demo model with its
// trained one), the speculator's nodes actually verified and accepted, and sampling still distributed as plain
// sampling (chi-square of the joint distribution of the first three tokens).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Decoder } from './decoder';
import { chiSquare, chiSquareCritical, jointTarget } from './chiSquare';
import { makeDrafter } from './drafters';
import { argmax } from './sampling';
import { openSpeculator, runnerFromRuntime, speculatorDirFor, type SpeculationRunner } from './speculation';
import type { Speculation } from '../draft/speculator';
import { ToyModel } from './toyModel';
import type { ForwardOptions, Model, ModelInfo } from '../model/types';
import { loadSpeculatorCheckpoint } from '../model/speculator/checkpoint';
import { SpeculatorRuntime } from '../model/speculator/runtime';
import { tempSpeculatorDir, writeTinySpeculator } from '../model/speculator/testSupport';
import { loadCheckpoint } from '../model/index';
import { loadRecords } from '../bench/replay';
import { sharedPath } from '../sharedPaths';

const HIDDEN = 8;
const dirs: string[] = [];
after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

/** The toy model plus hidden states: each logit row's values, padded to HIDDEN (any function of the path works). */
class HiddenToy implements Model {
  readonly info: ModelInfo;
  private hidden: Float32Array | undefined;
  constructor(readonly toy: ToyModel) {
    this.info = { ...toy.info, hiddenSize: HIDDEN };
  }
  get contextLength(): number {
    return this.toy.contextLength;
  }
  async forward(tokens: readonly number[], parents: readonly number[], options?: ForwardOptions): Promise<Float32Array> {
    const logits = await this.toy.forward(tokens, parents, options);
    const V = this.toy.info.vocabSize;
    const rows = logits.length / V;
    this.hidden = new Float32Array(rows * HIDDEN);
    for (let r = 0; r < rows; r++) for (let k = 0; k < HIDDEN; k++) this.hidden[r * HIDDEN + k] = logits[r * V + (k % V)]! * (1 + k);
    return logits;
  }
  lastHiddenStates(): Float32Array | undefined {
    return this.hidden;
  }
  commit(nodes: readonly number[]): void {
    this.toy.commit(nodes);
  }
  truncate(n: number): void {
    this.toy.truncate(n);
  }
  async dispose(): Promise<void> {}
}

async function toySpeculator(vocab: number, seed: number): Promise<{ runner: SpeculationRunner; dispose: () => Promise<void> }> {
  const dir = tempSpeculatorDir('decode');
  dirs.push(dir);
  writeTinySpeculator(dir, { nPredict: 3, innerDim: 16, embDim: HIDDEN, vocabSize: vocab, seed, tieWeights: true });
  const runtime = await SpeculatorRuntime.create(loadSpeculatorCheckpoint(dir));
  return { runner: runnerFromRuntime(runtime), dispose: () => runtime.dispose() };
}

function naiveGreedy(model: ToyModel, prompt: readonly number[], maxTokens: number): number[] {
  const seq = [...prompt];
  for (let i = 0; i < maxTokens; i++) seq.push(argmax(model.logitsAfter(seq), 0, model.info.vocabSize));
  return seq.slice(prompt.length);
}

/** The speculator runs after every step (its gate off), for the tests of what its verified nodes do. */
const UNGATED = { speculator: { gate: false }, 'hybrid+speculator': { gate: false } };

const decodeText = (ids: readonly number[]): string => ids.map((t) => String.fromCharCode(65 + t)).join('');

test('toy model: greedy identical with speculator and hybrid+speculator, and the speculator\'s nodes are accepted', async () => {
  for (const seed of [1, 2, 3]) {
    const toy = new ToyModel({ vocabSize: 6, order: 2, seed: 30 + seed, sharpness: 1.5 });
    const spec = await toySpeculator(6, seed);
    try {
      const want = naiveGreedy(toy, [1, 2, 3], 60);
      for (const name of ['speculator', 'hybrid+speculator']) {
        const model = new HiddenToy(new ToyModel({ vocabSize: 6, order: 2, seed: 30 + seed, sharpness: 1.5 }));
        // the gate off: this test is about what the speculator's nodes do when verified, not about when to run it
        const decoder = new Decoder({ model, drafter: makeDrafter(name, UNGATED), decode: decodeText, speculator: spec.runner, learnCost: false });
        const r = await decoder.generate({ requestId: 'r', prompt: [1, 2, 3], maxTokens: 60, fixedDraftTokens: 6 });
        assert.deepEqual(r.tokens, want, `${name}, seed ${seed}`);
        assert.ok(r.metrics.draftedTokens > 0, `${name}: the speculator drafted`);
        // six tokens, three heads, top-4/3/2: a random speculator still hits now and then
        if (name === 'speculator') assert.ok((r.metrics.acceptedByDrafter.speculator ?? 0) > 0, `${name}: nothing of the speculator accepted (seed ${seed})`);
      }
      // without a runner the speculator drafter drafts nothing: plain decoding
      const bare = new Decoder({ model: new HiddenToy(new ToyModel({ vocabSize: 6, order: 2, seed: 30 + seed, sharpness: 1.5 })), drafter: makeDrafter('speculator'), decode: decodeText });
      const plain = await bare.generate({ requestId: 'r', prompt: [1, 2, 3], maxTokens: 20 });
      assert.equal(plain.metrics.draftedTokens, 0);
      assert.deepEqual(plain.tokens, want.slice(0, 20));
    } finally {
      await spec.dispose();
    }
  }
});

test('sampling with hybrid+speculator is distributed as plain sampling (chi-square, and power against T=1.5)', async () => {
  const runs = 3000;
  const depth = 3;
  const make = (): ToyModel => new ToyModel({ vocabSize: 5, order: 2, seed: 11, sharpness: 2 });
  const spec = await toySpeculator(5, 9);
  try {
    const decoder = new Decoder({ model: new HiddenToy(make()), drafter: makeDrafter('hybrid+speculator', UNGATED), decode: decodeText, speculator: spec.runner, learnCost: false });
    const counts = new Map<string, number>();
    let fromSpeculator = 0;
    for (let s = 0; s < runs; s++) {
      const r = await decoder.generate({ requestId: `s${s}`, prompt: [1, 3], maxTokens: depth, sampling: { temperature: 1, seed: 5000 + s }, fixedDraftTokens: 6, learn: false });
      fromSpeculator += r.metrics.acceptedByDrafter.speculator ?? 0;
      const key = r.tokens.join(',');
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    assert.ok(fromSpeculator > runs / 10, `the speculator's nodes were accepted ${fromSpeculator} times`);
    const { stat, df } = chiSquare(counts, jointTarget(make(), [1, 3], { temperature: 1 }, depth), runs);
    assert.ok(df >= 10, `df ${df}`);
    assert.ok(stat < chiSquareCritical(df), `chi2 ${stat.toFixed(1)} >= ${chiSquareCritical(df).toFixed(1)} (df ${df})`);
    const wrong = chiSquare(counts, jointTarget(make(), [1, 3], { temperature: 1.5 }, depth), runs);
    assert.ok(wrong.stat > chiSquareCritical(wrong.df), `the test cannot tell T=1.5 from T=1 (chi2 ${wrong.stat})`);
  } finally {
    await spec.dispose();
  }
});

test('demo model with its trained speculator: greedy identical alone and combined, speculator tokens accepted', async (t) => {
  const demo = path.resolve('models/demo');
  const specDir = speculatorDirFor(demo);
  assert.ok(specDir, 'the trained speculator ships beside the demo model (models/demo-speculator)');
  const replay = sharedPath('bench', 'replay', 'requests.jsonl');
  if (!fs.existsSync(replay)) return t.skip(`no replay data at ${replay}`);
  const cacheDir = tempSpeculatorDir('graphs');
  dirs.push(cacheDir);
  const ckpt = await loadCheckpoint(demo, { cacheDir, threads: 1, hiddenStates: true });
  const runner = await openSpeculator(demo, 'speculator', ckpt.info, { threads: 1 });
  assert.ok(runner);
  try {
    const records = loadRecords(replay).filter((r) => r.task === 'complete').slice(0, 2);
    let accepted = 0;
    for (const [i, r] of records.entries()) {
      const prompt = ckpt.tokenizer.encode(r.prompt).slice(-192);
      const outputs: number[][] = [];
      for (const name of ['none', 'speculator', 'hybrid+speculator']) {
        const drafter = makeDrafter(name, UNGATED);
        const decoder = new Decoder({ model: ckpt.model, ...(drafter ? { drafter } : {}), decode: (ids) => ckpt.tokenizer.decode(ids), speculator: runner });
        // A fixed tree size: the cost-based sizing follows measured timings, which a busy machine can push to
        // trees of nothing, and this test is about what is accepted, not about speed.
        const res = await decoder.generate({ requestId: `d${i}${name}`, prompt, maxTokens: 32, speculative: name !== 'none', fixedDraftTokens: 8 });
        outputs.push(res.tokens);
        accepted += res.metrics.acceptedByDrafter.speculator ?? 0;
      }
      assert.deepEqual(outputs[1], outputs[0], `speculator differs from greedy on ${r.id}`);
      assert.deepEqual(outputs[2], outputs[0], `hybrid+speculator differs from greedy on ${r.id}`);
    }
    assert.ok(accepted > 0, 'no speculator token was accepted on the demo model');
  } finally {
    await runner.dispose();
    await ckpt.model.dispose();
  }
});

/**
 * A speculator that is always wrong: it reads the toy model's context, so it knows the greedy next token and
 * proposes another one (with confidence), and it takes a few milliseconds per run, like a real one.
 */
const GATE_TOY = { vocabSize: 16, order: 3, seed: 41, sharpness: 1.2 };

function wrongRunner(toy: ToyModel, runMs: number): SpeculationRunner & { runs: number } {
  const V = toy.info.vocabSize;
  const runner = {
    depth: 3,
    runs: 0,
    async expand(_hidden: Float32Array, lastToken: number): Promise<Speculation> {
      runner.runs++;
      const until = performance.now() + runMs;
      while (performance.now() < until) { /* the speculator's time */ }
      const next = argmax(toy.logitsAfter([...toy.context, lastToken]), 0, V);
      const wrong = (next + 1) % V;
      return { tokens: [wrong, (wrong + 1) % V, (wrong + 2) % V], parents: [-1, 0, 1], probs: [0.95, 0.95, 0.95] };
    },
  };
  return runner;
}

test('the gate stops running a speculator whose drafts are never accepted (graph runs counted), and can be switched off', async () => {
  for (const name of ['speculator', 'hybrid+speculator']) {
    const counted: Record<string, { steps: number; runs: number }> = {};
    for (const gate of [true, false]) {
      const toy = new ToyModel(GATE_TOY);
      const runner = wrongRunner(toy, 2);
      const decoder = new Decoder({ model: new HiddenToy(toy), drafter: makeDrafter(name, { [name]: { gate } }), decode: decodeText, speculator: runner, learnCost: false, costCurve: () => 4 });
      // the first request calibrates the gate; the second is counted
      for (const [i, prompt] of [[1, 2, 3], [4, 5, 6]].entries()) {
        runner.runs = 0;
        const r = await decoder.generate({ requestId: `g${i}`, prompt, maxTokens: 160 });
        assert.deepEqual(r.tokens, naiveGreedy(new ToyModel(GATE_TOY), prompt, 160), `${name}, gate ${gate}: greedy output changed`);
        assert.equal(r.metrics.acceptedByDrafter.speculator ?? 0, 0, 'the wrong speculator was accepted');
        counted[String(gate)] = { steps: r.metrics.steps, runs: runner.runs };
      }
    }
    const on = counted.true!;
    const off = counted.false!;
    // ungated it runs after the prefill and after every verification but the last
    assert.equal(off.runs, off.steps - 1, `${name}: ungated runs`);
    // gated, once calibrated, it runs only in shadow, once per exploreEvery (16) steps
    assert.ok(on.runs <= on.steps / 16 + 2, `${name}: ${on.runs} gated runs in ${on.steps} steps`);
    assert.ok(on.runs >= Math.floor(on.steps / 16) - 1, `${name}: the gate must still explore (${on.runs} runs in ${on.steps} steps)`);
  }
});
