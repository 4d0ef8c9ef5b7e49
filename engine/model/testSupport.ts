// Shared helpers for the model runtime tests: tiny checkpoints in temp folders and the reference oracle.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openCheckpoint, readWeight, type Checkpoint } from './checkpoint';
import { writeTinyCheckpoint, type TinyCheckpointOptions } from './index';
import { referenceLogits, type WeightLookup } from './reference';

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `presage-${prefix}-`));
}

export async function tinyCheckpoint(options: Omit<TinyCheckpointOptions, 'out'>): Promise<{ dir: string; ckpt: Checkpoint }> {
  const dir = tempDir('tiny');
  await writeTinyCheckpoint({ ...options, out: dir });
  return { dir, ckpt: openCheckpoint(dir) };
}

export function checkpointWeights(ckpt: Checkpoint): WeightLookup {
  const cache = new Map<string, Float32Array>();
  return (name) => {
    let w = cache.get(name);
    if (!w) {
      const entry = ckpt.tensors.get(name);
      if (!entry) throw new Error(`missing ${name}`);
      w = readWeight(ckpt, name, entry.shape);
      cache.set(name, w);
    }
    return w;
  };
}

export function reference(ckpt: Checkpoint, tokens: readonly number[], weights = checkpointWeights(ckpt)): Float64Array[] {
  return referenceLogits(ckpt.config, weights, tokens);
}

/** Asserts one row of logits equals the reference to `tol` relative to the row's largest magnitude. */
export function assertRowClose(actual: Float32Array, row: number, expected: Float64Array, tol: number, what: string): void {
  const v = expected.length;
  let scale = 1e-6;
  for (let i = 0; i < v; i++) scale = Math.max(scale, Math.abs(expected[i]!));
  let worst = 0;
  for (let i = 0; i < v; i++) worst = Math.max(worst, Math.abs(actual[row * v + i]! - expected[i]!) / scale);
  assert.ok(worst <= tol, `${what}: relative error ${worst.toExponential(2)} exceeds ${tol}`);
}

export function argmax(logits: Float32Array | Float64Array, row: number, vocab: number): number {
  let best = 0;
  for (let i = 1; i < vocab; i++) if (logits[row * vocab + i]! > logits[row * vocab + best]!) best = i;
  return best;
}
