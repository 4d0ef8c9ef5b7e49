import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { SuffixAutomatonDrafter } from './sam';
import { SuffixAutomaton } from './samAutomaton';
import { joinSegments, replayRequest, replayScenario, setDocuments, tokensOf } from './testSupport';
import type { Draft } from './types';

function occursAt(text: readonly number[], pattern: readonly number[], start: number): boolean {
  for (let k = 0; k < pattern.length; k++) if (text[start + k] !== pattern[k]) return false;
  return true;
}

function occurrences(text: readonly number[], pattern: readonly number[]): number[] {
  const ends: number[] = [];
  for (let s = 0; s + pattern.length <= text.length; s++) if (occursAt(text, pattern, s)) ends.push(s + pattern.length - 1);
  return ends;
}

/** Longest suffix of ctx (at most maxLen long) occurring in text; 0 when none. */
function naiveLongestSuffix(ctx: readonly number[], text: readonly number[], maxLen = ctx.length): number {
  for (let m = Math.min(maxLen, ctx.length); m > 0; m--) if (occurrences(text, ctx.slice(ctx.length - m)).length > 0) return m;
  return 0;
}

function rootPaths(draft: Draft): number[][] {
  const paths: number[][] = [];
  draft.tokens.forEach((t, j) => {
    const p = draft.parents[j]!;
    assert.ok(p < j, 'parents come before children');
    paths.push(p < 0 ? [t] : [...paths[p]!, t]);
  });
  return paths;
}

test('automaton: transitions accept exactly the substrings; counts and first positions match a scan (with compaction)', () => {
  fc.assert(
    fc.property(tokensOf(40), fc.array(tokensOf(5), { maxLength: 20 }), (text, queries) => {
      const sam = new SuffixAutomaton();
      // Compacting midway must not disturb later appends.
      text.forEach((t, i) => {
        if (i === text.length >> 1) sam.compact();
        sam.append(t);
      });
      sam.computeCounts();
      for (const q of [...queries, ...text.map((_, i) => text.slice(i, i + 3))]) {
        let state = 0;
        for (const t of q) {
          state = sam.next(state, t);
          if (state < 0) break;
        }
        const ends = occurrences(text, q);
        assert.equal(state >= 0, ends.length > 0, `substring ${JSON.stringify(q)}`);
        if (state > 0) {
          assert.equal(sam.count(state), ends.length);
          assert.equal(sam.firstPos(state), ends[0]);
        }
      }
      assert.ok(sam.stateCount <= Math.max(1, 2 * text.length));
    }),
    { numRuns: 200 },
  );
});

test('automaton: counts kept by append equal naive counts while fresh, and computeCounts restores them', () => {
  fc.assert(
    fc.property(tokensOf(60), fc.integer({ min: 1, max: 6 }), (text, limit) => {
      const sam = new SuffixAutomaton(limit);
      const check = (upTo: number) => {
        const prefix = text.slice(0, upTo);
        for (let i = 0; i < prefix.length; i++) {
          for (let j = i + 1; j <= Math.min(prefix.length, i + 4); j++) {
            let state = 0;
            for (const t of prefix.slice(i, j)) state = sam.next(state, t);
            assert.equal(sam.count(state), occurrences(prefix, prefix.slice(i, j)).length);
          }
        }
      };
      let sawStale = false;
      text.forEach((t, k) => {
        sam.append(t);
        if (sam.countsFresh) check(k + 1);
        else sawStale = true;
      });
      if (sawStale) {
        sam.computeCounts();
        check(text.length);
      }
    }),
    { numRuns: 150 },
  );
});

test('sam: dynamic, reference and static match lengths equal the brute-force longest suffix after random appends', () => {
  fc.assert(
    fc.property(
      replayScenario(15, 20),
      ({ documents, refs, prompt, chunks }) => {
        const drafter = new SuffixAutomatonDrafter();
        setDocuments(drafter, documents);
        const corpus = joinSegments(documents);
        replayRequest(drafter, prompt, refs, chunks, (ctx) => {
          const got = drafter.matchLengths('r');
          assert.equal(got.dynamic, naiveLongestSuffix(ctx, ctx.slice(0, -1)), 'dynamic');
          assert.equal(got.references, naiveLongestSuffix(ctx, joinSegments(refs)), 'references');
          assert.equal(got.static, naiveLongestSuffix(ctx, corpus), 'static');
        });
      },
    ),
    { numRuns: 200 },
  );
});

test('sam: every root path of a draft occurs right after the matched suffix', () => {
  fc.assert(
    fc.property(
      fc.array(tokensOf(25), { maxLength: 3 }),
      fc.array(tokensOf(25), { maxLength: 2 }),
      fc.array(tokensOf(25), { maxLength: 2 }),
      tokensOf(25),
      fc.array(tokensOf(4), { maxLength: 5 }),
      fc.integer({ min: 1, max: 12 }),
      (documents, outputs, refs, prompt, chunks, budget) => {
        const drafter = new SuffixAutomatonDrafter();
        setDocuments(drafter, documents);
        outputs.forEach((o, i) => {
          drafter.begin(`old${i}`, []);
          drafter.end(`old${i}`, o);
        });
        const corpus = joinSegments([...documents, ...outputs.filter((o) => o.length > 0)]);
        const refText = joinSegments(refs);
        replayRequest(drafter, prompt, refs, chunks, (ctx) => {
          const draft = drafter.propose('r', budget);
          const { dynamic, references, static: staticLen } = drafter.matchLengths('r');
          assert.ok(draft.tokens.length <= budget);
          assert.equal(draft.matchLen, Math.max(dynamic, references, staticLen));
          assert.ok(Math.abs(draft.score - draft.probs.reduce((a, b) => a + b, 0)) < 1e-9);
          for (const path of rootPaths(draft)) {
            const fromDynamic = dynamic > 0 && occurrences(ctx, [...ctx.slice(ctx.length - dynamic), ...path]).length > 0;
            const fromRefs = references > 0 && occurrences(refText, [...ctx.slice(ctx.length - references), ...path]).length > 0;
            const fromStatic = staticLen > 0 && occurrences(corpus, [...ctx.slice(ctx.length - staticLen), ...path]).length > 0;
            assert.ok(fromDynamic || fromRefs || fromStatic, `path ${JSON.stringify(path)} after ${JSON.stringify(ctx)}`);
          }
        });
      },
    ),
    { numRuns: 200 },
  );
});

test('sam: adaptive length copies from the earliest occurrence, and past outputs are searched', () => {
  const drafter = new SuffixAutomatonDrafter();
  drafter.begin('r', [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 1]);
  // matchLen 1 → at most 1 + 4 tokens.
  assert.deepEqual(drafter.propose('r', 16).tokens, [2, 3, 4, 5, 6]);
  drafter.observe('r', [2, 3]);
  assert.deepEqual(drafter.propose('r', 16).tokens, [4, 5, 6, 7, 8, 9, 10, 11, 12, 1, 2, 3]);
  drafter.end('r', [20, 21, 22, 23]);
  drafter.begin('s', [7, 20, 21]);
  const draft = drafter.propose('s', 16);
  assert.deepEqual(draft.tokens, [22, 23]);
  assert.equal(draft.matchLen, 2);
});

test('sam: the static tree branches where continuation counts differ', () => {
  const drafter = new SuffixAutomatonDrafter({ minTokenProb: 0.2 });
  drafter.setDocument('a', [5, 6, 7, 5, 6, 7, 5, 6, 8, 5, 6, 9]);
  drafter.begin('r', [5, 6]);
  const draft = drafter.propose('r', 16);
  const roots = draft.tokens.filter((_, j) => draft.parents[j] === -1);
  assert.deepEqual(roots.sort(), [7, 8, 9]);
  // 7 follows "5 6" twice out of four, so it ranks first and has the highest probability among roots.
  const p = (t: number) => draft.probs[draft.tokens.findIndex((x, j) => x === t && draft.parents[j] === -1)]!;
  assert.ok(p(7) > p(8) && p(8) === p(9));
});

test('sam: references are per request; documents can be replaced and removed', () => {
  const drafter = new SuffixAutomatonDrafter();
  drafter.begin('r', [1, 2], [[1, 2, 3, 4]]);
  assert.deepEqual(drafter.propose('r', 8).tokens, [3, 4]);
  drafter.begin('s', [1, 2]);
  assert.deepEqual(drafter.propose('s', 8).tokens, []);
  drafter.setDocument('doc', [1, 2, 7]);
  assert.deepEqual(drafter.propose('s', 8).tokens, [7]);
  // An edit appends the new version; the old one lingers as dead text until it outweighs the live text.
  drafter.setDocument('doc', [1, 2, 8]);
  assert.deepEqual(drafter.propose('s', 8).tokens.sort(), [7, 8]);
  drafter.setDocument('doc', [1, 2, 9]);
  assert.deepEqual(drafter.propose('s', 8).tokens, [9]);
  drafter.removeDocument('doc');
  assert.deepEqual(drafter.propose('s', 8).tokens, []);
});

test('sam: the static match covers live text and never reaches removed documents', () => {
  const op = fc.oneof(
    fc.record({ kind: fc.constant('set' as const), doc: fc.integer({ min: 0, max: 2 }), tokens: tokensOf(12) }),
    fc.record({ kind: fc.constant('remove' as const), doc: fc.integer({ min: 0, max: 2 }) }),
    fc.record({ kind: fc.constant('output' as const), tokens: tokensOf(12) }),
  );
  fc.assert(
    fc.property(fc.array(op, { maxLength: 12 }), tokensOf(10), (ops, prompt) => {
      const drafter = new SuffixAutomatonDrafter({ maxHistoryTokens: 20 });
      const versions = new Map<number, number[][]>();
      const live = new Map<number, number[]>();
      let history: number[][] = [];
      const everOutput: number[][] = [];
      ops.forEach((o, k) => {
        if (o.kind === 'set') {
          drafter.setDocument(`d${o.doc}`, o.tokens);
          live.set(o.doc, o.tokens);
          versions.set(o.doc, [...(versions.get(o.doc) ?? []), o.tokens]);
        } else if (o.kind === 'remove') {
          drafter.removeDocument(`d${o.doc}`);
          live.delete(o.doc);
          versions.delete(o.doc);
        } else {
          drafter.begin(`o${k}`, []);
          drafter.end(`o${k}`, o.tokens);
          if (o.tokens.length > 0) {
            history.push(o.tokens);
            everOutput.push(o.tokens);
            while (history.reduce((n, h) => n + h.length, 0) > 20) history = history.slice(1);
          }
        }
      });
      drafter.begin('r', prompt);
      const got = drafter.matchLengths('r').static;
      const lower = naiveLongestSuffix(prompt, joinSegments([...live.values(), ...history]));
      const upper = naiveLongestSuffix(prompt, joinSegments([...[...versions.values()].flat(), ...everOutput]));
      assert.ok(got >= lower && got <= upper, `match ${got} outside [${lower}, ${upper}]`);
    }),
    { numRuns: 300 },
  );
});

test('sam: end frees the request; history round-trips and corrupt buffers are rejected', () => {
  const drafter = new SuffixAutomatonDrafter();
  drafter.begin('a', [1, 2, 3]);
  drafter.end('a', [4, 5, 6, 4, 5, 7]);
  assert.equal(drafter.hasRequest('a'), false);
  assert.throws(() => drafter.propose('a', 4), /unknown request 'a'/);
  const idle = drafter.estimateBytes();
  drafter.begin('x', Array.from({ length: 500 }, (_, i) => i % 7));
  const withPrompt = drafter.estimateBytes();
  assert.ok(withPrompt > idle);
  drafter.begin('y', [1], [Array.from({ length: 500 }, (_, i) => i % 11)]);
  assert.ok(drafter.estimateBytes() > withPrompt + 500 * 4, 'references are counted');
  drafter.end('y');
  drafter.end('x');
  assert.equal(drafter.estimateBytes(), idle);
  const saved = drafter.exportHistory();

  const restored = new SuffixAutomatonDrafter();
  restored.importHistory(saved);
  assert.deepEqual(restored.exportHistory(), saved);
  restored.begin('b', [4, 5]);
  const draft = restored.propose('b', 4);
  assert.deepEqual(draft.tokens.filter((_, j) => draft.parents[j] === -1).sort(), [6, 7]);
  restored.clearHistory();
  assert.deepEqual(restored.propose('b', 4).tokens, []);
  assert.equal(restored.exportHistory().length, 12);

  assert.throws(() => restored.importHistory(new Uint8Array(5)), /shorter than the 12-byte header/);
  assert.throws(() => restored.importHistory(new Uint8Array(12)), /bad magic/);
  assert.throws(() => restored.importHistory(saved.subarray(0, saved.length - 2)), /past the end/);
  const padded = new Uint8Array(saved.length + 4);
  padded.set(saved);
  assert.throws(() => restored.importHistory(padded), /trailing bytes/);
  assert.throws(() => restored.begin('c', [1, 1 << 21]), /token 1/);
  assert.throws(() => new SuffixAutomatonDrafter({ lengthSlope: 0 }), /lengthSlope/);
  assert.throws(() => restored.propose('b', Number.NaN), /sam: maxTokens/);
});
