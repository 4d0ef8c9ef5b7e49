import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { HybridDrafter } from './hybrid';
import { TokenIndex } from './tokenIndex';
import { createDrafter, DRAFTER_NAMES } from './index';
import { decodeHistory, encodeHistory } from './history';
import { occursIn, rootPath } from './testSupport';
import type { Draft } from './types';

const tokens = (max: number) => fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: max });

test('hybrid drafts are valid trees within budget whose paths come from the available text', () => {
  fc.assert(
    fc.property(
      fc.array(fc.record({ prompt: tokens(30), output: tokens(30), refs: fc.array(tokens(30), { maxLength: 2 }) }), { minLength: 1, maxLength: 4 }),
      fc.integer({ min: 0, max: 20 }),
      (records, budget) => {
        const d = new HybridDrafter();
        const earlier: number[][] = [];
        records.forEach((r, n) => {
          const id = `r${n}`;
          d.begin(id, r.prompt, r.refs);
          const context = r.prompt.slice();
          for (let i = 0; i <= r.output.length; i += 3) {
            const draft = d.propose(id, budget);
            assert.ok(draft.tokens.length <= budget);
            assert.equal(draft.parents.length, draft.tokens.length);
            const seen = new Set<string>();
            for (let j = 0; j < draft.tokens.length; j++) {
              const p = draft.parents[j]!;
              assert.ok(p >= -1 && p < j, 'topological order');
              if (p >= 0) assert.ok(draft.probs[j]! <= draft.probs[p]! + 1e-12, 'a child never outranks its parent');
              const key = `${p}:${draft.tokens[j]}`;
              assert.ok(!seen.has(key), 'siblings are deduplicated');
              seen.add(key);
              assert.ok(occursIn([...r.refs, context, ...earlier], rootPath(draft, j)), 'path copied from known text');
            }
            const step = r.output.slice(i, i + 3);
            d.observe(id, step);
            context.push(...step);
          }
          d.end(id, r.output);
          earlier.push(r.output);
        });
      },
    ),
    { numRuns: 120 },
  );
});

test('hybrid learns from earlier outputs and copies an exact repeat in full', () => {
  const d = new HybridDrafter();
  const out = Array.from({ length: 40 }, (_, i) => 100 + i);
  d.begin('a', [1, 2, 3]);
  d.end('a', out);
  d.begin('b', [7, ...out.slice(0, 10)]);
  const draft = d.propose('b', 16);
  // The best root path copies the earlier output from where the context leaves it.
  const path: number[] = [];
  for (let j = 0, node = -1; j < draft.tokens.length; j++) {
    if (draft.parents[j] === node && draft.sources?.[j] === 'history') {
      path.push(draft.tokens[j]!);
      node = j;
    }
  }
  assert.ok(path.length >= 8, `copied ${path.length} tokens`);
  assert.deepEqual(path, out.slice(10, 10 + path.length));
  assert.equal(draft.sources?.[0], 'history');
});

test('history round-trips, respects its byte bound and rejects corrupt data', () => {
  const seqs = [[1, 2, 3], [4], [5, 6]];
  assert.deepEqual(decodeHistory(encodeHistory(seqs), 't'), seqs);
  assert.deepEqual(decodeHistory(encodeHistory(seqs, 8 + 4 + 8 + 4 + 4), 't'), [[4], [5, 6]]);
  const good = encodeHistory(seqs);
  assert.throws(() => decodeHistory(good.slice(0, good.length - 2), 't'), /corrupt/);
  assert.throws(() => decodeHistory(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]), 't'), /bad header/);
  const d = new HybridDrafter();
  d.begin('a', [1]);
  d.end('a', [9, 8, 7]);
  const restored = new HybridDrafter();
  restored.importHistory(d.exportHistory());
  assert.deepEqual(decodeHistory(restored.exportHistory(), 't'), [[9, 8, 7]]);
  restored.clearHistory();
  assert.deepEqual(decodeHistory(restored.exportHistory(), 't'), []);
  assert.throws(() => restored.propose('nope', 4), /unknown request/);
});

test('token index queries equal a naive longest-common-suffix scan', () => {
  fc.assert(
    fc.property(fc.array(tokens(40), { minLength: 1, maxLength: 4 }), tokens(12), (seqs, ctx) => {
      const index = new TokenIndex();
      seqs.forEach((s, i) => index.add(`s${i}`, s));
      const occ = index.query(ctx, ctx.length, { maxVisit: 10_000, maxResults: 10_000 });
      const arena = index.arena;
      // Naive: every position followed by a live token, with its common suffix length.
      const naive: { pos: number; m: number }[] = [];
      for (let p = 0; p + 1 < index.length; p++) {
        if (arena[p]! < 0 || arena[p + 1]! < 0) continue;
        let m = 0;
        while (m < ctx.length && m <= p && arena[p - m]! >= 0 && arena[p - m] === ctx[ctx.length - 1 - m]) m++;
        if (m > 0) naive.push({ pos: p, m });
      }
      for (const o of occ) assert.equal(o.matchLen, naive.find((x) => x.pos === o.pos)?.m);
      const long = naive.filter((x) => x.m >= 3);
      const expected = (long.length > 0 ? long : naive).map((x) => x.pos).sort((a, b) => a - b);
      assert.deepEqual(occ.map((o) => o.pos).sort((a, b) => a - b), expected);
    }),
    { numRuns: 200 },
  );
});

test('token index removal and compaction keep only live sequences', () => {
  const index = new TokenIndex();
  index.add('a', [1, 2, 3, 4]);
  index.add('b', [1, 2, 3, 5]);
  index.remove('a');
  assert.deepEqual(index.query([1, 2, 3], 3).map((o) => index.arena[o.pos + 1]), [5]);
  index.compact();
  assert.deepEqual(index.query([1, 2, 3], 3).map((o) => index.arena[o.pos + 1]), [5]);
  assert.deepEqual([...index.sequence('b')], [1, 2, 3, 5]);
  assert.throws(() => index.append('x', [1, -5]), /non-negative integer/);
});

test('the registry creates every drafter and none proposes nothing', () => {
  for (const name of DRAFTER_NAMES) {
    const d = createDrafter(name);
    assert.equal(d.name, name);
    d.begin('r', [1, 2, 3, 1, 2]);
    const draft = d.propose('r', 8);
    assert.ok(draft.tokens.length <= 8);
    if (name === 'none') assert.equal(draft.tokens.length, 0);
    d.end('r', [3]);
  }
  assert.throws(() => createDrafter('nope'), /unknown drafter/);
});

test('workspace documents feed the drafts until they are removed', () => {
  const d = new HybridDrafter();
  const doc = Array.from({ length: 30 }, (_, i) => 500 + i);
  d.setDocument('a.ts', doc);
  d.begin('r', [1, 2, 500, 501, 502, 503]);
  const draft = d.propose('r', 8);
  assert.equal(draft.tokens[0], 504);
  assert.equal(draft.sources?.[0], 'document');
  d.end('r');
  d.removeDocument('a.ts');
  d.begin('s', [1, 2, 500, 501, 502, 503]);
  assert.ok(!d.propose('s', 8).tokens.includes(504));
  // An edit is remove plus add: the new text replaces the old one.
  d.setDocument('a.ts', [500, 501, 502, 503, 777]);
  assert.equal(d.propose('s', 8).tokens[0], 777);
});

test('with token texts, a line end matches other tokens ending the line with the same indentation', () => {
  const text = new Map([
    [1, ')\n  '],
    [2, ':\n  '],
    [3, '\n'],
    [7, 'x'],
    [8, 'return'],
  ]);
  const tokenText = (id: number): string => text.get(id) ?? `t${id}`;
  const d = new HybridDrafter({ tokenText });
  // The prompt ends with ")\n  "; earlier, ":\n  " (same indentation) was followed by "return".
  d.begin('r', [7, 2, 8, 7, 3, 9, 7, 1]);
  const draft = d.propose('r', 4);
  const j = draft.tokens.indexOf(8);
  assert.ok(j >= 0 && draft.parents[j] === -1, 'proposes the line start after the same indentation');
  assert.equal(draft.sources?.[j], 'line');
  assert.ok(!draft.tokens.includes(9), 'a line end with another indentation is not a match');
  // Without token texts, no such candidate exists.
  const plain = new HybridDrafter();
  plain.begin('r', [7, 2, 8, 7, 3, 9, 7, 1]);
  assert.ok(!plain.propose('r', 4).sources?.includes('line'));
});

function hasRootPath(d: Draft, path: readonly number[]): boolean {
  for (let j = 0; j < d.tokens.length; j++) {
    const p = rootPath(d, j);
    if (p.length === path.length && p.every((t, k) => t === path[k])) return true;
  }
  return false;
}

test('while the output restates the prompt, the prompt continues the draft', () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 2, maxLength: 40 }), fc.nat(), (prompt, cut) => {
      const d = new HybridDrafter();
      d.begin('r', prompt);
      const g = cut % prompt.length;
      d.observe('r', prompt.slice(0, g));
      const draft = d.propose('r', 1000);
      const want = prompt.slice(g, g + Math.min(8, prompt.length - g));
      assert.ok(hasRootPath(draft, want), `draft lacks the prompt's continuation ${want.join(',')} after ${g} tokens`);
    }),
    { numRuns: 150 },
  );
});

test('on rewrites (the prompt with spans replaced), drafts stay valid trees whose paths come from known text', () => {
  const edit = fc.record({
    prompt: fc.array(fc.integer({ min: 0, max: 40 }), { minLength: 10, maxLength: 80 }),
    edits: fc.array(fc.record({ at: fc.nat(), cut: fc.nat({ max: 6 }), text: fc.array(fc.integer({ min: 30, max: 60 }), { maxLength: 8 }) }), { maxLength: 4 }),
  });
  fc.assert(
    fc.property(fc.array(edit, { minLength: 1, maxLength: 3 }), fc.integer({ min: 1, max: 24 }), fc.integer({ min: 1, max: 5 }), (records, budget, stride) => {
      const d = new HybridDrafter();
      const earlier: number[][] = [];
      records.forEach((r, n) => {
        const output = r.prompt.slice();
        for (const e of r.edits) {
          const at = e.at % (output.length + 1);
          output.splice(at, e.cut, ...e.text);
        }
        const id = `r${n}`;
        d.begin(id, r.prompt);
        const context = r.prompt.slice();
        for (let i = 0; i < output.length; i += stride) {
          const draft = d.propose(id, budget);
          assert.ok(draft.tokens.length <= budget);
          for (let j = 0; j < draft.tokens.length; j++) {
            const p = draft.parents[j]!;
            assert.ok(p >= -1 && p < j, 'topological order');
            assert.ok(occursIn([context, ...earlier], rootPath(draft, j)), 'path copied from known text');
          }
          const step = output.slice(i, i + stride);
          d.observe(id, step);
          context.push(...step);
        }
        d.end(id, output);
        earlier.push(output);
      });
    }),
    { numRuns: 150 },
  );
});
