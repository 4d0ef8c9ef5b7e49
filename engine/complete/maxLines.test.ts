import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { maxLinesCut } from './maxLines';

// Golden cases: [language, completion, max lines, kept].
const GOLDEN: [string, string, number, string][] = [
  ['typescript', 'a();\nb();\nc();\n', 2, 'a();\nb();'],
  ['typescript', 'a();', 1, 'a();'],
  ['python', 'x = 1\ny = 2\n', 3, 'x = 1\ny = 2\n'],
  ['go', 'if err != nil {\n\treturn err\n}\nfmt.Println(x)\n', 3, 'if err != nil {\n\treturn err\n}'],
  ['rust', 'let a = 1;\nlet b = 2;', 1, 'let a = 1;'],
];

test('maxLinesCut: golden cases in TS, Python, Go and Rust', () => {
  for (const [language, text, max, kept] of GOLDEN) {
    const cut = maxLinesCut(text, max);
    assert.equal(cut < 0 ? text : text.slice(0, cut), kept, language);
  }
});

test('maxLinesCut keeps at most N lines and cuts nothing shorter (fast-check)', () => {
  fc.assert(fc.property(fc.string({ unit: fc.constantFrom('a', '\n', ' '), maxLength: 30 }), fc.integer({ min: 1, max: 5 }), (text, max) => {
    const cut = maxLinesCut(text, max);
    const lines = text.split('\n').length;
    if (lines <= max) assert.equal(cut, -1);
    else assert.equal(text.slice(0, cut).split('\n').length, max);
  }));
});
