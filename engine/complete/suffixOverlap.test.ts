import assert from 'node:assert/strict';
import { test } from 'node:test';
import { suffixOverlapRule } from './suffixOverlap';

// Golden cases: [language, prefix, suffix, completion, kept].
const GOLDEN: [string, string, string, string, string][] = [
  ['typescript', 'function f(p: Point[]) {\n  ', '\n}\n', 'return p.length;\n}\n', 'return p.length;'],
  ['typescript', 'const x = foo(', ');\n', 'a, b);', 'a, b'],
  ['typescript', 'if (ok) {\n    ', '\n    done();\n}', 'log();\n    done();\n', 'log();'],
  ['python', 'def area(s):\n    ', '\n    return w * h\n', 'w = s.width\n    h = s.height\n    return w * h\n', 'w = s.width\n    h = s.height'],
  ['python', 'print(', ')\n', 'name)', 'name'],
  ['go', 'func main() {\n\t', '\n}\n', 'fmt.Println("hi")\n}', 'fmt.Println("hi")'],
  ['go', 'x := f(', ')\n', 'a, b', 'a, b'],
  ['rust', 'fn main() {\n    ', '\n}\n', 'let x = 1;\n    println!("{}", x);\n', 'let x = 1;\n    println!("{}", x);\n'],
  ['rust', 'let v = vec![', '];\n', '1, 2];', '1, 2'],
];

function apply(prefix: string, suffix: string, completion: string): string {
  const rule = suffixOverlapRule({ prefix, suffix });
  // As the pipeline runs it: while streaming (growing text), then once more at the end.
  for (let n = 1; n <= completion.length; n++) {
    const cut = rule(completion.slice(0, n), false);
    if (cut >= 0) return completion.slice(0, cut);
  }
  const cut = rule(completion, true);
  return cut >= 0 ? completion.slice(0, cut) : completion;
}

test('suffixOverlapRule: golden cases in TS, Python, Go and Rust', () => {
  for (const [language, prefix, suffix, completion, kept] of GOLDEN) assert.equal(apply(prefix, suffix, completion), kept, `${language}: ${JSON.stringify(completion)}`);
});

test('suffixOverlapRule never cuts the first line while streaming, nor when the suffix is empty', () => {
  const rule = suffixOverlapRule({ prefix: 'x = ', suffix: '' });
  assert.equal(rule('1\ny = 2\n', true), -1);
  const braces = suffixOverlapRule({ prefix: '{\n', suffix: '\n}' });
  assert.equal(braces('}\n', false), -1, 'the first line is the cursor line');
});
