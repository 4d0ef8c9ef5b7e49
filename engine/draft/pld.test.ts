import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { PromptLookupDrafter } from './pld';
import { assertChain, replayRequest, tokensOf } from './testSupport';

/**
 * Brute force: latest earlier occurrence of the last n tokens (n = 3..1) that has a continuation inside its
 * segment, copied up to the budget or the segment's end.
 */
function naivePld(segments: number[][], budget: number, maxN = 3, minN = 1): { tokens: number[]; matchLen: number } {
  const ctx: number[] = [];
  segments.forEach((seg, i) => {
    ctx.push(...seg);
    if (i < segments.length - 1) ctx.push(-1);
  });
  const L = ctx.length;
  for (let n = maxN; n >= minN; n--) {
    if (L < n) continue;
    const suffix = ctx.slice(L - n);
    if (suffix.includes(-1)) continue;
    for (let s = L - n - 1; s >= 0; s--) {
      if (ctx[s + n] !== -1 && suffix.every((t, k) => ctx[s + k] === t)) {
        const tokens: number[] = [];
        for (let p = s + n; p < L && tokens.length < budget && ctx[p] !== -1; p++) tokens.push(ctx[p]!);
        return { tokens, matchLen: n };
      }
    }
  }
  return { tokens: [], matchLen: 0 };
}

const smallTokens = (max: number) => tokensOf(max, 5);

test('pld: draft equals a brute-force scan after random appends', () => {
  fc.assert(
    fc.property(
      fc.array(smallTokens(12), { maxLength: 3 }),
      smallTokens(30),
      fc.array(smallTokens(5), { maxLength: 6 }),
      fc.integer({ min: 1, max: 16 }),
      fc.boolean(),
      (refs, prompt, chunks, budget, withRefs) => {
        const drafter = new PromptLookupDrafter({ includeReferences: withRefs });
        replayRequest(drafter, prompt, refs, chunks, (context) => {
          const got = drafter.propose('r', budget);
          const want = naivePld(withRefs ? [...refs, [...context]] : [[...context]], budget);
          assert.deepEqual(got.tokens, want.tokens);
          assert.equal(got.matchLen, want.matchLen);
          assertChain(got);
          assert.equal(got.probs.length, got.tokens.length);
        });
      },
    ),
    { numRuns: 300 },
  );
});

test('pld: prefers the longest n-gram and its most recent occurrence', () => {
  const drafter = new PromptLookupDrafter();
  // "1 2 3" occurs followed by 7, then "2 3" followed by 8 more recently, then the context ends in "1 2 3".
  drafter.begin('r', [1, 2, 3, 7, 9, 2, 3, 8, 5, 1, 2, 3]);
  const draft = drafter.propose('r', 3);
  assert.equal(draft.matchLen, 3);
  assert.deepEqual(draft.tokens, [7, 9, 2]);
  assert.ok(draft.probs[0]! > draft.probs[2]!);
  assert.ok(Math.abs(draft.score - draft.probs.reduce((a, b) => a + b, 0)) < 1e-12);
});

test('pld: references are searched but never copied across their boundary', () => {
  const drafter = new PromptLookupDrafter();
  drafter.begin('r', [4, 5], [[9, 4, 5, 6]]);
  assert.deepEqual(drafter.propose('r', 4).tokens, [6]);
  const promptOnly = new PromptLookupDrafter({ includeReferences: false });
  promptOnly.begin('r', [4, 5], [[9, 4, 5, 6]]);
  assert.deepEqual(promptOnly.propose('r', 4).tokens, []);
});

test('pld: end frees the request state', () => {
  const drafter = new PromptLookupDrafter();
  drafter.begin('a', [1, 2, 3, 1, 2]);
  drafter.begin('b', [5, 6, 5]);
  assert.ok(drafter.estimateBytes() > 0);
  drafter.end('a', [3]);
  assert.equal(drafter.hasRequest('a'), false);
  assert.throws(() => drafter.propose('a', 4), /unknown request 'a'/);
  assert.deepEqual(drafter.propose('b', 4).tokens, [6, 5]);
  drafter.end('b');
  assert.equal(drafter.estimateBytes(), 0);
  assert.ok(drafter.peakBytes() > 0);
});

test('pld: rejects bad input with clear errors and keeps no history', () => {
  assert.throws(() => new PromptLookupDrafter({ maxNgram: 4 }), /maxNgram/);
  assert.throws(() => new PromptLookupDrafter({ minNgram: 0 }), /minNgram/);
  const drafter = new PromptLookupDrafter();
  assert.throws(() => drafter.begin('r', [1, -2]), /token 1 is -2/);
  assert.throws(() => drafter.observe('missing', [1]), /unknown request/);
  drafter.begin('r', [1]);
  assert.throws(() => drafter.observe('r', [1.5]), /token 0 is 1.5/);
  assert.equal(drafter.exportHistory().length, 0);
  assert.throws(() => drafter.importHistory(new Uint8Array([1])), /no history/);
  drafter.importHistory(new Uint8Array(0));
  assert.equal(drafter.propose('r', 0).tokens.length, 0);
  assert.throws(() => drafter.propose('r', Number.NaN), /maxTokens must be a number ≥ 0, got NaN/);
  assert.throws(() => drafter.propose('r', -1), /maxTokens/);
});
