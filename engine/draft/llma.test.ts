import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { ReferenceCopyDrafter } from './llma';
import { assertChain, joinSegments as join, occursIn, replayRequest, replayScenario, SEP, setDocuments, tokensOf } from './testSupport';

/** Brute force: longest suffix match (≤ maxMatch) ending anywhere with a continuation; newest wins, local first. */
function naiveCopy(local: number[], workspace: number[], ctx: number[], budget: number, maxMatch: number) {
  let best: { text: number[]; pos: number; m: number } | null = null;
  for (const text of [local, workspace]) {
    for (let end = text.length - 2; end >= 0; end--) {
      if (text[end + 1] === SEP) continue;
      let m = 0;
      while (m < maxMatch && m < ctx.length && end - m >= 0 && text[end - m] === ctx[ctx.length - 1 - m]) m++;
      if (m >= 1 && (!best || m > best.m)) best = { text, pos: end + 1, m };
    }
  }
  if (!best) return { tokens: [] as number[], matchLen: 0 };
  const tokens: number[] = [];
  for (let p = best.pos; tokens.length < budget && best.text[p] !== SEP; p++) tokens.push(best.text[p]!);
  return { tokens, matchLen: best.m };
}

test('llma: a fresh draft equals a brute-force search of the references', () => {
  fc.assert(
    fc.property(
      fc.array(tokensOf(15), { maxLength: 3 }),
      fc.array(tokensOf(15), { maxLength: 3 }),
      tokensOf(15),
      fc.integer({ min: 1, max: 20 }),
      fc.integer({ min: 1, max: 5 }),
      (documents, refs, prompt, budget, maxMatch) => {
        const drafter = new ReferenceCopyDrafter({ maxMatch, maxCandidates: 1000 });
        setDocuments(drafter, documents);
        drafter.begin('r', prompt, refs);
        const got = drafter.propose('r', budget);
        const want = naiveCopy(join([...refs, prompt]), join(documents), prompt, Math.min(budget, 19), maxMatch);
        assert.deepEqual(got.tokens, want.tokens);
        assert.equal(got.matchLen, want.matchLen);
        assertChain(got);
      },
    ),
    { numRuns: 300 },
  );
});

test('llma: every draft continues the matched suffix inside one reference document', () => {
  fc.assert(
    fc.property(
      replayScenario(20),
      fc.integer({ min: 1, max: 12 }),
      ({ documents, refs, prompt, chunks }, budget) => {
        const drafter = new ReferenceCopyDrafter();
        setDocuments(drafter, documents);
        replayRequest(drafter, prompt, refs, chunks, (ctx) => {
          const draft = drafter.propose('r', budget);
          assert.ok(draft.tokens.length <= budget);
          if (draft.tokens.length === 0) return;
          assert.ok(draft.matchLen >= 1 && draft.matchLen <= ctx.length);
          const pattern = [...ctx.slice(ctx.length - draft.matchLen), ...draft.tokens];
          assert.ok(occursIn([...refs, prompt, ...documents], pattern), JSON.stringify({ ctx, draft }));
        });
      },
    ),
    { numRuns: 300 },
  );
});

test('llma: stays aligned with the copied span, and documents can be replaced and removed', () => {
  const drafter = new ReferenceCopyDrafter({ copyLength: 3 });
  drafter.setDocument('a', [1, 2, 3, 4, 5, 6]);
  drafter.begin('r', [9, 1]);
  assert.deepEqual(drafter.propose('r', 16).tokens, [2, 3, 4]);
  drafter.observe('r', [2, 3]);
  const draft = drafter.propose('r', 16);
  assert.deepEqual(draft.tokens, [4, 5, 6]);
  assert.equal(draft.matchLen, 3);
  // Edits append the new version; the index is rebuilt once dead text outweighs live text.
  drafter.setDocument('a', [1, 7]);
  drafter.begin('s', [1]);
  assert.deepEqual(drafter.propose('s', 16).tokens, [7]);
  drafter.setDocument('a', [1, 8, 2, 3, 4, 5, 6]);
  drafter.begin('t', [5]);
  assert.deepEqual(drafter.propose('t', 16).tokens, [6]);
  drafter.setDocument('a', [1, 9]);
  drafter.begin('u', [5]);
  assert.deepEqual(drafter.propose('u', 16).tokens, []);
  drafter.removeDocument('a');
  assert.deepEqual(drafter.propose('s', 16).tokens, []);
});

test('llma: end frees the request; no history; bad input is rejected', () => {
  const drafter = new ReferenceCopyDrafter();
  drafter.begin('a', [1, 2, 1], [[5, 6, 7]]);
  assert.ok(drafter.estimateBytes() > 0);
  drafter.end('a', [1, 2, 3]);
  assert.equal(drafter.hasRequest('a'), false);
  assert.equal(drafter.estimateBytes(), new ReferenceCopyDrafter().estimateBytes());
  assert.ok(drafter.peakBytes() > 0);
  assert.throws(() => drafter.propose('a', 4), /unknown request 'a'/);
  assert.equal(drafter.exportHistory().length, 0);
  assert.throws(() => drafter.importHistory(new Uint8Array(3)), /no history/);
  assert.throws(() => drafter.begin('b', [0.5]), /token 0 is 0.5/);
  assert.throws(() => drafter.setDocument('d', [-3]), /token 0 is -3/);
  assert.throws(() => new ReferenceCopyDrafter({ minMatch: 0 }), /minMatch/);
  drafter.begin('c', [1]);
  assert.throws(() => drafter.propose('c', -2), /llma: maxTokens/);
  assert.throws(() => new ReferenceCopyDrafter({ minMatch: 3, maxMatch: 2 }), /maxMatch/);
});
