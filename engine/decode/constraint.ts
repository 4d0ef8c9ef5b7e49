// Constrained decoding: a rule on the next token, applied to the logits before any choice (the prefill's first
// token and every row of a verified tree). Greedy acceptance then follows the masked argmax at every node, so
// speculative output stays identical to constrained plain decoding (and sampling keeps the constrained law).

/**
 * Which tokens may follow the tokens generated so far; undefined when any token may. Must depend only on
 * `generated` (a pure function), since tree nodes are masked by their own paths.
 */
export type TokenConstraint = (generated: readonly number[]) => ((token: number) => boolean) | undefined;

/** Sets the disallowed logits of one row to -Infinity; a row that would allow nothing is left as it is. */
export function maskRow(logits: Float32Array, row: number, vocab: number, allowed: (token: number) => boolean): void {
  const base = row * vocab;
  let any = false;
  for (let t = 0; t < vocab && !any; t++) any = allowed(t) && logits[base + t] !== -Infinity;
  if (!any) return;
  for (let t = 0; t < vocab; t++) if (!allowed(t)) logits[base + t] = -Infinity;
}

/**
 * Masks every row of a verified tree in place. Node 0 is the pending token (already part of `generated`); node j's
 * row predicts the token after generated ++ (its ancestors' tokens below node 0) ++ its own token.
 */
export function maskTree(
  logits: Float32Array,
  tokens: readonly number[],
  parents: readonly number[],
  vocab: number,
  generated: readonly number[],
  constraint: TokenConstraint,
): void {
  const paths: (number[] | undefined)[] = [[]];
  for (let j = 0; j < tokens.length; j++) {
    let path: number[] | undefined;
    if (j === 0) path = [];
    else {
      const p = parents[j]!;
      // Extra roots (padding) are never accepted: nothing to mask.
      const base = p >= 0 ? paths[p] : undefined;
      path = base ? [...base, tokens[j]!] : undefined;
    }
    paths[j] = path;
    if (!path) continue;
    const allowed = constraint(path.length === 0 ? generated : [...generated, ...path]);
    if (allowed) maskRow(logits, j, vocab, allowed);
  }
}
