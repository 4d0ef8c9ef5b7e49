// Pearson's chi-square goodness of fit, for the tests that check a sampler's output against its target distribution.

/**
 * The statistic of `observed` counts over `n` draws against `target` probabilities, with the bins expected fewer
 * than 5 times pooled into one; `unexpected` lists observed keys the target gives no probability.
 */
export function chiSquare(observed: ReadonlyMap<string, number>, target: ReadonlyMap<string, number>, n: number): { stat: number; df: number; unexpected: string[] } {
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
  if (smallExpected > 0) {
    stat += ((smallObserved - smallExpected) ** 2) / smallExpected;
    bins++;
  }
  return { stat, df: bins - 1, unexpected: [...observed.keys()].filter((key) => !target.has(key)) };
}
