// The contract every registered drafter keeps. It iterates the registry, so a newly registered drafter is
// tested here without any change to this file.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { DrafterBase } from './base';
import { acceptedLength } from './draftTrie';
import { DRAFTER_NAMES, DRAFTERS, createDrafter } from './registry';
import { occursIn, rootPath } from './testSupport';
import type { Draft } from './types';

/** Checks the draft's shape and, against a naive scan of the available texts, where its paths come from. */
function checkDraft(name: string, d: Draft, budget: number, context: readonly number[], available: readonly (readonly number[])[]): void {
  const anchored = DRAFTERS[name as keyof typeof DRAFTERS].anchored;
  assert.ok(d.tokens.length <= budget, `${name}: ${d.tokens.length} nodes for a budget of ${budget}`);
  assert.equal(d.parents.length, d.tokens.length, `${name}: parents`);
  assert.equal(d.probs.length, d.tokens.length, `${name}: probs`);
  if (anchored && context.length === 0) assert.equal(d.tokens.length, 0, `${name}: nothing to match, nothing to draft`);
  let score = 0;
  for (let j = 0; j < d.tokens.length; j++) {
    const p = d.parents[j]!;
    assert.ok(Number.isInteger(p) && p >= -1 && p < j, `${name}: node ${j} has parent ${p} (topological order)`);
    assert.ok(d.probs[j]! >= 0 && d.probs[j]! <= 1, `${name}: node ${j} has probability ${d.probs[j]}`);
    score += d.probs[j]!;
    const path = rootPath(d, j);
    // Anchored: the path follows an occurrence of the context's last token (hence of its matched suffix).
    const needle = anchored ? [context[context.length - 1]!, ...path] : path;
    assert.ok(occursIn(available, needle), `${name}: path ${JSON.stringify(path)} after ${JSON.stringify(context.slice(-4))} is not in the available text`);
  }
  assert.ok(Math.abs(score - d.score) < 1e-6, `${name}: score ${d.score} is not the sum of probabilities ${score}`);
}

const tokens = (min: number, max: number) => fc.array(fc.integer({ min: 0, max: 5 }), { minLength: min, maxLength: max });
const scenarioArb = fc.record({
  docs: fc.array(tokens(0, 30), { maxLength: 2 }),
  records: fc.array(fc.record({ prompt: tokens(0, 25), refs: fc.array(tokens(0, 25), { maxLength: 2 }), output: tokens(1, 30) }), { minLength: 1, maxLength: 3 }),
  budget: fc.integer({ min: 0, max: 20 }),
  removeFirstDoc: fc.boolean(),
  clearAfter: fc.integer({ min: 0, max: 3 }),
});

for (const name of DRAFTER_NAMES) {
  test(`contract ${name}: extends DrafterBase, drafts are trees within budget from the available text, counters add up`, () => {
    fc.assert(
      fc.property(scenarioArb, (sc) => {
        const d = createDrafter(name);
        assert.ok(d instanceof DrafterBase, `${name} extends DrafterBase`);
        const docs = new Map<string, number[]>();
        sc.docs.forEach((doc, i) => {
          d.setDocument(`doc${i}`, doc);
          docs.set(`doc${i}`, doc);
        });
        const history: number[][] = [];
        let drafts = 0;
        let proposed = 0;
        let accepted = 0;
        sc.records.forEach((r, n) => {
          if (n === 1 && sc.removeFirstDoc) {
            d.removeDocument('doc0');
            docs.delete('doc0');
          }
          if (n === sc.clearAfter) {
            d.clearHistory();
            history.length = 0;
          }
          const id = `r${n}`;
          d.begin(id, r.prompt, r.refs);
          const context = r.prompt.slice();
          let i = 0;
          while (i < r.output.length) {
            const draft = d.propose(id, sc.budget);
            checkDraft(name, draft, sc.budget, context, [...r.refs, context, ...docs.values(), ...history]);
            const a = acceptedLength(draft, r.output, i);
            const step = r.output.slice(i, Math.min(r.output.length, i + a + 1));
            if (sc.budget > 0) {
              drafts++;
              proposed += draft.tokens.length;
              accepted += acceptedLength(draft, step, 0);
            }
            d.observe(id, step);
            context.push(...step);
            i += step.length;
          }
          d.end(id, r.output);
          history.push(r.output);
        });
        const stats = (d as DrafterBase).stats();
        assert.deepEqual([stats.drafts, stats.proposedTokens, stats.acceptedTokens], [drafts, proposed, accepted], `${name}: counters`);
        assert.ok(stats.draftMs >= 0 && stats.peakBytes >= 0);
      }),
      { numRuns: 60 },
    );
  });

  test(`contract ${name}: after end the request is gone; bad input gets a clear error`, () => {
    const d = createDrafter(name);
    d.begin('a', [1, 2, 3, 1, 2]);
    d.observe('a', [3]);
    d.end('a');
    // names such as 'hybrid+speculator' hold regex characters
    const quoted = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    assert.throws(() => d.propose('a', 4), new RegExp(`${quoted}: unknown request 'a'`));
    assert.throws(() => d.observe('a', [1]), /unknown request/);
    assert.equal((d as DrafterBase).hasRequest('a'), false);
    assert.throws(() => d.begin('b', [1, -1]), new RegExp(`${quoted}: prompt of b: token 1 is -1`));
    d.begin('c', [1, 2]);
    assert.throws(() => d.propose('c', -1), /maxTokens/);
    assert.throws(() => d.observe('c', [0.5]), /token 0 is 0.5/);
    assert.deepEqual(d.propose('c', 0).tokens, []);
    d.end('c');
    d.end('never begun');
  });

  test(`contract ${name}: drafts from earlier outputs vanish after clearHistory and return with importHistory`, () => {
    const out = Array.from({ length: 40 }, (_, i) => 100 + i);
    const fromHistory = (draft: Draft): boolean => draft.tokens.some((t) => t >= 110);
    const prompt = [7, ...out.slice(0, 10)];
    const d = createDrafter(name);
    d.begin('a', [1, 2, 3]);
    d.end('a', out);
    const saved = d.exportHistory();
    d.begin('b', prompt);
    const before = d.propose('b', 16);
    d.end('b');
    // A drafter keeps history exactly when it exports some, and then it drafts from it.
    if (saved.length > 0) assert.equal(before.tokens[before.parents.indexOf(-1)], 110, `${name}: copies the earlier output`);
    else assert.ok(!fromHistory(before), `${name}: keeps no history yet drafts from an earlier output`);
    d.clearHistory();
    d.begin('c', prompt);
    assert.ok(!fromHistory(d.propose('c', 16)), `${name}: drafts from an output after clearHistory`);
    d.end('c');
    const restored = createDrafter(name);
    restored.importHistory(saved);
    restored.begin('d', prompt);
    assert.equal(fromHistory(restored.propose('d', 16)), saved.length > 0, `${name}: importHistory restores what exportHistory wrote`);
  });
}

test('the registry names every drafter once and creates each by name', () => {
  assert.equal(new Set(DRAFTER_NAMES).size, DRAFTER_NAMES.length);
  for (const name of DRAFTER_NAMES) assert.equal(createDrafter(name).name, name);
  assert.throws(() => createDrafter('nope'), /unknown drafter 'nope' \(expected one of suffix, sam/);
});
