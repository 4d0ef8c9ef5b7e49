import assert from 'node:assert/strict';
import { test } from 'node:test';
import { lineMode, lineModeRule } from './lineMode';

// Golden cases: [language, prefix, suffix, expected mode].
const GOLDEN: [string, string, string, 'single' | 'multi'][] = [
  ['typescript', 'function f(points: Point[]) {\n  ', '\n}\n', 'multi'],
  ['typescript', 'function f() {\n  for (let i = 0; ', '\n}\n', 'single'],
  ['typescript', 'const x = foo(', ');\n', 'single'],
  ['typescript', 'const total = 0;\n', '', 'single'],
  ['typescript', 'items.forEach((item) => {', '\n', 'multi'],
  ['python', 'def area(shape):\n    ', '\n', 'multi'],
  ['python', 'for name, count in ', '\n', 'single'],
  ['python', '# a comment ending in a colon:\n', '', 'single'],
  ['go', 'func main() {\n\t', '\n}\n', 'multi'],
  ['go', 'switch x {\ncase 1:\n\t', '\n}\n', 'multi'],
  ['go', 'x := compute(a, ', '\n', 'single'],
  ['rust', 'fn main() {\n    ', '\n}\n', 'multi'],
  ['rust', 'let v: Vec<u32> = ', '\n', 'single'],
  ['rust', 'impl Point {\n    fn new() -> Self {\n        Self { x: 0 }\n    }\n\n    ', '\n}\n', 'single'],
];

test('lineMode: golden cases in TS, Python, Go and Rust', () => {
  for (const [language, prefix, suffix, mode] of GOLDEN) assert.equal(lineMode({ prefix, suffix }), mode, `${language}: ${JSON.stringify(prefix)}`);
});

test('lineModeRule: single-line completions end at the first line break; multi-line ones are not cut', () => {
  const single = lineModeRule({ prefix: 'for name, count in ', suffix: '\n' })!;
  assert.equal(single('items.items():\n    print(name)', false), 'items.items():'.length);
  assert.equal(single('items.items():', false), -1);
  assert.equal(lineModeRule({ prefix: 'def f():\n    ', suffix: '' }), undefined);
});
