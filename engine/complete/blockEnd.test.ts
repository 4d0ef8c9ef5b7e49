import assert from 'node:assert/strict';
import { test } from 'node:test';
import { blockEndRule } from './blockEnd';

// Golden cases: [language, prefix, suffix, completion (streamed), kept]. The runaway past the end of the block is cut.
const GOLDEN: [string, string, string, string, string][] = [
  ['typescript', 'export function perimeter(points: Point[]): number {\n  let total = 0;\n  for (let i = 0; i < points.length; i++) {\n    ',
    '\n  }\n  return total;\n}\n',
    'total += distance(points[i], points[i + 1]);\n  }\n  return total;\n}\n\nexport function point(x: number) {\n',
    'total += distance(points[i], points[i + 1]);'],
  ['python', 'def area(shape):\n    ', '\n',
    'w = shape.width\n    return w * shape.height\n\ndef volume(shape):\n    return 0\n',
    'w = shape.width\n    return w * shape.height'],
  ['go', 'func sum(xs []int) int {\n\t', '\n}\n',
    't := 0\n\tfor _, x := range xs {\n\t\tt += x\n\t}\n\treturn t\n}\n\nfunc main() {\n',
    't := 0\n\tfor _, x := range xs {\n\t\tt += x\n\t}\n\treturn t'],
  ['rust', 'fn norm(p: &Point) -> f64 {\n    ', '\n}\n',
    '(p.x * p.x + p.y * p.y).sqrt()\n}\n\nfn main() {\n',
    '(p.x * p.x + p.y * p.y).sqrt()'],
  // No grammar: the indentation rule.
  ['plaintext', 'section:\n  ', '\n', 'item one\n  item two\nnext section:\n', 'item one\n  item two'],
];

async function apply(language: string, prefix: string, suffix: string, completion: string): Promise<string> {
  const rule = await blockEndRule({ language, prefix, suffix });
  for (let n = 1; n <= completion.length; n++) {
    const cut = rule(completion.slice(0, n), false);
    if (cut >= 0) return completion.slice(0, cut);
  }
  return completion;
}

test('blockEndRule: golden cases in TS, Python, Go and Rust (tree-sitter), and the indentation fallback', async () => {
  for (const [language, prefix, suffix, completion, kept] of GOLDEN) {
    assert.equal((await apply(language, prefix, suffix, completion)).trimEnd(), kept, language);
  }
});

test('blockEndRule falls back to indentation when the syntax rule fails', async () => {
  const errors: string[] = [];
  const rule = await blockEndRule({ language: 'typescript', prefix: 'if (a) {\n  ', suffix: '' }, () => Promise.reject(new Error('no wasm')), (e) => errors.push(e.message));
  assert.deepEqual(errors, ['no wasm']);
  assert.equal(rule('x();\n}\ny();\n', false), 'x();'.length);
});
