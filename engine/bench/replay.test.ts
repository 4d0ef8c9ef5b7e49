import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { NoDrafter } from '../draft/none';
import { parseRecord, runReplay, validateDraft, type TokenizedRecord } from './replay';
import { DrafterBase } from '../draft/base';
import { acceptedLength } from '../draft/draftTrie';
import type { Draft, Drafter } from '../draft/types';

/** Knows every output: proposes the true continuation as a linear draft. */
class OracleDrafter extends DrafterBase<{ output: number[]; pos: number }> {
  readonly name = 'oracle';
  constructor(private readonly _outputs: Map<string, number[]>) {
    super();
  }
  protected open(id: string): { output: number[]; pos: number } {
    return { output: this._outputs.get(id)!, pos: 0 };
  }
  protected append(st: { pos: number }, tokens: readonly number[]): void {
    st.pos += tokens.length;
  }
  protected draft(st: { output: number[]; pos: number }, budget: number): Draft {
    const tokens = st.output.slice(st.pos, st.pos + budget);
    return { tokens, parents: tokens.map((_, j) => j - 1), probs: tokens.map(() => 1), score: tokens.length, matchLen: 0 };
  }
}

const recordsArb = fc.array(
  fc.record({
    prompt: fc.array(fc.integer({ min: 0, max: 50 }), { maxLength: 20 }),
    output: fc.array(fc.integer({ min: 0, max: 50 }), { minLength: 1, maxLength: 80 }),
    task: fc.constantFrom('edit', 'complete'),
  }),
  { minLength: 1, maxLength: 6 },
);

const toRecords = (rs: { prompt: number[]; output: number[]; task: string }[]): TokenizedRecord[] =>
  rs.map((r, i) => ({ id: `r${i}`, task: r.task, prompt: r.prompt, output: r.output, references: [] }));

test('a drafter proposing the true continuation reaches MAT = min(max_draft + 1, …)', () => {
  fc.assert(
    fc.property(recordsArb, fc.integer({ min: 0, max: 20 }), (rs, maxDraft) => {
      const records = toRecords(rs);
      const result = runReplay(records, new OracleDrafter(new Map(records.map((r) => [r.id, r.output]))), maxDraft);
      // Each step accepts max_draft tokens plus the bonus, except the record's last step.
      const steps = records.reduce((s, r) => s + Math.ceil(r.output.length / (maxDraft + 1)), 0);
      const total = records.reduce((s, r) => s + r.output.length, 0);
      assert.equal(result.steps, steps);
      assert.equal(result.output_tokens, total);
      assert.equal(result.mat, Math.round((total / steps) * 1000) / 1000);
      assert.ok(result.mat <= maxDraft + 1);
    }),
    { numRuns: 100 },
  );
});

test('the none drafter gives exactly 1.0', () => {
  fc.assert(
    fc.property(recordsArb, (rs) => {
      const result = runReplay(toRecords(rs), new NoDrafter(), 16);
      assert.equal(result.mat, 1);
      for (const v of Object.values(result.mat_by_task)) assert.equal(v, 1);
      assert.equal(result.steps, result.output_tokens);
    }),
    { numRuns: 50 },
  );
});

test('acceptedLength equals a naive walk over every root path', () => {
  const draftArb = fc.array(fc.record({ parent: fc.nat(), token: fc.integer({ min: 0, max: 3 }) }), { maxLength: 12 }).map((nodes) => {
    const d: Draft = { tokens: [], parents: [], probs: [], score: 0, matchLen: 0 };
    nodes.forEach((n, j) => {
      d.tokens.push(n.token);
      d.parents.push(j === 0 ? -1 : (n.parent % (j + 1)) - 1);
      d.probs.push(1);
    });
    return d;
  });
  fc.assert(
    fc.property(draftArb, fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 10 }), (d, truth) => {
      let best = 0;
      for (let j = 0; j < d.tokens.length; j++) {
        const path: number[] = [];
        for (let k = j; k >= 0; k = d.parents[k]!) path.unshift(d.tokens[k]!);
        if (path.every((t, i) => truth[i] === t)) best = Math.max(best, path.length);
      }
      assert.equal(acceptedLength(d, truth, 0), best);
    }),
    { numRuns: 300 },
  );
});

test('bad drafts and bad records get clear errors', () => {
  assert.throws(() => validateDraft({ tokens: [1, 2], parents: [-1, 1], probs: [1, 1], score: 2, matchLen: 0 }, 16, 'x'), /parent 1/);
  assert.throws(() => validateDraft({ tokens: [1, 2], parents: [-1, 0], probs: [1, 1], score: 2, matchLen: 0 }, 1, 'x'), /budget is 1/);
  assert.throws(() => parseRecord({ id: 'a', task: 'x', prompt: '', output: '' }, 'f:1'), /f:1: field 'task'/);
  assert.throws(() => parseRecord({ id: 'a', task: 'edit', prompt: 1, output: '' }, 'f:2'), /'prompt' must be a string/);
  const bad: Drafter = Object.assign(new NoDrafter(), { propose: () => ({ tokens: [1], parents: [3], probs: [1], score: 1, matchLen: 0 }) });
  assert.throws(() => runReplay(toRecords([{ prompt: [], output: [1], task: 'edit' }]), bad), /node 0 has parent 3/);
});
