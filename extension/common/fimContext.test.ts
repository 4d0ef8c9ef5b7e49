import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { extractFimContext, trimOverlapWithLine, worthCompleting } from './fimContext';

describe('FIM context', () => {
  it('splits at the cursor', () => {
    const text = 'function f() {\n  return 1;\n}\n';
    const at = text.indexOf('1;');
    assert.deepEqual(extractFimContext(text, at), { prefix: 'function f() {\n  return ', suffix: '1;\n}\n', prefixStart: 0 });
  });

  it('caps prefix and suffix at whole lines', () => {
    const lines = Array.from({ length: 100 }, (_, i) => `line ${String(i).padStart(3, '0')}`);
    const text = lines.join('\n');
    const at = text.indexOf('line 050');
    const c = extractFimContext(text, at, { maxPrefixChars: 30, maxSuffixChars: 30 });
    assert.equal(c.prefix, 'line 047\nline 048\nline 049\n');
    assert.equal(c.suffix, 'line 050\nline 051\nline 052');
    assert.equal(text.slice(c.prefixStart, at), c.prefix);
  });

  it('rejects a cursor outside the document', () => {
    assert.throws(() => extractFimContext('abc', 4), /outside the document/);
    assert.throws(() => extractFimContext('abc', -1), /outside the document/);
  });

  it('is a contiguous window around the cursor within the caps', () => {
    fc.assert(fc.property(fc.string({ unit: fc.constantFrom('a', 'b', '\n'), maxLength: 200 }), fc.nat(), fc.integer({ min: 1, max: 50 }), fc.integer({ min: 1, max: 50 }), (text, n, maxP, maxS) => {
      const at = n % (text.length + 1);
      const c = extractFimContext(text, at, { maxPrefixChars: maxP, maxSuffixChars: maxS });
      assert.equal(text.slice(c.prefixStart, at), c.prefix);
      assert.ok(text.slice(at).startsWith(c.suffix));
      assert.ok(c.prefix.length <= maxP && c.suffix.length <= maxS);
      if (at <= maxP) assert.equal(c.prefixStart, 0);
      if (text.length - at <= maxS) assert.equal(c.suffix, text.slice(at));
    }));
  });

  it('does not complete in the middle of a word', () => {
    assert.equal(worthCompleting('const fo', 'o = 1'), false);
    assert.equal(worthCompleting('const foo', ' = 1'), true);
    assert.equal(worthCompleting('f(', ')'), true);
    assert.equal(worthCompleting('', ''), false);
  });

  it('drops an ending that repeats the rest of the line', () => {
    assert.equal(trimOverlapWithLine('a, b)', ')'), 'a, b');
    assert.equal(trimOverlapWithLine('a, b', ')'), 'a, b');
    assert.equal(trimOverlapWithLine('a)\nb)', ')'), 'a)\nb)');
    assert.equal(trimOverlapWithLine('x', ''), 'x');
  });
});
