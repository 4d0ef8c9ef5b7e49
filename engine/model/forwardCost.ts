// The forward-pass cost curve the decoder uses to size its trees: ms for S tree tokens after a context of C.
import type { Model } from './types';

export interface CostSample {
  s: number;
  context: number;
  /** Median over the repetitions. */
  ms: number;
  /** Fastest repetition (closest to the unloaded cost on a shared machine). */
  minMs?: number;
}

export interface ForwardCost {
  /** Estimated ms of one forward of s tree tokens after `context` committed tokens. */
  forwardCostMs(s: number, context: number): number;
  /** ms = a + b·s + c·context + d·s·context */
  coefficients: [number, number, number, number];
  samples: CostSample[];
}

function solve4(m: number[][], v: number[]): number[] {
  const a = m.map((row, i) => [...row, v[i]!]);
  for (let col = 0; col < 4; col++) {
    let pivot = col;
    for (let r = col + 1; r < 4; r++) if (Math.abs(a[r]![col]!) > Math.abs(a[pivot]![col]!)) pivot = r;
    [a[col], a[pivot]] = [a[pivot]!, a[col]!];
    const p = a[col]![col]!;
    if (Math.abs(p) < 1e-12) continue;
    for (let r = 0; r < 4; r++) {
      if (r === col) continue;
      const f = a[r]![col]! / p;
      for (let k = col; k <= 4; k++) a[r]![k]! -= f * a[col]![k]!;
    }
  }
  return a.map((row, i) => (Math.abs(row[i]!) < 1e-12 ? 0 : row[4]! / row[i]!));
}

/** Least-squares fit of the bilinear cost model; estimates are clamped to the smallest measured cost. */
export function fitForwardCost(samples: readonly CostSample[]): ForwardCost {
  if (samples.length === 0) throw new Error('fitForwardCost: no samples');
  // Normalise context so the normal equations are well conditioned.
  const k = 1000;
  const feats = samples.map((x) => [1, x.s, x.context / k, (x.s * x.context) / k]);
  const m = [0, 1, 2, 3].map((i) => [0, 1, 2, 3].map((j) => feats.reduce((acc, f) => acc + f[i]! * f[j]!, 0)));
  const v = [0, 1, 2, 3].map((i) => feats.reduce((acc, f, n) => acc + f[i]! * samples[n]!.ms, 0));
  const [a, b, c, d] = solve4(m, v) as [number, number, number, number];
  const floor = Math.min(...samples.map((x) => x.ms));
  const coefficients: [number, number, number, number] = [a, b, c / k, d / k];
  return {
    coefficients,
    samples: [...samples],
    forwardCostMs: (s, context) => Math.max(floor, a + b * s + (c * context) / k + (d * s * context) / k),
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** A binary-ish tree of s nodes (node j's parent is (j-1)/2), the shape speculative decoding verifies. */
export function benchTree(s: number): { tokens: number[]; parents: number[] } {
  const parents = Array.from({ length: s }, (_, j) => (j === 0 ? -1 : Math.floor((j - 1) / 2)));
  return { tokens: parents.map((_, j) => (j * 7 + 3) % 100), parents };
}

type SyntheticContext = { setSyntheticContext(n: number): void };

/**
 * Times forward passes for each tree size and context: one warm-up, then `reps` rounds that visit every cell in
 * turn (so a burst of load on a shared machine spreads over all cells); reports the median and the minimum.
 * Uses placeholder context K/V when the model supports it, otherwise prefills real tokens once per context.
 * Leaves the model with an empty context.
 */
export async function measureForwardCost(model: Model, sizes: readonly number[], contexts: readonly number[], reps = 3): Promise<CostSample[]> {
  const synthetic = typeof (model as Partial<SyntheticContext>).setSyntheticContext === 'function' ? (model as unknown as SyntheticContext) : undefined;
  const cells = contexts.flatMap((context) => sizes.map((s) => ({ s, context, times: [] as number[] })));
  const setContext = async (context: number): Promise<void> => {
    if (model.contextLength === context) return;
    model.truncate(0);
    if (synthetic) synthetic.setSyntheticContext(context);
    else if (context > 0) {
      const tokens = Array.from({ length: context }, (_, i) => (i * 13 + 1) % 100);
      await model.forward(tokens, tokens.map((_, i) => i - 1), { logitRows: [context - 1] });
      model.commit(tokens.map((_, i) => i));
    }
  };
  // Without synthetic context each context is prefilled once: visit contexts in the outer loop then.
  const rounds = synthetic ? [...Array(reps + 1).keys()].map((r) => cells.map((c) => ({ c, r }))) : [cells.flatMap((c) => [...Array(reps + 1).keys()].map((r) => ({ c, r })))];
  for (const round of rounds) {
    for (const { c, r } of round) {
      await setContext(c.context);
      const { tokens, parents } = benchTree(c.s);
      const t0 = performance.now();
      await model.forward(tokens, parents);
      const dt = performance.now() - t0;
      model.commit([]);
      if (r > 0) c.times.push(dt);
    }
  }
  model.truncate(0);
  return cells.map((c) => ({ s: c.s, context: c.context, ms: median(c.times), minMs: Math.min(...c.times) }));
}

/** A quick calibration at load: a few sizes at two contexts, fitted. */
export async function calibrateForwardCost(model: Model, reps = 2): Promise<ForwardCost> {
  const maxCtx = Math.min(1024, Math.max(64, model.info.maxContext - 64));
  return fitForwardCost(await measureForwardCost(model, [1, 8, 32], [32, maxCtx], reps));
}

/**
 * Measured on the shared 2-core development machine (bench-forward, Qwen2.5-0.5B-shaped random checkpoint,
 * graph builder version 4, medians of 7, load average about 3; see engine/bench/README.md).
 * Rows: context; columns: S = 1, 4, 8, 16, 32.
 */
export const QWEN05B_SHAPED_CPU_MS: Record<'none' | 'int4', Record<number, [number, number, number, number, number]>> = {
  none: { 256: [64.4, 93.9, 114.6, 150.3, 224.4], 2048: [67.9, 102.3, 122.1, 167.4, 257.0] },
  int4: { 256: [24.1, 32.2, 47.1, 77.3, 146.4], 2048: [26.9, 40.2, 57.5, 96.7, 179.3] },
};
const TABLE_SIZES = [1, 4, 8, 16, 32];

/** The cost model fitted to the measured table, for when no calibration of the actual model is at hand. */
export function defaultForwardCost(quantization: 'none' | 'int8' | 'int4' = 'int4'): ForwardCost {
  const table = QWEN05B_SHAPED_CPU_MS[quantization === 'none' ? 'none' : 'int4'];
  const samples = Object.entries(table).flatMap(([context, row]) => row.map((ms, i) => ({ s: TABLE_SIZES[i]!, context: Number(context), ms })));
  return fitForwardCost(samples);
}
