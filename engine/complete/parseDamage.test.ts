import assert from 'node:assert/strict';
import { test } from 'node:test';
import { damagesParse, parseErrorCount } from './parseDamage';

// Golden cases: [language, prefix, completion, suffix, damages].
const GOLDEN: [string, string, string, string, boolean][] = [
  ['typescript', 'function f(points: Point[]) {\n  for (let i = 0; ', ' i < points.length; i++) {', '\n  }\n}\n', false],
  ['typescript', 'function f(points: Point[]) {\n  for (let i = 0; ', '0; 0; i < points.length; i++) {', '\n  }\n}\n', true],
  ['typescript', 'const p = {\n  ', 'x: 1,', '\n};\n', false],
  ['python', 'for name, count in ', 'counts.items():', '\n    print(name)\n', false],
  ['python', 'total = 0\n', 'total += )', '\nprint(total)\n', true],
  // Valid syntax, wrong meaning: not this stage's business.
  ['python', 'for name, count in ', '1:', '\n    print(name)\n', false],
  ['go', 'func main() {\n\tx := ', 'compute(1, 2)', '\n}\n', false],
  ['go', 'func main() {\n\tx := 1\n\t', 'y := compute(x, 2)))', '\n}\n', true],
  ['rust', 'fn main() {\n    let v = ', 'vec![1, 2, 3];', '\n}\n', false],
  ['rust', 'fn main() {\n    let a = 1;\n    ', 'let v = vec![1, 2, 3]));', '\n}\n', true],
  ['plaintext', 'anything ', ')))(((', '', false],
  // A file cut short: its unclosed blocks are not the completion's doing.
  ['typescript', 'class A {\n  f() {\n    this.update(', 'name, list);', '', false],
];

test('damagesParse: golden cases in TS, Python, Go and Rust; no grammar never drops', async () => {
  for (const [language, prefix, completion, suffix, damages] of GOLDEN) {
    assert.equal(await damagesParse(language, prefix, completion, suffix), damages, `${language}: ${JSON.stringify(completion)}`);
  }
});

test('parseErrorCount counts errors and missing nodes, and nothing in valid code', async () => {
  assert.equal(await parseErrorCount('typescript', 'const a = 1;\nfunction f() { return a; }\n'), 0);
  assert.ok((await parseErrorCount('typescript', 'const a = ;\nfunction f( { return a; }\n'))! >= 1);
  assert.equal(await parseErrorCount('plaintext', 'x'), undefined);
});
