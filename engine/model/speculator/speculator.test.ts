// The speculator's ONNX graph against the float64 reference, the accelerator checkpoint checks, and the top-k
// expansion's tree shape.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { loadSpeculatorCheckpoint, mixingWeights } from './checkpoint';
import { erf, speculatorStepReference } from './reference';
import { SpeculatorRuntime } from './runtime';
import { tempSpeculatorDir, writeTinySpeculator } from './testSupport';

const dirs: string[] = [];
after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
function fresh(label: string): string {
  const d = tempSpeculatorDir(label);
  dirs.push(d);
  return d;
}

test('erf matches known values', () => {
  for (const [x, y] of [[0, 0], [0.5, 0.5204998778130465], [1, 0.8427007929497149], [2, 0.9953222650189527], [3, 0.9999779095030014], [-1.5, -0.9661051464753108]] as const) {
    assert.ok(Math.abs(erf(x) - y) < 1e-12, `erf(${x}) = ${erf(x)}, expected ${y}`);
  }
});

test('mixing weights follow fms-extras (w_s = 0.5^(0.5/n), w_e = sqrt((1 - w_s²) · inner/2))', () => {
  const { stateWeight, embWeight } = mixingWeights({ nPredict: 4, innerDim: 32 });
  assert.ok(Math.abs(stateWeight - 0.5 ** 0.125) < 1e-15);
  assert.ok(Math.abs(embWeight - Math.sqrt((1 - 0.5 ** 0.25) * 16)) < 1e-12);
});

for (const tie of [false, true]) {
  test(`graph agrees with the float64 reference to 1e-4 on every head (tie_weights ${tie})`, async () => {
    const dir = fresh(`graph-${tie}`);
    writeTinySpeculator(dir, { tieWeights: tie, seed: tie ? 7 : 3 });
    const ckpt = loadSpeculatorCheckpoint(dir);
    const rt = await SpeculatorRuntime.create(ckpt);
    try {
      await fc.assert(fc.asyncProperty(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 0, max: 1 << 30 }), async (rows, seed) => {
        let s = seed + 1;
        const rand = (): number => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
        let state: Float32Array = Float32Array.from({ length: rows * ckpt.config.embDim }, () => rand() * 3);
        for (let head = 0; head < ckpt.config.nPredict; head++) {
          const tokens = Array.from({ length: rows }, () => Math.floor(((rand() + 1) / 2) * ckpt.config.vocabSize) % ckpt.config.vocabSize);
          const got = await rt.step(head, state, tokens);
          const want = speculatorStepReference(ckpt, head, Float64Array.from(state), tokens);
          for (let i = 0; i < want.logits.length; i++) assert.ok(Math.abs(got.logits[i]! - want.logits[i]!) < 1e-4, `head ${head} logit ${i}: ${got.logits[i]} vs ${want.logits[i]}`);
          for (let i = 0; i < want.state.length; i++) assert.ok(Math.abs(got.state[i]! - want.state[i]!) < 1e-4);
          state = got.state;
        }
      }), { numRuns: 12 });
    } finally {
      await rt.dispose();
    }
  });
}

test('stepTop: the top-k tokens and probe probabilities equal the float64 reference softmax (1e-5)', async () => {
  const dir = fresh('top');
  writeTinySpeculator(dir, { seed: 5 });
  const ckpt = loadSpeculatorCheckpoint(dir);
  const rt = await SpeculatorRuntime.create(ckpt);
  const V = ckpt.config.vocabSize;
  try {
    await fc.assert(fc.asyncProperty(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 6 }), fc.array(fc.array(fc.nat(V - 1), { maxLength: 3 }), { maxLength: 4 }), fc.integer({ min: 0, max: 1 << 30 }), async (rows, k, probeLists, seed) => {
      let s = seed + 1;
      const rand = (): number => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
      const state = Float32Array.from({ length: rows * ckpt.config.embDim }, () => rand() * 3);
      const tokens = Array.from({ length: rows }, (_, r) => (r * 37 + seed) % V);
      const probes = Array.from({ length: rows }, (_, r) => probeLists[r] ?? []);
      const got = await rt.stepTop(0, state, tokens, k, probes);
      const ref = speculatorStepReference(ckpt, 0, Float64Array.from(state), tokens).logits;
      for (let r = 0; r < rows; r++) {
        const row = Array.from({ length: V }, (_, v) => ref[r * V + v]!);
        const max = Math.max(...row);
        const z = row.reduce((acc, x) => acc + Math.exp(x - max), 0);
        const p = row.map((x) => Math.exp(x - max) / z);
        const order = p.map((_, v) => v).sort((a, b) => p[b]! - p[a]!);
        assert.equal(got.top[r]!.length, Math.min(k, V));
        got.top[r]!.forEach(({ token, p: q }, i) => {
          assert.ok(Math.abs(q - p[token]!) < 1e-5, `row ${r}: p(${token}) ${q} vs ${p[token]}`);
          assert.ok(Math.abs(p[token]! - p[order[i]!]!) < 1e-5, `row ${r}: rank ${i} is ${token}, the reference ranks ${order[i]} there`);
        });
        probes[r]!.forEach((t, i) => assert.ok(Math.abs(got.probeP[r]![i]! - p[t]!) < 1e-5, `row ${r}: probe ${t}`));
      }
    }), { numRuns: 20 });
  } finally {
    await rt.dispose();
  }
});

test('expand: top-k per head, each (parent, token) once, grafted paths continued', async () => {
  const dir = fresh('expand');
  writeTinySpeculator(dir, { nPredict: 3, seed: 11 });
  const ckpt = loadSpeculatorCheckpoint(dir);
  const rt = await SpeculatorRuntime.create(ckpt);
  try {
    const hidden = Float32Array.from({ length: ckpt.config.embDim }, (_, i) => Math.sin(i));
    const graft = [7, 8, 9];
    const tree = await rt.expand(hidden, 3, { topK: [3, 2, 2], expandPerDepth: 2, graftPaths: [graft] });
    const depth = (j: number): number => (tree.parents[j]! < 0 ? 0 : depth(tree.parents[j]!) + 1);
    const seen = new Set<string>();
    tree.tokens.forEach((t, j) => {
      assert.ok(tree.parents[j]! < j, 'topological order');
      const key = `${tree.parents[j]}:${t}`;
      assert.ok(!seen.has(key), `duplicate child ${key}`);
      seen.add(key);
      assert.ok(tree.probs[j]! > 0 && tree.probs[j]! <= 1);
      assert.ok(depth(j) < 3);
    });
    // head 0's top 3 plus the graft's first token
    const roots = tree.tokens.filter((_, j) => tree.parents[j] === -1);
    assert.ok(roots.length === 3 || roots.length === 4);
    // the root's children are head 0's best tokens for (hidden, 3), as the reference ranks them
    const ref = speculatorStepReference(ckpt, 0, Float64Array.from(hidden), [3]).logits;
    const best = [...ref.keys()].sort((a, b) => ref[b]! - ref[a]!).slice(0, 3);
    for (const t of best) assert.ok(roots.includes(t), `head 0's top token ${t} is a root`);
    // the grafted path is in the tree, whole
    let parent = -1;
    for (const t of graft) {
      const j = tree.tokens.findIndex((x, k) => x === t && tree.parents[k] === parent);
      assert.ok(j >= 0, `graft token ${t} under ${parent}`);
      parent = j;
    }
  } finally {
    await rt.dispose();
  }
});

test('a malformed checkpoint gets a clear error naming the problem', () => {
  const cases: [string, (dir: string) => void, RegExp][] = [
    ['no config', (d) => fs.rmSync(path.join(d, 'config.json')), /no config\.json/],
    ['bad json', (d) => fs.writeFileSync(path.join(d, 'config.json'), '{'), /not valid JSON/],
    ['n_predict missing', (d) => patchConfig(d, { n_predict: undefined }), /"n_predict" must be an integer/],
    ['wrong model type', (d) => patchConfig(d, { model_type: 'llama' }), /expected "mlp_speculator"/],
    ['inner_dim mismatch', (d) => patchConfig(d, { inner_dim: 17 }), /tensor emb\.0\.weight has shape \[50, 16\], expected \[50, 17\]/],
    ['bad top-k', (d) => patchConfig(d, { top_k_tokens_per_head: [4] }), /top_k_tokens_per_head/],
    ['no weights', (d) => fs.rmSync(path.join(d, 'model.safetensors')), /no model\.safetensors/],
    ['truncated weights', (d) => fs.truncateSync(path.join(d, 'model.safetensors'), 40), /header length|truncated/],
    ['tensor missing', (d) => patchConfig(d, { n_predict: 4, top_k_tokens_per_head: [4, 3, 2, 2] }), /missing tensor emb\.3\.weight/],
  ];
  for (const [label, damage, message] of cases) {
    const dir = fresh('bad');
    writeTinySpeculator(dir, { nPredict: 3 });
    damage(dir);
    assert.throws(() => loadSpeculatorCheckpoint(dir), message, label);
  }
  const dir = fresh('mismatch');
  writeTinySpeculator(dir);
  assert.throws(() => loadSpeculatorCheckpoint(dir, { hiddenSize: 32, vocabSize: 50 }), /emb_dim 24 does not match the base model's hidden size 32/);
});

function patchConfig(dir: string, patch: Record<string, unknown>): void {
  const file = path.join(dir, 'config.json');
  const config = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  fs.writeFileSync(file, JSON.stringify({ ...config, ...patch }));
}
