// Token selection: seeded PRNG, the target distribution (temperature, top-k, top-p) and argmax.
import { sfc32 } from '../random';

/** Sampling settings; temperature 0 (or undefined) means greedy. */
export interface SamplingOptions {
  temperature?: number;
  topP?: number;
  topK?: number;
  seed?: number;
}

export type Rng = () => number;

/** sfc32 seeded from a 32-bit integer: uniform floats in [0, 1). */
export function createRng(seed: number): Rng {
  return sfc32(0x9e3779b9, 0x243f6a88, 0xb7e15162, seed >>> 0, 12);
}

export function isGreedy(options: SamplingOptions): boolean {
  return !(options.temperature !== undefined && options.temperature > 0);
}

/** Index of the largest logit of row `row` (lowest index wins ties). */
export function argmax(logits: Float32Array, row: number, vocab: number): number {
  const base = row * vocab;
  let best = 0;
  let bestValue = logits[base]!;
  for (let i = 1; i < vocab; i++) {
    const v = logits[base + i]!;
    if (v > bestValue) {
      bestValue = v;
      best = i;
    }
  }
  return best;
}

/**
 * The distribution plain sampling draws from: softmax(logits / T), then top-k, then top-p (nucleus), renormalised.
 * Returns a dense Float64Array of length vocab that sums to 1.
 */
export function targetDistribution(logits: Float32Array, row: number, vocab: number, options: SamplingOptions): Float64Array {
  const t = options.temperature ?? 0;
  if (!(t > 0)) throw new Error('targetDistribution needs a temperature > 0 (use argmax for greedy)');
  const base = row * vocab;
  let max = -Infinity;
  for (let i = 0; i < vocab; i++) max = Math.max(max, logits[base + i]!);
  const p = new Float64Array(vocab);
  let sum = 0;
  for (let i = 0; i < vocab; i++) {
    const e = Math.exp((logits[base + i]! - max) / t);
    p[i] = e;
    sum += e;
  }
  for (let i = 0; i < vocab; i++) p[i]! /= sum;
  const topK = options.topK !== undefined && options.topK > 0 ? Math.floor(options.topK) : 0;
  const topP = options.topP !== undefined && options.topP > 0 && options.topP < 1 ? options.topP : 1;
  if ((topK > 0 && topK < vocab) || topP < 1) {
    // Order by probability (index breaks ties) and keep the head that top-k and top-p allow.
    const order = Array.from({ length: vocab }, (_, i) => i).sort((x, y) => p[y]! - p[x]! || x - y);
    const limit = topK > 0 ? Math.min(topK, vocab) : vocab;
    let kept = 0;
    let mass = 0;
    while (kept < limit) {
      mass += p[order[kept]!]!;
      kept++;
      if (mass >= topP) break;
    }
    const keep = new Uint8Array(vocab);
    for (let i = 0; i < kept; i++) keep[order[i]!] = 1;
    let total = 0;
    for (let i = 0; i < vocab; i++) {
      if (!keep[i]) p[i] = 0;
      total += p[i]!;
    }
    for (let i = 0; i < vocab; i++) p[i]! /= total;
  }
  return p;
}

/** Draws an index from a distribution that sums to `total` (defaults to 1). */
export function sampleFrom(p: Float64Array, rng: Rng, total = 1): number {
  const u = rng() * total;
  let acc = 0;
  let last = -1;
  for (let i = 0; i < p.length; i++) {
    const v = p[i]!;
    if (v <= 0) continue;
    acc += v;
    last = i;
    if (u < acc) return i;
  }
  if (last < 0) throw new Error('sampleFrom: empty distribution');
  return last;
}
