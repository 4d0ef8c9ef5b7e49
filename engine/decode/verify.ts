// Tree verification: walk the verified tree from the root and accept the longest path the target agrees with.
// Greedy follows the argmax; sampling uses recursive rejection over each node's children (deterministic drafts),
// so the emitted tokens have exactly the distribution of plain sampling.
import { argmax, isGreedy, sampleFrom, targetDistribution, type Rng, type SamplingOptions } from './sampling';

export interface Acceptance {
  /** Verified nodes kept, a root path starting with node 0 (the pending token). */
  path: number[];
  /** The token chosen after the last kept node (the "bonus" token). */
  bonus: number;
}

/** children[j] lists the children of node j in their draft order; extra roots (padding) are ignored. */
export function childLists(parents: readonly number[]): number[][] {
  const children: number[][] = parents.map(() => []);
  for (let j = 1; j < parents.length; j++) {
    const p = parents[j]!;
    if (p === -1) continue;
    if (p < -1 || p >= j) throw new Error(`verify: node ${j} has invalid parent ${p}`);
    children[p]!.push(j);
  }
  return children;
}

/**
 * tokens/parents describe the verified tree: node 0 is the pending token (parent -1), every other node has a parent
 * before it. logits holds one row of `vocab` values per node.
 */
export function acceptTree(
  tokens: readonly number[],
  parents: readonly number[],
  logits: Float32Array,
  vocab: number,
  sampling: SamplingOptions,
  rng: Rng,
): Acceptance {
  if (tokens.length === 0 || parents[0] !== -1) throw new Error('verify: the tree must start with the pending token');
  if (logits.length < tokens.length * vocab) throw new Error(`verify: expected ${tokens.length * vocab} logits, got ${logits.length}`);
  const children = childLists(parents);
  const greedy = isGreedy(sampling);
  const path = [0];
  let node = 0;
  for (;;) {
    const kids = children[node]!;
    if (greedy) {
      const target = argmax(logits, node, vocab);
      const next = kids.find((c) => tokens[c] === target);
      if (next === undefined) return { path, bonus: target };
      path.push(next);
      node = next;
      continue;
    }
    const p = targetDistribution(logits, node, vocab, sampling);
    let total = 1;
    let accepted = -1;
    for (const c of kids) {
      const x = tokens[c]!;
      const px = x >= 0 && x < vocab ? p[x]! : 0;
      if (px > 0 && rng() * total < px) {
        accepted = c;
        break;
      }
      if (px > 0) {
        total -= px;
        p[x] = 0;
      }
    }
    if (accepted < 0) {
      // Every child was rejected: sample from the residual (renormalised) distribution.
      let residual = 0;
      for (let i = 0; i < vocab; i++) residual += p[i]!;
      return { path, bonus: sampleFrom(p, rng, residual) };
    }
    path.push(accepted);
    node = accepted;
  }
}

/** Plain next-token choice from one row of logits (the non-speculative baseline and the prefill step). */
export function chooseToken(logits: Float32Array, row: number, vocab: number, sampling: SamplingOptions, rng: Rng): number {
  if (isGreedy(sampling)) return argmax(logits, row, vocab);
  return sampleFrom(targetDistribution(logits, row, vocab, sampling), rng);
}
