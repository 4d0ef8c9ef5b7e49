// bench-rewrite: the cases file is read strictly, the summary matches a naive count, and a run on the sample
// fixture with the demo model reports every case, per kind, with greedy and speculative outputs identical.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { benchRewrite, loadRewriteCases, median, parseRewriteCases, summarizeRewriteCases, type CaseResult } from './rewrite';

const root = path.resolve(__dirname, '..', '..');
const sample = path.join(root, 'engine', 'bench', 'fixtures', 'rewrite-sample.jsonl');
const demo = path.join(root, 'models', 'demo');

const line = (o: Record<string, unknown>): string => JSON.stringify(o);
const good = { id: 'a', kind: 'rename', language: 'go', package: 'p', path: 'x.go', instruction: 'rename x to y', prefix: '', selection: 'x', suffix: '', output: 'y' };

test('cases file: a bad line is an error naming the file and line, never a skipped case', () => {
  assert.equal(parseRewriteCases(`${line(good)}\n\n${line({ ...good, id: 'b' })}\n`, 'f').length, 2);
  assert.throws(() => parseRewriteCases(`${line(good)}\n{oops`, 'f.jsonl'), /f\.jsonl:2: not JSON/);
  assert.throws(() => parseRewriteCases(line({ ...good, output: 3 }), 'f.jsonl'), /f\.jsonl:1: field 'output' must be a string/);
  assert.throws(() => parseRewriteCases(`${line(good)}\n${line(good)}`, 'f.jsonl'), /f\.jsonl:2: case id 'a' is used twice/);
  assert.throws(() => parseRewriteCases(line({ ...good, instruction: ' ' }), 'f.jsonl'), /empty instruction/);
  assert.throws(() => loadRewriteCases(path.join(root, 'no-such-cases.jsonl')), /cannot read --cases .*no such file/);
});

test('summary: per-kind counts, exact rates, identity and medians agree with a naive count', () => {
  const result = fc.record({
    kind: fc.constantFrom('rename', 'const', 'try-catch'), exact: fc.boolean(), identical: fc.boolean(), tokens: fc.integer({ min: 0, max: 50 }),
    mat: fc.double({ min: 1, max: 8, noNaN: true }), greedy: fc.integer({ min: 1, max: 100 }), spec: fc.integer({ min: 1, max: 400 }),
  });
  fc.assert(
    fc.property(fc.array(result, { maxLength: 12 }), (rows) => {
      const results: CaseResult[] = rows.map((r, i) => ({
        id: `c${i}`, kind: r.kind, language: 'go', text: '', exact: r.exact, identical: r.identical, tokens: r.tokens, steps: 1, mat: r.mat,
        greedy_tokens_per_s: r.greedy, speculative_tokens_per_s: r.spec, first: 'greedy',
      }));
      const s = summarizeRewriteCases(results);
      for (const kind of ['rename', 'const', 'try-catch']) {
        const mine = rows.filter((r) => r.kind === kind);
        if (mine.length === 0) assert.equal(s.kinds[kind], undefined);
        else {
          assert.equal(s.kinds[kind]!.cases, mine.length);
          assert.equal(s.kinds[kind]!.exact, mine.filter((r) => r.exact).length);
        }
      }
      assert.equal(s.overall.cases, rows.length);
      assert.equal(s.identical, `${rows.filter((r) => r.identical).length}/${rows.length}`);
      assert.deepEqual(s.mismatches, results.filter((r) => !r.identical).map((r) => r.id));
      const timed = rows.filter((r) => r.tokens > 0);
      const sorted = timed.map((r) => r.spec / r.greedy).sort((a, b) => a - b);
      const n = sorted.length;
      const naiveMedian = n === 0 ? 0 : n % 2 ? sorted[(n - 1) / 2]! : (sorted[n / 2 - 1]! + sorted[n / 2]!) / 2;
      assert.ok(Math.abs(s.speed.median_ratio - naiveMedian) < 1e-3, `${s.speed.median_ratio} vs ${naiveMedian}`);
    }),
  );
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 2, 3]), 2.5);
});

test('bench-rewrite on the sample fixture (demo model): every case counted under its kind, exact means equal to the output, identical outputs', async () => {
  const cases = loadRewriteCases(sample);
  // The fixture's kinds, counted from its raw lines.
  const expected = new Map<string, number>();
  for (const raw of fs.readFileSync(sample, 'utf8').split('\n').filter(Boolean)) {
    const kind = (JSON.parse(raw) as { kind: string }).kind;
    expected.set(kind, (expected.get(kind) ?? 0) + 1);
  }
  const { report, cases: results } = await benchRewrite({ model: demo, cases, casesFile: sample, maxTokens: 12, calibrate: false });
  assert.deepEqual(Object.keys(report.kinds).sort(), [...expected.keys()].sort());
  for (const [kind, n] of expected) assert.equal(report.kinds[kind]!.cases, n, kind);
  assert.equal(report.overall.cases, cases.length);
  assert.equal(report.identical, `${cases.length}/${cases.length}`, `mismatches: ${report.mismatches.join(', ')}`);
  assert.deepEqual(results.map((r) => r.first), cases.map((_, i) => (i % 2 === 0 ? 'greedy' : 'speculative')), 'the order alternates');
  for (const [i, r] of results.entries()) {
    assert.equal(r.id, cases[i]!.id);
    assert.equal(r.exact, r.text === cases[i]!.output, r.id);
    assert.ok(r.tokens > 0 && r.tokens <= 12 && r.steps <= r.tokens, `${r.id}: ${r.steps} steps, ${r.tokens} tokens`);
  }
  assert.equal(Object.values(report.kinds).reduce((n, k) => n + k.exact, 0), report.overall.exact);
});

test('bench-rewrite CLI: an unknown --kinds value is a clear error with exit code 2', () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'engine', 'main.ts'), 'bench-rewrite', '--model', demo, '--cases', sample, '--kinds', 'rename,nope'], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /--kinds: no case has kind 'nope' \(kinds in .*: change-literal, const, delete-statement, rename\)/);
});
