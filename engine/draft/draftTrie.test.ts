import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { DraftTrie, ProbHeap, TRIE_ROOT, type Combine } from './draftTrie';

test('draft trie: merges shared prefixes and keeps the most probable nodes with their ancestors', () => {
  const trie = new DraftTrie(['x', 'y']);
  let a = TRIE_ROOT;
  [0.9, 0.8, 0.7].forEach((p, i) => (a = trie.addChild(a, 10 + i, p, 0)));
  let b = trie.addChild(TRIE_ROOT, 10, 0.5, 1);
  b = trie.addChild(b, 20, 0.45, 1);
  trie.addChild(b, 21, 0.4, 1);
  const draft = trie.select(4, 3);
  assert.deepEqual(draft.tokens, [10, 11, 12, 20]);
  assert.deepEqual(draft.parents, [-1, 0, 1, 0]);
  assert.deepEqual(draft.probs, [0.9, 0.8, 0.7, 0.45]);
  assert.deepEqual(draft.sources, ['x', 'x', 'x', 'y']);
  assert.equal(draft.matchLen, 3);
});

/** Candidate chains: tokens from a small alphabet (so prefixes are shared), a first estimate and a decay. */
const chainsArb = fc.array(
  fc.record({ tokens: fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 1, maxLength: 6 }), first: fc.double({ min: 0.01, max: 1, noNaN: true }), decay: fc.double({ min: 0.1, max: 1, noNaN: true }) }),
  { minLength: 1, maxLength: 8 },
);

/** Naive oracle: every prefix of every chain with the estimates of the chains through it, combined. */
function naiveNodes(chains: { tokens: number[]; first: number; decay: number }[], combine: Combine): Map<string, number> {
  const parts = new Map<string, number[]>();
  let rootMass = 0;
  for (const c of chains) {
    rootMass += c.first;
    let p = c.first;
    for (let k = 1; k <= c.tokens.length; k++) {
      const key = c.tokens.slice(0, k).join(',');
      parts.set(key, [...(parts.get(key) ?? []), p]);
      p *= c.decay;
    }
  }
  const out = new Map<string, number>();
  for (const [key, ps] of parts) {
    if (combine === 'max') out.set(key, Math.max(...ps));
    else if (combine === 'sum') out.set(key, Math.min(1, ps.reduce((s, x) => s + x, 0) / Math.max(1, rootMass)));
    else out.set(key, 1 - ps.reduce((s, x) => s * (1 - Math.min(x, 0.999999)), 1));
  }
  return out;
}

test('draft trie: selection is the budget most probable distinct paths of the candidates, best-first', () => {
  fc.assert(
    fc.property(chainsArb, fc.integer({ min: 0, max: 12 }), fc.constantFrom<Combine>('max', 'sum', 'noisy-or'), (chains, budget, combine) => {
      const trie = new DraftTrie(['c'], { combine });
      for (const c of chains) {
        trie.addRootMass(c.first);
        let node = TRIE_ROOT;
        let p = c.first;
        for (const t of c.tokens) {
          node = trie.addChild(node, t, p);
          p *= c.decay;
        }
      }
      const naive = naiveNodes(chains, combine);
      const draft = trie.select(budget, 0);
      assert.equal(draft.tokens.length, Math.min(budget, naive.size));
      const paths: string[] = [];
      let score = 0;
      draft.tokens.forEach((t, j) => {
        const p = draft.parents[j]!;
        assert.ok(p >= -1 && p < j, 'topological order');
        const key = p < 0 ? `${t}` : `${paths[p]},${t}`;
        assert.ok(!paths.includes(key), 'each path once');
        paths.push(key);
        assert.ok(Math.abs(draft.probs[j]! - naive.get(key)!) < 1e-9, `estimate of ${key}`);
        score += draft.probs[j]!;
      });
      assert.ok(Math.abs(score - draft.score) < 1e-9);
      // Nothing left out is more probable than the least probable node kept.
      const kept = new Set(paths);
      const worstKept = Math.min(...draft.probs);
      for (const [key, p] of naive) if (!kept.has(key)) assert.ok(draft.tokens.length === budget && p <= worstKept + 1e-9, `${key} (${p}) left out`);
    }),
    { numRuns: 300 },
  );
});

test('draft trie: a full trie stops growing, inserted drafts keep their shape', () => {
  const trie = new DraftTrie(['a', 'b'], { maxNodes: 3 });
  assert.equal(trie.addChild(TRIE_ROOT, 1, 0.9), 1);
  assert.equal(trie.addChild(1, 2, 0.8), 2);
  assert.equal(trie.addChild(2, 3, 0.7), -1);
  const other = new DraftTrie(['a', 'b']);
  other.insertDraft({ tokens: [5, 6, 7], parents: [-1, 0, 0], probs: [1, 0.5, 0.25], score: 1.75, matchLen: 2 }, (p) => p / 2, 1);
  const d = other.select(8, 2);
  assert.deepEqual(d.tokens, [5, 6, 7]);
  assert.deepEqual(d.parents, [-1, 0, 0]);
  assert.deepEqual(d.probs, [0.5, 0.25, 0.125]);
  assert.deepEqual(d.sources, ['b', 'b', 'b']);
  assert.throws(() => new DraftTrie([]), /source names/);
});

test('probability heap pops by probability, then by the smaller tie key', () => {
  fc.assert(
    fc.property(fc.array(fc.record({ p: fc.constantFrom(0.1, 0.5, 0.9, 1), tie: fc.integer({ min: 0, max: 5 }) }), { maxLength: 40 }), (items) => {
      const heap = new ProbHeap();
      items.forEach((x, i) => heap.push(x.p, x.tie, i));
      const popped: { p: number; tie: number }[] = [];
      while (heap.size > 0) {
        const p = heap.pop();
        popped.push({ p, tie: items[heap.a]!.tie });
      }
      const expected = items.map((x) => ({ p: x.p, tie: x.tie })).sort((x, y) => y.p - x.p || x.tie - y.tie);
      assert.deepEqual(popped, expected);
    }),
    { numRuns: 200 },
  );
});
