// Shared helpers for the model runtime tests: tiny checkpoints in temp folders and the reference oracle.
import assert from 'node:assert/strict';
import { after } from 'node:test';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openCheckpoint, readWeight, type Checkpoint } from './checkpoint';
import { loadCheckpoint, loadModel, writeTinyCheckpoint, type LoadedCheckpoint, type TinyCheckpointOptions } from './index';
import { dequantizeWeight, quantizeWeight } from './quantize';
import { referenceLogits, type WeightLookup } from './reference';
import type { Model } from './types';
import { sharedPath } from '../sharedPaths';

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

/** A test file's graph cache and tiny checkpoints, removed when its tests end. */
export function scratchCheckpoints(prefix: string): { cacheDir: string; fresh(options: Omit<TinyCheckpointOptions, 'out'>): Promise<string>; track(p: string): void } {
  const cacheDir = tempDir(`graphs-${prefix}`);
  const dirs = [cacheDir];
  after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
  return {
    cacheDir,
    async fresh(options) {
      const { dir } = await tinyCheckpoint(options);
      dirs.push(dir);
      return dir;
    },
    /** Removes `p` (a file or folder the test made) with the rest. */
    track(p) {
      dirs.push(p);
    },
  };
}

/** Rewrites a checkpoint's config.json through `edit`. */
export function editConfig(dir: string, edit: (c: Record<string, unknown>) => void): void {
  const file = path.join(dir, 'config.json');
  const c = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  edit(c);
  fs.writeFileSync(file, JSON.stringify(c));
}

/**
 * Loading must fail with `pattern` within 2 s (a guard against hangs and runaway work) and, with `maxGrowth`,
 * without the process growing by that many bytes (nothing allocated from the lie's values).
 */
export async function rejectsFast(dir: string, pattern: RegExp, cacheDir: string, maxGrowth?: number): Promise<void> {
  const rss0 = process.memoryUsage().rss;
  const t0 = performance.now();
  await assert.rejects(loadModel(dir, { cacheDir }), pattern);
  const ms = performance.now() - t0;
  assert.ok(ms < 2000, `the error took ${ms.toFixed(0)} ms`);
  const grown = process.memoryUsage().rss - rss0;
  if (maxGrowth !== undefined) assert.ok(grown < maxGrowth, `rejecting it grew the process by ${(grown / 2 ** 20).toFixed(0)} MB`);
}

/**
 * The checkpoint's weights as a MatMulNBits graph computes with them: the linear layers, the head and the embedding
 * table quantized (`bits`, blocks of 32) and dequantized; norms as they are.
 */
export function dequantizedWeights(ckpt: Checkpoint, bits: 4 | 8): WeightLookup {
  const raw = checkpointWeights(ckpt);
  return (name) => {
    const w = raw(name);
    if (!/(_proj|lm_head|embed_tokens)\.weight$/.test(name)) return w;
    const [n, k] = ckpt.tensors.get(name)!.shape as [number, number];
    return dequantizeWeight(quantizeWeight(w, n, k, bits, 32));
  };
}

/**
 * Commits `prompt` on an empty `model`, forwards the tree (`tokens` under `parents`, -1 = after the prompt) and checks
 * every node's logits against the reference of the prompt plus the node's path.
 */
export async function assertTreeMatchesReference(
  model: Model,
  ckpt: Checkpoint,
  weights: WeightLookup,
  prompt: readonly number[],
  tree: { tokens: readonly number[]; parents: readonly number[] },
  tol: number,
  what: string,
): Promise<void> {
  await model.forward([...prompt], prompt.map((_, i) => i - 1));
  model.commit(prompt.map((_, i) => i));
  const logits = await model.forward([...tree.tokens], [...tree.parents]);
  for (let j = 0; j < tree.tokens.length; j++) {
    const path: number[] = [];
    for (let a = j; a !== -1; a = tree.parents[a]!) path.unshift(tree.tokens[a]!);
    const ref = reference(ckpt, [...prompt, ...path], weights);
    assertRowClose(logits, j, ref[ref.length - 1]!, tol, `${what} node ${j}`);
  }
}

/**
 * The two tiny checkpoints with real tokenizers that decoding tests run on (llama with GPT-2's, qwen2 with
 * cl100k's), written under `root` with the given seeds and loaded single-threaded.
 */
export async function tokenizerCheckpoints(root: string, cacheDir: string, seeds: readonly [number, number]): Promise<{ name: string; ckpt: LoadedCheckpoint }[]> {
  const specs = [
    { name: 'llama-gpt2', arch: 'llama' as const, hidden: 32, heads: 4, kvHeads: 2, intermediate: 48, tokenizerDir: sharedPath('tokenizers/gpt2'), seed: seeds[0] },
    { name: 'qwen2-cl100k', arch: 'qwen2' as const, hidden: 32, heads: 4, kvHeads: 1, intermediate: 40, tokenizerDir: sharedPath('tokenizers/cl100k'), seed: seeds[1] },
  ];
  const loaded: { name: string; ckpt: LoadedCheckpoint }[] = [];
  for (const s of specs) {
    const out = path.join(root, s.name);
    await writeTinyCheckpoint({ out, layers: 2, ...s });
    loaded.push({ name: s.name, ckpt: await loadCheckpoint(out, { cacheDir, threads: 1 }) });
  }
  return loaded;
}
