// Speculative output equals greedy output token for token with int8 and int4 weights: on the demo model over the
// replay prompts, and on tiny random checkpoints in a property test. Both rely on the runtime's batch-invariant
// verification (engine/model/batchInvariance.test.ts checks the logits themselves).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { Decoder } from './decoder';
import { makeDrafter } from './drafters';
import { noisyOracle } from './noisyOracle';
import { loadCheckpoint, loadModel, writeTinyCheckpoint } from '../model/index';
import type { Model, Quantization } from '../model/types';
import { sharedPath } from '../sharedPaths';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'presage-lossless-'));
const cacheDir = path.join(root, 'graphs');
after(() => fs.rmSync(root, { recursive: true, force: true }));

/** Trees around the greedy continuation: the true path with wrong siblings, random branches and early breaks. */
const noisy = (truth: readonly number[], promptLength: number, vocab: number, seed: number) => noisyOracle(truth, promptLength, vocab, seed, { name: 'noisy-oracle', branchRate: 0.4, siblingProb: 0.2 });

async function greedyAndSpeculative(model: Model, prompt: readonly number[], maxTokens: number, seed: number, references: readonly (readonly number[])[] = []): Promise<{ greedy: number[]; spec: number[][]; mat: number }> {
  const decode = (ids: readonly number[]): string => ids.join(' ');
  const plain = new Decoder({ model, decode, learnCost: false });
  const greedy = (await plain.generate({ requestId: 'g', prompt, maxTokens, speculative: false })).tokens;
  const spec: number[][] = [];
  let mat = 0;
  for (const [i, drafter] of [noisy(greedy, prompt.length, model.info.vocabSize, seed), makeDrafter('hybrid')!].entries()) {
    const d = new Decoder({ model, drafter, decode, learnCost: false });
    const r = await d.generate({ requestId: `s${i}`, prompt, maxTokens, references, ...(i === 0 ? { fixedDraftTokens: 12 } : {}) });
    spec.push(r.tokens);
    if (i === 0) mat = r.metrics.mat;
  }
  return { greedy, spec, mat };
}

interface ReplayRecord { prompt: string; references: string[] }
function replayPrompts(perFile: number): ReplayRecord[] {
  const out: ReplayRecord[] = [];
  for (const file of ['llama-vscode.jsonl', 'requests.jsonl']) {
    const lines = fs.readFileSync(path.join(sharedPath('bench/replay'), file), 'utf8').split('\n').filter(Boolean);
    for (let i = 0; i < perFile; i++) {
      const r = JSON.parse(lines[i * 3]!) as ReplayRecord;
      out.push({ prompt: r.prompt.slice(-3000), references: r.references.map((x) => x.slice(0, 2000)) });
    }
  }
  return out;
}

const demoDir = path.resolve(__dirname, '..', '..', 'models', 'demo');

for (const quantization of ['int8', 'int4'] as Quantization[]) {
  test(`demo model, ${quantization}: speculative == greedy token for token over the replay prompts`, { timeout: 600_000 }, async (t) => {
    if (!fs.existsSync(path.join(demoDir, 'model.safetensors'))) return t.skip('models/demo is not present');
    const ckpt = await loadCheckpoint(demoDir, { cacheDir, quantization });
    try {
      let mats = 0;
      const records = replayPrompts(4);
      for (const [i, rec] of records.entries()) {
        const prompt = ckpt.tokenizer.encode(rec.prompt);
        const refs = rec.references.map((r) => ckpt.tokenizer.encode(r));
        const { greedy, spec, mat } = await greedyAndSpeculative(ckpt.model, prompt, 64, 100 + i, refs);
        assert.equal(greedy.length, 64);
        spec.forEach((s, k) => assert.deepEqual(s, greedy, `${quantization} record ${i} (${prompt.length} prompt tokens) ${k === 0 ? 'noisy oracle' : 'hybrid'}`));
        mats += mat;
      }
      assert.ok(mats / records.length > 2, `the noisy oracle got long paths accepted (mean MAT ${(mats / records.length).toFixed(2)})`);
    } finally {
      await ckpt.model.dispose();
    }
  });
}

test('tiny random checkpoints, int8 and int4: speculative == greedy (property)', { timeout: 600_000 }, async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.record({
        arch: fc.constantFrom('llama', 'qwen2'),
        kvHeads: fc.constantFrom(1, 2),
        quantization: fc.constantFrom<Quantization>('int8', 'int4'),
        seed: fc.integer({ min: 1, max: 1000 }),
        prompt: fc.array(fc.integer({ min: 0, max: 199 }), { minLength: 1, maxLength: 60 }),
      }),
      async ({ arch, kvHeads, quantization, seed, prompt }) => {
        const out = path.join(root, `tiny-${arch}-${kvHeads}-${seed}`);
        if (!fs.existsSync(out)) await writeTinyCheckpoint({ out, arch, layers: 2, hidden: 64, heads: 4, kvHeads, intermediate: 96, seed, vocabSize: 200 });
        const { model } = await loadModel(out, { cacheDir, quantization, threads: 2 });
        try {
          const { greedy, spec } = await greedyAndSpeculative(model, prompt, 40, seed);
          spec.forEach((s) => assert.deepEqual(s, greedy));
        } finally {
          await model.dispose();
        }
      },
    ),
    { numRuns: 10, seed: 14 },
  );
});
