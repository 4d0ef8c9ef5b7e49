import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import * as esbuild from 'esbuild';
import { createBlockEndRule } from './blockEnd';
import { grammarWasmPath, runtimeWasmPath } from './wasmPaths';

/** Applies the rule the way the decoder does: after each growing piece of the completion, and cuts at the first stop. */
async function cut(language: string, prefix: string, completion: string, suffix = ''): Promise<string> {
  const rule = await createBlockEndRule(language, prefix, suffix);
  assert.ok(rule, `no rule for ${language}`);
  for (let n = 1; n <= completion.length; n++) {
    const at = rule(completion.slice(0, n));
    if (at >= 0) return completion.slice(0, at);
  }
  return completion;
}

describe('block-end rule', () => {
  it('finds the runtime and the grammars', () => {
    assert.ok(runtimeWasmPath());
    for (const l of ['typescript', 'python', 'go', 'rust']) assert.ok(grammarWasmPath(l), l);
    assert.equal(grammarWasmPath('plaintext'), undefined);
  });

  it('has no rule for a language without a grammar', async () => {
    assert.equal(await createBlockEndRule('plaintext', 'a', ''), undefined);
  });

  it('TypeScript: a return statement ends at its semicolon', async () => {
    const prefix = 'export function add(a: number, b: number): number {\n  return ';
    const got = await cut('typescript', prefix, 'a + b;\n}\n\nexport function sub(a: number, b: number) {\n  return a - b;\n}\n');
    assert.equal(got, 'a + b;');
  });

  it('TypeScript: a blank line in a body completes the body and keeps the closing brace', async () => {
    const prefix = 'class Stack<T> {\n  private items: T[] = [];\n  push(item: T): void {\n    ';
    const completion = 'this.items.push(item);\n    if (this.items.length > 100) {\n      this.items.shift();\n    }\n  }\n\n  pop(): T | undefined {\n    return this.items.pop();\n  }\n}\n';
    const got = await cut('typescript', prefix, completion);
    assert.equal(got, 'this.items.push(item);\n    if (this.items.length > 100) {\n      this.items.shift();\n    }\n  }');
  });

  it('TypeScript: drops the closing brace when the suffix already has it', async () => {
    const prefix = 'function total(xs: number[]): number {\n  ';
    const got = await cut('typescript', prefix, 'let s = 0;\n  for (const x of xs) s += x;\n  return s;\n}\n\nconsole.log(1);', '\n}\n');
    assert.equal(got, 'let s = 0;\n  for (const x of xs) s += x;\n  return s;');
  });

  it('TypeScript: after an opening brace the whole declaration is written', async () => {
    const prefix = 'import fs from "node:fs";\n\nexport function readJson(file: string): unknown {';
    const got = await cut('typescript', prefix, '\n  const text = fs.readFileSync(file, "utf8");\n  return JSON.parse(text);\n}\n\nexport const x = 1;\n');
    assert.equal(got, '\n  const text = fs.readFileSync(file, "utf8");\n  return JSON.parse(text);\n}');
  });

  it('TypeScript: text after the cursor on its line keeps the completion on one line', async () => {
    const got = await cut('typescript', 'const xs = [1, 2, 3].map(', 'x => x * 2\nfoo();', ');\n');
    assert.equal(got, 'x => x * 2');
  });

  it('TypeScript: non-ASCII text before the cursor does not shift the cut', async () => {
    const prefix = 'const greeting = "héllo wörld ✓";\nfunction shout(): string {\n  return ';
    assert.equal(await cut('typescript', prefix, 'greeting.toUpperCase();\n}\nshout();'), 'greeting.toUpperCase();');
  });

  it('TypeScript: an unfinished completion is never cut', async () => {
    const rule = await createBlockEndRule('typescript', 'function f() {\n  ', '');
    assert.ok(rule);
    assert.equal(rule('if (x) {\n    y();'), -1);
    assert.equal(rule('return 1;'), -1);
    assert.equal(rule(''), -1);
  });

  it('Python: a function body ends at the dedent', async () => {
    const prefix = 'import math\n\n\ndef norm(x, y):\n    ';
    const got = await cut('python', prefix, 'squared = x * x + y * y\n    return math.sqrt(squared)\n\n\ndef dot(a, b):\n    return a[0] * b[0]\n');
    assert.equal(got, 'squared = x * x + y * y\n    return math.sqrt(squared)');
  });

  it('Python: a statement after code on the cursor line ends with its line', async () => {
    const prefix = 'def area(w, h):\n    result = ';
    const got = await cut('python', prefix, 'w * h\n    return result\n');
    assert.equal(got, 'w * h');
  });

  it('Python: a method inside a class stops at the next method', async () => {
    const prefix = 'class Inventory:\n    def __init__(self):\n        self.items = {}\n\n    def add(self, name, count):\n        ';
    const got = await cut('python', prefix, 'self.items[name] = self.items.get(name, 0) + count\n\n    def remove(self, name):\n        del self.items[name]\n');
    assert.equal(got, 'self.items[name] = self.items.get(name, 0) + count');
  });

  it('Go: a function body ends at its closing brace', async () => {
    const prefix = 'package main\n\nimport "fmt"\n\nfunc sum(xs []int) int {\n\t';
    const got = await cut('go', prefix, 'total := 0\n\tfor _, x := range xs {\n\t\ttotal += x\n\t}\n\treturn total\n}\n\nfunc main() {\n\tfmt.Println(sum(nil))\n}\n');
    assert.equal(got, 'total := 0\n\tfor _, x := range xs {\n\t\ttotal += x\n\t}\n\treturn total\n}');
  });

  it('Go: an if statement after the cursor line ends at its brace', async () => {
    const prefix = 'package main\n\nfunc check(err error) {\n\tif ';
    const got = await cut('go', prefix, 'err != nil {\n\t\tpanic(err)\n\t}\n\tprintln("ok")\n}\n');
    assert.equal(got, 'err != nil {\n\t\tpanic(err)\n\t}');
  });

  it('Rust: a let statement ends at its semicolon; a body ends at its brace', async () => {
    const prefix = 'fn mean(xs: &[f64]) -> f64 {\n    let total: f64 = ';
    assert.equal(await cut('rust', prefix, 'xs.iter().sum();\n    total / xs.len() as f64\n}\n'), 'xs.iter().sum();');
    const body = 'struct Point { x: f64, y: f64 }\n\nimpl Point {\n    fn norm(&self) -> f64 {\n        ';
    const got = await cut('rust', body, '(self.x * self.x + self.y * self.y).sqrt()\n    }\n\n    fn zero() -> Self {\n        Point { x: 0.0, y: 0.0 }\n    }\n}\n');
    assert.equal(got, '(self.x * self.x + self.y * self.y).sqrt()\n    }');
  });

  it('Rust: a match expression statement after code on the line ends at its brace', async () => {
    const prefix = 'fn name(n: u8) -> &\'static str {\n    let s = match n ';
    const got = await cut('rust', prefix, '{\n        0 => "zero",\n        _ => "many",\n    };\n    s', '\n}\n');
    assert.equal(got, '{\n        0 => "zero",\n        _ => "many",\n    };');
    // Without the closing brace of the function the tree is broken: no cut rather than a wrong one.
    const rule = await createBlockEndRule('rust', prefix, '');
    assert.equal(rule!('{\n        0 => "zero",'), -1);
  });

  it('incremental parses agree with a rule built from scratch at every length', async () => {
    const prefix = 'function f(a: number) {\n  const b = [\n    1,\n';
    const completion = '    2,\n  ];\n  return a + b.length;\n}\nf(1);\n';
    const rule = await createBlockEndRule('typescript', prefix, '');
    assert.ok(rule);
    for (let n = 1; n <= completion.length; n++) {
      const part = completion.slice(0, n);
      const fresh = await createBlockEndRule('typescript', prefix, '');
      assert.equal(rule(part), fresh!(part), `at ${JSON.stringify(part)}`);
    }
  });

  it('works bundled into an installed extension (dist/engine.js, wasm files under its node_modules)', async () => {
    const ext = fs.mkdtempSync(path.join(os.tmpdir(), 'presage-ext-'));
    try {
      const copy = (from: string, to: string): void => {
        fs.mkdirSync(path.dirname(path.join(ext, to)), { recursive: true });
        fs.copyFileSync(from, path.join(ext, to));
      };
      copy(runtimeWasmPath()!, 'node_modules/web-tree-sitter/web-tree-sitter.wasm');
      copy(grammarWasmPath('python')!, 'node_modules/@vscode/tree-sitter-wasm/wasm/tree-sitter-python.wasm');
      const entry = path.join(ext, 'entry.ts');
      fs.writeFileSync(entry, `import { createBlockEndRule } from ${JSON.stringify(path.resolve(__dirname, 'blockEnd'))};
createBlockEndRule('python', 'def f(x):\\n    ', '').then((rule) => console.log(JSON.stringify(rule ? rule('return x\\ny = 1') : null)));`);
      await esbuild.build({ entryPoints: [entry], bundle: true, platform: 'node', format: 'cjs', target: 'node20', outfile: path.join(ext, 'dist', 'engine.js'), logLevel: 'error' });
      const out = execFileSync(process.execPath, [path.join(ext, 'dist', 'engine.js')], { cwd: os.tmpdir(), encoding: 'utf8', env: { ...process.env, PRESAGE_TREE_SITTER_DIR: '' } });
      assert.equal(out.trim(), '8');
    } finally {
      fs.rmSync(ext, { recursive: true, force: true });
    }
  });
});
