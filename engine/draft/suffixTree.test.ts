import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SuffixTree } from './suffixTree';
import { occursIn, rootPath } from './testSupport';

/** Naive oracle: count of every substring of length <= maxDepth over all sequences. */
function naiveCounts(seqs: readonly (readonly number[])[], maxDepth: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const s of seqs) {
    for (let i = 0; i < s.length; i++) {
      for (let l = 1; l <= maxDepth && i + l <= s.length; l++) {
        const key = s.slice(i, i + l).join(',');
        out.set(key, (out.get(key) ?? 0) + 1);
      }
    }
  }
  return out;
}


// Small alphabets make repeats (and so branching, splits and count ordering) frequent.
const seqArb = fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 0, maxLength: 40 });

test('counts equal naive substring counts, appended in random chunks', () => {
  fc.assert(
    fc.property(fc.array(seqArb, { minLength: 1, maxLength: 5 }), fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 7 }), (seqs, maxDepth, chunk) => {
      const tree = new SuffixTree({ maxDepth });
      seqs.forEach((s, id) => {
        for (let i = 0; i < s.length; i += chunk) tree.append(id, s.slice(i, i + chunk));
        if (s.length === 0) tree.append(id, []);
        tree.seal(id);
      });
      tree.checkIntegrity();
      assert.deepEqual(new Map([...tree.dumpPaths()].sort()), new Map([...naiveCounts(seqs, maxDepth)].sort()));
    }),
    { numRuns: 150 },
  );
});

test('remove restores the earlier state', () => {
  fc.assert(
    fc.property(fc.array(seqArb, { minLength: 1, maxLength: 4 }), seqArb, fc.integer({ min: 2, max: 8 }), (seqs, extra, maxDepth) => {
      const tree = new SuffixTree({ maxDepth });
      seqs.forEach((s, id) => tree.append(id, s));
      const before = tree.dumpPaths();
      tree.append(99, extra);
      tree.remove(99);
      tree.checkIntegrity();
      assert.deepEqual(tree.dumpPaths(), before);
      // Removing an older sequence equals never having added it.
      tree.remove(0);
      tree.checkIntegrity();
      assert.deepEqual(new Map([...tree.dumpPaths()].sort()), new Map([...naiveCounts(seqs.slice(1), maxDepth)].sort()));
    }),
    { numRuns: 150 },
  );
});

test('integrity holds after random append, remove, evict and compact', () => {
  type Op = { kind: 'append'; id: number; tokens: number[] } | { kind: 'remove'; id: number } | { kind: 'evict'; bytes: number } | { kind: 'compact' };
  const opArb: fc.Arbitrary<Op> = fc.oneof(
    fc.record({ kind: fc.constant('append' as const), id: fc.integer({ min: 0, max: 5 }), tokens: seqArb }),
    fc.record({ kind: fc.constant('remove' as const), id: fc.integer({ min: 0, max: 5 }) }),
    fc.record({ kind: fc.constant('evict' as const), bytes: fc.integer({ min: 5000, max: 12000 }) }),
    fc.constant({ kind: 'compact' as const }),
  );
  fc.assert(
    fc.property(fc.array(opArb, { maxLength: 30 }), (ops) => {
      const tree = new SuffixTree({ maxDepth: 6 });
      const live = new Map<number, number[]>();
      let last = -1;
      for (const op of ops) {
        if (op.kind === 'append') {
          // Only the most recent sequence may grow; others are replaced.
          if (live.has(op.id) && op.id !== last) {
            tree.remove(op.id);
            live.delete(op.id);
          }
          tree.append(op.id, op.tokens);
          live.set(op.id, [...(live.get(op.id) ?? []), ...op.tokens]);
          last = op.id;
        } else if (op.kind === 'remove') {
          tree.remove(op.id);
          live.delete(op.id);
          if (op.id === last) last = -1;
        } else if (op.kind === 'evict') {
          tree.maxBytes = op.bytes;
          for (const id of tree.evict()) {
            live.delete(id);
            if (id === last) last = -1;
          }
          assert.ok(tree.estimateBytes() <= op.bytes || tree.sequenceIds.length === 0);
        } else tree.compact();
        tree.checkIntegrity();
      }
      assert.deepEqual(new Map([...tree.dumpPaths()].sort()), new Map([...naiveCounts([...live.values()], 6)].sort()));
    }),
    { numRuns: 120 },
  );
});

test('every root path of a draft occurs in the indexed text right after the matched suffix', () => {
  fc.assert(
    fc.property(fc.array(seqArb, { minLength: 1, maxLength: 4 }), seqArb, fc.integer({ min: 1, max: 16 }), (seqs, ctx, maxTokens) => {
      const tree = new SuffixTree({ maxDepth: 12 });
      seqs.forEach((s, id) => tree.append(id, s));
      const draft = tree.speculate(ctx, { maxTokens, alpha: 4, offset: 1, minTokenProb: 0.05 });
      assert.ok(draft.tokens.length <= maxTokens);
      const suffix = ctx.slice(ctx.length - draft.matchLen);
      let score = 0;
      for (let j = 0; j < draft.tokens.length; j++) {
        assert.ok(draft.parents[j]! < j);
        assert.ok(draft.probs[j]! > 0 && draft.probs[j]! <= 1 + 1e-9);
        if (draft.parents[j]! >= 0) assert.ok(draft.probs[j]! <= draft.probs[draft.parents[j]!]! + 1e-9);
        assert.ok(occursIn(seqs, [...suffix, ...rootPath(draft, j)]), `path ${rootPath(draft, j)} after ${suffix}`);
        score += draft.probs[j]!;
      }
      assert.ok(Math.abs(score - draft.score) < 1e-9);
    }),
    { numRuns: 200 },
  );
});

test('speculation follows the most frequent continuation', () => {
  const tree = new SuffixTree({ maxDepth: 16 });
  tree.append(0, [1, 2, 3, 9, 1, 2, 3, 9, 1, 2, 4, 5]);
  const draft = tree.speculate([7, 1, 2], { maxTokens: 5, alpha: 3, minTokenProb: 0.1 });
  assert.equal(draft.matchLen, 2);
  assert.deepEqual(draft.tokens.slice(0, 4), [3, 9, 1, 2]);
  assert.deepEqual(draft.parents.slice(0, 4), [-1, 0, 1, 2]);
  assert.ok(Math.abs(draft.probs[3]! - 2 / 3) < 1e-9);
  assert.ok(Math.abs(draft.probs[4]! - 1 / 3) < 1e-9);
});

test('bad input gets a clear error', () => {
  const tree = new SuffixTree();
  assert.throws(() => tree.append(0, [1, -2]), /non-negative integer/);
  assert.throws(() => new SuffixTree({ maxDepth: 0 }), /maxDepth/);
  tree.append(1, [1]);
  tree.seal(1);
  assert.throws(() => tree.append(1, [2]), /sealed/);
});

/** Naive oracle for speculate: every match length, longest first, none skipped; the highest score wins. */
function naiveSpeculate(tree: SuffixTree, context: readonly number[], maxTokens: number, alpha: number, minTokenProb: number): number {
  let best = 0;
  for (let m = Math.min(tree.maxDepth - 1, context.length); m >= 1; m--) {
    const point = tree.match(context, context.length - m, context.length);
    if (!point) continue;
    const budget = Math.min(maxTokens, Math.floor(alpha * m), tree.maxDepth - m);
    if (budget <= 0) continue;
    best = Math.max(best, tree.grow(point.node, point.offset, budget, minTokenProb, m).score);
  }
  return best;
}

test('a long copy run near the depth cap still drafts the full budget', () => {
  // One 100-token sequence of distinct tokens; the context is its first 71 tokens. The longest match (63
  // tokens at depth cap 64) leaves room for 1 token; shorter matches with the same count leave more.
  const text = Array.from({ length: 100 }, (_, i) => 1000 + i);
  const tree = new SuffixTree({ maxDepth: 64 });
  tree.append(0, text);
  tree.seal(0);
  const draft = tree.speculate(text.slice(0, 71), { maxTokens: 16, alpha: 1, minTokenProb: 0.1 });
  assert.deepEqual(draft.tokens, text.slice(71, 87));
  assert.equal(draft.score, 16);
});

test('speculate scores as high as trying every match length', () => {
  fc.assert(
    fc.property(
      fc.array(seqArb, { minLength: 1, maxLength: 4 }),
      fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 1, maxLength: 20 }),
      fc.integer({ min: 2, max: 12 }),
      fc.integer({ min: 1, max: 16 }),
      fc.constantFrom(0.5, 1, 2, 4),
      (seqs, ctx, maxDepth, maxTokens, alpha) => {
        const tree = new SuffixTree({ maxDepth });
        seqs.forEach((s, id) => tree.append(id, s));
        const draft = tree.speculate(ctx, { maxTokens, alpha, minTokenProb: 0.05 });
        assert.ok(Math.abs(draft.score - naiveSpeculate(tree, ctx, maxTokens, alpha, 0.05)) < 1e-9);
      },
    ),
    { numRuns: 300 },
  );
});
