// Online estimates of how often a candidate continuation is accepted, by source and match length.
// A candidate is judged against the tokens the verifier accepted (plus its bonus token): whether its first
// token was right, and, token by token, whether it kept agreeing while the truth was known (a survival rate).
// The estimates start from weak priors and follow the data the drafter actually serves.

/** Match-length buckets: 1, 2, 3, 4–5, 6–8, 9–12, 13–20, 21–32, 33+. */
const BUCKET_EDGES = [1, 2, 3, 4, 6, 9, 13, 21, 33];

export function matchBucket(matchLen: number): number {
  let b = 0;
  while (b + 1 < BUCKET_EDGES.length && matchLen >= BUCKET_EDGES[b + 1]!) b++;
  return b;
}

export const BUCKETS = BUCKET_EDGES.length;

export class Reliability {
  private readonly _hits: Float64Array;
  private readonly _tries: Float64Array;
  private readonly _kept: Float64Array;
  private readonly _broke: Float64Array;

  /** Priors: first-token rate firstPrior (weight priorWeight), survival survivalPrior (weight priorWeight). */
  constructor(
    readonly sources: number,
    firstPrior = 0.3,
    survivalPrior = 0.8,
    priorWeight = 4,
  ) {
    const n = sources * BUCKETS;
    this._hits = new Float64Array(n);
    this._tries = new Float64Array(n);
    this._kept = new Float64Array(n);
    this._broke = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const b = i % BUCKETS;
      // Longer matches start out more trusted: the prior rises with the bucket, the data takes over quickly.
      const first = Math.min(0.95, firstPrior + 0.08 * b);
      const survival = Math.min(0.98, survivalPrior + 0.02 * b);
      this._hits[i] = first * priorWeight;
      this._tries[i] = priorWeight;
      this._kept[i] = survival * priorWeight;
      this._broke[i] = (1 - survival) * priorWeight;
    }
  }

  first(source: number, matchLen: number): number {
    const i = source * BUCKETS + matchBucket(matchLen);
    return this._hits[i]! / this._tries[i]!;
  }

  survival(source: number, matchLen: number): number {
    const i = source * BUCKETS + matchBucket(matchLen);
    return this._kept[i]! / (this._kept[i]! + this._broke[i]!);
  }

  /**
   * Records one candidate: `agreed` leading tokens equal the truth, which was known for `known` tokens;
   * `available` is how many tokens the candidate offered.
   */
  record(source: number, matchLen: number, agreed: number, known: number, available: number): void {
    if (known <= 0 || available <= 0) return;
    const i = source * BUCKETS + matchBucket(matchLen);
    this._tries[i]!++;
    if (agreed === 0) return;
    this._hits[i]!++;
    this._kept[i]! += agreed - 1;
    if (agreed < known && agreed < available) this._broke[i]!++;
  }
}
