// A test drafter around a known continuation: the true path, with wrong siblings, random side branches and an
// occasional wrong token that breaks the path, so that acceptance stops at every depth.
import { createRng } from './sampling';
import { ScriptedDrafter } from './scriptedDrafter';

export interface NoisyOracleOptions {
  /** The drafter's name. */
  name: string;
  /** Chance of a wrong sibling before each true token. */
  branchRate: number;
  /** The probability the sibling is drafted with (the true token gets 0.9). */
  siblingProb: number;
}

/**
 * Drafts the rest of `truth` (read at each proposal when a function) after `promptLength` context tokens: each
 * true token (one in ten replaced by a random one) under the previous, with a random sibling at `branchRate`.
 */
export function noisyOracle(truth: readonly number[] | (() => readonly number[]), promptLength: number, vocab: number, seed: number, o: NoisyOracleOptions): ScriptedDrafter {
  const rng = createRng(seed);
  return new ScriptedDrafter(o.name, (context, maxTokens) => {
    const done = context.length - promptLength;
    const tokens: number[] = [];
    const parents: number[] = [];
    const probs: number[] = [];
    let parent = -1;
    const t = typeof truth === 'function' ? truth() : truth;
    for (let i = done; i < t.length && tokens.length < maxTokens; i++) {
      if (rng() < o.branchRate) {
        tokens.push(Math.floor(rng() * vocab));
        parents.push(parent);
        probs.push(o.siblingProb);
        if (tokens.length >= maxTokens) break;
      }
      tokens.push(rng() < 0.1 ? Math.floor(rng() * vocab) : t[i]!);
      parents.push(parent);
      probs.push(0.9);
      parent = tokens.length - 1;
    }
    return { tokens, parents, probs, score: probs.reduce((a, b) => a + b, 0), matchLen: 2 };
  });
}
