// Lossless speculative sampling on a real tiny ORT checkpoint: the empirical joint law of the first two generated
// tokens over many seeded runs matches the target computed from plain forwards (chi-square, p = 0.001).
// With 8000 runs, a 15% bias in the acceptance test gives chi2 ≈ 120 against a critical value of ≈ 67.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { chiSquare } from '../../engine/decode/chiSquare';
import { Decoder } from '../../engine/decode/decoder';
import { targetDistribution, type SamplingOptions } from '../../engine/decode/sampling';
import { ScriptedDrafter } from '../../engine/decode/scriptedDrafter';
import { loadModel, writeTinyCheckpoint, type LoadedModel } from '../../engine/model/index';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'presage-sampling-'));
let loaded: LoadedModel;
const VOCAB = 6;

before(async () => {
  const out = path.join(root, 'model');
  await writeTinyCheckpoint({ out, arch: 'llama', layers: 1, hidden: 16, heads: 2, kvHeads: 1, intermediate: 24, vocabSize: VOCAB, seed: 13 });
  loaded = await loadModel(out, { cacheDir: path.join(root, 'cache'), threads: 1 });
}, { timeout: 180_000 });
after(async () => {
  await loaded.model.dispose();
  fs.rmSync(root, { recursive: true, force: true });
});

async function logitsAfter(sequence: number[]): Promise<Float32Array> {
  const m = loaded.model;
  m.truncate(0);
  const logits = await m.forward(sequence, sequence.map((_, i) => i - 1));
  m.commit([]);
  return logits.slice((sequence.length - 1) * VOCAB, sequence.length * VOCAB);
}

test('speculative sampling on a tiny ORT model matches the target joint distribution', { timeout: 120_000 }, async () => {
  const prompt = [1, 4, 2];
  const sampling: SamplingOptions = { temperature: 1.5 };
  const target = new Map<string, number>();
  const p1 = targetDistribution(await logitsAfter(prompt), 0, VOCAB, sampling);
  for (let a = 0; a < VOCAB; a++) {
    const p2 = targetDistribution(await logitsAfter([...prompt, a]), 0, VOCAB, sampling);
    for (let b = 0; b < VOCAB; b++) target.set(`${a},${b}`, p1[a]! * p2[b]!);
  }
  // Several candidate children at the root, one grandchild: rejection runs over siblings at two depths.
  const drafter = new ScriptedDrafter('bushy', () => ({
    tokens: [5, 3, 4, 5, 3, 0], parents: [-1, -1, -1, 0, 0, 1], probs: [0.5, 0.4, 0.3, 0.2, 0.2, 0.1], score: 1.7, matchLen: 1,
  }));
  const decoder = new Decoder({ model: loaded.model, drafter, decode: (ids) => ids.join(' ') });
  const runs = 8000;
  const counts = new Map<string, number>();
  for (let s = 0; s < runs; s++) {
    // Three tokens so that the second comes out of a verified tree (the first comes from the prefill).
    const r = await decoder.generate({ requestId: `s${s}`, prompt, maxTokens: 3, sampling: { ...sampling, seed: 7000 + s }, fixedDraftTokens: 6 });
    const key = r.tokens.slice(0, 2).join(',');
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const { stat, df } = chiSquare(counts, target, runs);
  const a = 2 / (9 * df);
  const critical = df * Math.pow(1 - a + 3.09 * Math.sqrt(a), 3);
  assert.ok(df >= 5, `df ${df}`);
  assert.ok(stat < critical, `chi2 ${stat.toFixed(1)} >= ${critical.toFixed(1)} (df ${df})`);
});
