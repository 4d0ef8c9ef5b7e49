// Predicted Outputs accounting: how many predicted tokens the completion used (a longest common subsequence)
// and how many it did not.

/** Length of the longest common subsequence; beyond `maxCells` it falls back to an in-order greedy match. */
export function lcsLength(a: readonly number[], b: readonly number[], maxCells = 20_000_000): number {
  if (a.length === 0 || b.length === 0) return 0;
  if (a.length * b.length > maxCells) {
    let j = 0;
    let n = 0;
    for (const t of a) {
      const k = b.indexOf(t, j);
      if (k >= 0) {
        n++;
        j = k + 1;
      }
    }
    return n;
  }
  let prev = new Int32Array(b.length + 1);
  let cur = new Int32Array(b.length + 1);
  for (let i = 1; i <= a.length; i++) {
    const ai = a[i - 1];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = ai === b[j - 1] ? prev[j - 1]! + 1 : Math.max(prev[j]!, cur[j - 1]!);
    }
    [prev, cur] = [cur, prev];
  }
  return prev[b.length]!;
}

export function predictionUsage(prediction: readonly number[], completion: readonly number[]): { accepted: number; rejected: number } {
  const accepted = lcsLength(prediction, completion);
  return { accepted, rejected: prediction.length - accepted };
}
