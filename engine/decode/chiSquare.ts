// Pearson's chi-square goodness of fit, for the tests that check a sampler's output against its target distribution.
import { targetDistribution, type SamplingOptions } from './sampling';
import type { ToyModel } from './toyModel';

/**
 * The statistic of `observed` counts over `n` draws against `target` probabilities, with the bins expected fewer
 * than 5 times pooled into one. An observed key the target gives no probability is an error.
 */
export function chiSquare(observed: ReadonlyMap<string, number>, target: ReadonlyMap<string, number>, n: number): { stat: number; df: number } {
  let stat = 0;
  let bins = 0;
  let smallExpected = 0;
  let smallObserved = 0;
  for (const [key, p] of target) {
    const e = p * n;
    const o = observed.get(key) ?? 0;
    if (e < 5) {
      smallExpected += e;
      smallObserved += o;
      continue;
    }
    stat += ((o - e) * (o - e)) / e;
    bins++;
  }
  for (const key of observed.keys()) if (!target.has(key)) throw new Error(`sampled an impossible sequence ${key}`);
  if (smallExpected > 0) {
    stat += ((smallObserved - smallExpected) ** 2) / smallExpected;
    bins++;
  }
  return { stat, df: bins - 1 };
}

/** Upper quantile of chi-square with `df` degrees of freedom (Wilson–Hilferty; z = 3.09: p ≈ 0.001). */
export function chiSquareCritical(df: number, z = 3.09): number {
  const a = 2 / (9 * df);
  return df * Math.pow(1 - a + z * Math.sqrt(a), 3);
}

/** The exact probability of every `depth`-token continuation of `prompt` under the model and sampling settings. */
export function jointTarget(model: ToyModel, prompt: number[], sampling: SamplingOptions, depth: number): Map<string, number> {
  const vocab = model.info.vocabSize;
  const out = new Map<string, number>();
  const walk = (seq: number[], prefix: number[], p: number): void => {
    if (prefix.length === depth) {
      out.set(prefix.join(','), p);
      return;
    }
    const dist = targetDistribution(model.logitsAfter(seq), 0, vocab, sampling);
    for (let t = 0; t < vocab; t++) if (dist[t]! > 0) walk([...seq, t], [...prefix, t], p * dist[t]!);
  };
  walk(prompt, [], 1);
  return out;
}
