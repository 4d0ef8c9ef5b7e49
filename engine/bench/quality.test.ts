import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { cutCase, summarize } from './quality';

test('cutCase: each cut splits one continuation line; prefix + truth + suffix is the whole text', () => {
  fc.assert(fc.property(fc.array(fc.string({ unit: fc.constantFrom('a', 'b', ' ', '(', '=', '.'), minLength: 0, maxLength: 20 }), { minLength: 1, maxLength: 8 }), fc.nat(), (lines, seed) => {
    const prompt = 'def f(x):\n';
    const output = lines.map((l) => `    ${l}`).join('\n');
    for (const c of cutCase('id', 'python', prompt, output, 3, seed)) {
      assert.equal(c.prefix + c.truth + c.suffix, prompt + output);
      assert.ok(c.prefix.length > prompt.length && !c.truth.includes('\n') && c.truth.length > 0);
      assert.ok(c.suffix === '' || c.suffix.startsWith('\n'));
      const before = c.prefix[c.prefix.length - 1]!;
      if (c.kind === 'space') assert.equal(before, ' ');
      if (c.kind === 'identifier') assert.match(before + c.truth[0], /^\w\w$/);
    }
  }));
  const cuts = cutCase('id', 'typescript', 'function f() {\n', '  const total = points.length + 1;\n  return total;\n}\n', 3, 7);
  assert.deepEqual(new Set(cuts.map((c) => c.kind)).size, cuts.length, 'different kinds');
});

test('summarize: exact first line, edit similarity, parse errors, lengths', () => {
  const s = summarize([
    { text: 'i < n; i++) {', truth: 'i < n; i++) {', ms: 10, addsParseErrors: false },
    { text: 'abcd\nmore', truth: 'abcd', ms: 30, addsParseErrors: true },
    { text: '', truth: 'xy', ms: 20, addsParseErrors: undefined },
  ]);
  assert.equal(s.cases, 3);
  assert.equal(s.exact_first_line, 0.667);
  assert.equal(s.edit_similarity, Math.round(((1 + (1 - 5 / 9) + 0) / 3) * 1000) / 1000);
  assert.equal(s.adds_parse_errors, 0.5);
  assert.equal(s.empty, 0.333);
  assert.equal(s.median_chars, 9);
  assert.equal(s.ms_p50, 20);
});
