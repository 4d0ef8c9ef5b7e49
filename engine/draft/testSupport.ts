// Shared pieces of the drafter tests: small-alphabet token arbitraries, the naive scans drafts are checked
// against, and a request replayed chunk by chunk.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Draft, Drafter } from './types';

/** Separates segments joined into one text, so that no match runs from one segment into the next. */
export const SEP = -1;

/** Token arrays of at most `max` tokens over a small alphabet (0..alphabet-1), so that matches are common. */
export const tokensOf = (max: number, alphabet = 4) => fc.array(fc.integer({ min: 0, max: alphabet - 1 }), { maxLength: max });

/** The segments as one text, each followed by SEP. */
export function joinSegments(segments: readonly (readonly number[])[]): number[] {
  const text: number[] = [];
  for (const seg of segments) text.push(...seg, SEP);
  return text;
}

/** Whether needle occurs as a contiguous run inside one of the texts (never across two). */
export function occursIn(texts: readonly (readonly number[])[], needle: readonly number[]): boolean {
  return texts.some((s) => {
    outer: for (let i = 0; i + needle.length <= s.length; i++) {
      for (let k = 0; k < needle.length; k++) if (s[i + k] !== needle[k]) continue outer;
      return true;
    }
    return false;
  });
}

/** The tokens from the draft's root down to node j. */
export function rootPath(d: Draft, j: number): number[] {
  const path: number[] = [];
  for (let k = j; k >= 0; k = d.parents[k]!) path.unshift(d.tokens[k]!);
  return path;
}

/** Registers each document as `d0`, `d1`, … */
export function setDocuments(drafter: Pick<Drafter, 'setDocument'>, documents: readonly (readonly number[])[]): void {
  documents.forEach((d, i) => drafter.setDocument(`d${i}`, d));
}

/**
 * Begins request 'r' with `prompt` and `refs`, then observes nothing and each chunk in turn; after each observation
 * `step` gets the context so far (prompt plus the chunks observed).
 */
export function replayRequest(
  drafter: Pick<Drafter, 'begin' | 'observe'>,
  prompt: readonly number[],
  refs: readonly (readonly number[])[],
  chunks: readonly (readonly number[])[],
  step: (context: readonly number[]) => void,
): void {
  drafter.begin('r', prompt, refs);
  const context = [...prompt];
  for (const chunk of [[], ...chunks]) {
    drafter.observe('r', chunk);
    context.push(...chunk);
    step(context);
  }
}

/** A single-path draft: each token's parent is the token before it. */
export function assertChain(d: Draft): void {
  assert.deepEqual(
    d.parents,
    d.tokens.map((_, j) => j - 1),
  );
}

/**
 * A request to replay: workspace documents and references of up to `textLength` tokens, a prompt of up to
 * `promptLength`, and up to six short chunks of generated tokens.
 */
export const replayScenario = (textLength: number, promptLength = textLength) =>
  fc.record({
    documents: fc.array(tokensOf(textLength), { maxLength: 3 }),
    refs: fc.array(tokensOf(textLength), { maxLength: 2 }),
    prompt: tokensOf(promptLength),
    chunks: fc.array(tokensOf(4), { maxLength: 6 }),
  });
