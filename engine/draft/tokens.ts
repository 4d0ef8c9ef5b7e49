// Token checks and small typed-array helpers shared by the drafters.

/** Token ids must fit in 20 bits: n-gram keys stay exact doubles, and MAX_TOKEN_ID + 1 is free for separators. */
export const MAX_TOKEN_ID = (1 << 20) - 1;

/** The draft budget as a whole number of tokens; a negative or NaN budget is a caller bug. */
export function draftBudget(maxTokens: number, drafter: string): number {
  if (!(maxTokens >= 0)) throw new Error(`${drafter}: maxTokens must be a number ≥ 0, got ${String(maxTokens)}`);
  return Math.floor(maxTokens);
}

/** Throws a clear error naming `what` and the position of the first token that is not an id in [0, MAX_TOKEN_ID]. */
export function checkTokens(tokens: ArrayLike<number>, what: string): void {
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (!Number.isInteger(t) || t < 0 || t > MAX_TOKEN_ID) {
      throw new Error(`${what}: token ${i} is ${String(t)}, expected an integer id in [0, ${MAX_TOKEN_ID}]`);
    }
  }
}

/** The same array when it holds at least `min` entries, else a copy grown by doubling. */
export function growInt32(a: Int32Array<ArrayBuffer>, min: number): Int32Array<ArrayBuffer> {
  let size = Math.max(1, a.length);
  while (size < min) size *= 2;
  if (size === a.length) return a;
  const b = new Int32Array(size);
  b.set(a);
  return b;
}
