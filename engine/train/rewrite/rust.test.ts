import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { rustRewrites } from './rust';
import { editParses, parseSource } from './parse';
import { assertWholeLineExamples, examplesOf } from './testExamples';
import { makeRng, type RewriteExample } from './types';

const INVENTORY = `use std::time::Duration;
use std::collections::HashMap;
use crate::model::Item;
use std::fmt;

#[derive(Debug, Clone)]
pub struct Point {
    x: i32,
    y: i32,
}

pub struct Store {
    name: String,
    items: HashMap<String, Item>,
}

impl Store {
    // Rename: label is a plain binding; self.name is a field and must stay.
    pub fn describe(&self, label: &str) -> String {
        let count = self.items.len();
        let header = format!("{}: {} items", label, count);
        println!("{} ({})", header, self.name);
        header
    }

    // x is declared twice (shadowing): never renamed.
    fn shift(&mut self, x: i32, dy: i32) -> Point {
        let x = x + 1;
        let origin = Point { x: 0, y: dy };
        let moved = vec![origin.x + x, dy];
        #[allow(unused_variables)]
        let spare = 3;
        Point { x, y: moved[1] }
    }

    // y is used in field shorthand and width in an inline format argument: neither is renamed.
    fn area(
        &self,
        width: u32,
        y: i32,
        scale: f64,
    ) -> f64 {
        let point = Point { x: 2, y };
        let total = compute(width, scale);
        println!("{width} {:?}", point);
        'outer: for step in 0..10 {
            if step > 4 {
                break 'outer;
            }
        }
        total * 1.5
    }
}

fn compute(width: u32, scale: f64) -> f64 {
    let base = width as f64;
    let padded = base + 16.0;
    let label = "metric";
    let result = std::cmp::max(padded as u32, 8u32);
    println!("{}", label);
    result as f64 * scale
}

fn retry(attempts: usize) -> usize {
    let mut left = attempts;
    while left > 0 {
        left -= 1;
        log_attempt(left);
    }
    left
}

fn log_attempt(n: usize) { let _ = n; }
`;

/** Identifier tokens of Rust code with strings, chars, comments and attributes blanked (independent of tree-sitter). */
function blank(text: string): string {
  return text.replace(
    /\/\/[^\n]*|\/\*[\s\S]*?\*\/|#!?\[[^\]\n]*\]|r#*"[^"]*"#*|"(?:[^"\\]|\\.)*"|'(?:[^'\\\n]|\\.)'/g,
    (m) => ' '.repeat(m.length),
  );
}

/** The innermost unclosed bracket before an index. */
function enclosingBracket(text: string, index: number): string | undefined {
  const closing: Record<string, string> = { ')': '(', ']': '[', '}': '{' };
  const stack: string[] = [];
  for (let i = 0; i < index; i++) {
    const c = text[i]!;
    if ('([{'.includes(c)) stack.push(c);
    else if (c in closing) stack.pop();
  }
  return stack[stack.length - 1];
}

/** The rename an oracle expects: tokens of the old name that are not fields, paths, labels, lifetimes or macros. */
function naiveRename(selection: string, oldName: string, newName: string): string {
  const code = blank(selection);
  const positions = [...code.matchAll(/(?<!\w)[A-Za-z_]\w*/g)]
    .filter((m) => m[0] === oldName)
    .map((m) => m.index!)
    .filter((i) => !/((?<!\.)\.|::|')\s*$/.test(code.slice(0, i)))
    .filter((i) => !/^\s*(::|!(?!=))/.test(code.slice(i + oldName.length)))
    .filter((i) => !(/[{,]\s*$/.test(code.slice(0, i)) && /^\s*:(?!:)/.test(code.slice(i + oldName.length)) &&
      enclosingBracket(code, i) === '{'));
  let out = selection;
  for (const index of positions.reverse()) out = out.slice(0, index) + newName + out.slice(index + oldName.length);
  return out;
}

const examples = (source: string, seeds: number): Promise<RewriteExample[]> => examplesOf(rustRewrites, source, seeds);

/** Per function: shadowed, shorthand-field and inline-format names, never renamed. */
const NOT_RENAMED: Record<string, string[]> = { shift: ['x', 'spare'], area: ['y', 'width', 'step'] };

test('rust: every kind that applies to Rust yields examples, each a whole-line selection whose edit parses', async () => {
  await assertWholeLineExamples(rustRewrites, INVENTORY, await examples(INVENTORY, 8), ['const', 'try-catch']);
});

test('rust rename: exactly the binding\'s references change, in macros too, never fields or shadowed names', async () => {
  const renames = (await examples(INVENTORY, 24)).filter((ex) => ex.kind === 'rename');
  assert.ok(renames.length >= 5);
  const seen = new Set<string>();
  for (const ex of renames) {
    const [, oldName, newName] = /^Rename (\w+) to (\w+)$/.exec(ex.instruction)!;
    const fn = /fn (\w+)/.exec(ex.selection)![1]!;
    seen.add(`${fn}.${oldName}`);
    assert.ok(!(NOT_RENAMED[fn] ?? []).includes(oldName!), `${oldName} must not be renamed in ${fn}`);
    assert.ok(!new RegExp(`\\b${newName}\\b`).test(ex.selection), 'the new name is fresh');
    assert.equal(ex.output, naiveRename(ex.selection, oldName!, newName!));
    assert.equal(ex.output.replace(new RegExp(`\\b${newName}\\b`, 'g'), oldName!), ex.selection);
  }
  // Bindings used inside macros (format!, println!, vec!) are among those renamed.
  assert.ok(seen.has('describe.label') || seen.has('describe.header') || seen.has('describe.count'), [...seen].join(','));
  assert.ok(seen.has('compute.label') || seen.has('shift.dy') || seen.has('shift.origin'), [...seen].join(','));
});

test('rust rename: a binding in a macro token tree is renamed, the string and self field are not', async () => {
  const source = 'fn show(&self, label: &str) {\n    println!("{} label", label);\n    let v = vec![label, self.label];\n}\n';
  const tree = await parseSource('rust', source);
  const renames = rustRewrites.generate(source, tree, makeRng(5)).filter((e) => e.kind === 'rename');
  tree.delete();
  // "label" is inside a string, so it is not a candidate; v is, and has no references: nothing to rename.
  assert.equal(renames.length, 0);
  const plain = 'fn show(&self, label: &str) {\n    println!("{}", label);\n    let v = vec![label, self.label];\n    v\n}\n';
  const tree2 = await parseSource('rust', plain);
  const [ex] = rustRewrites.generate(plain, tree2, makeRng(5)).filter((e) => e.kind === 'rename' && e.instruction.includes(' label '));
  tree2.delete();
  // `self.label` inside vec![] is a field in a token tree: ambiguous, so label is skipped too.
  assert.equal(ex, undefined);
  const clean = 'fn show(label: &str) {\n    println!("{}", label);\n    let v = vec![label, "x"];\n    v\n}\n';
  const tree3 = await parseSource('rust', clean);
  const [ex3] = rustRewrites.generate(clean, tree3, makeRng(5)).filter((e) => e.kind === 'rename' && e.instruction.includes(' label '));
  tree3.delete();
  assert.ok(ex3);
  const newName = /to (\w+)$/.exec(ex3.instruction)![1]!;
  assert.equal(ex3.output, `fn show(${newName}: &str) {\n    println!("{}", ${newName});\n    let v = vec![${newName}, "x"];\n    v\n}`);
});

test('rust add-parameter: appended last, multi-line lists keep one item per line, first plain call gets the argument', async () => {
  const adds = (await examples(INVENTORY, 20)).filter((ex) => ex.kind === 'add-parameter');
  const byCallee = new Map(adds.map((ex) => [/pass it to (\w+)$/.exec(ex.instruction)![1]!, ex]));
  const compute = byCallee.get('compute');
  assert.ok(compute, 'area calls compute');
  const [, name, type] = /^Add a parameter (\w+): (\S+) and/.exec(compute.instruction)!;
  assert.ok(compute.output.includes(`        scale: f64,\n        ${name}: ${type},\n    ) -> f64 {`), compute.output);
  assert.ok(compute.output.includes(`compute(width, scale, ${name})`));
  const retry = byCallee.get('log_attempt');
  assert.ok(retry);
  assert.match(retry.output, /^fn retry\(attempts: usize, \w+: \S+\) -> usize/);
  for (const ex of adds) {
    const callee = /pass it to (\w+)$/.exec(ex.instruction)![1]!;
    assert.ok(!['Point', 'Some', 'max', 'vec'].includes(callee), `${callee} is not a plain function call`);
  }
});

test('rust change-literal, log-entry, delete-statement: one token, one inserted line, one removed line', async () => {
  const all = await examples(INVENTORY, 12);
  for (const ex of all.filter((e) => e.kind === 'change-literal')) {
    const [, oldText, newText] = /^Change (.+) to (.+)$/.exec(ex.instruction)!;
    assert.equal(ex.selection.split(oldText!).length, 2, 'the old literal occurs once');
    assert.equal(ex.output, ex.selection.replace(oldText!, newText!));
    assert.ok(!oldText!.includes('{'), 'format strings are left alone');
  }
  assert.ok(all.some((e) => e.instruction === 'Change 8u32 to 16u32' || e.instruction === 'Change 8u32 to 9u32'
    || e.instruction.startsWith('Change "metric"') || e.instruction.startsWith('Change 16.0')));
  for (const ex of all.filter((e) => e.kind === 'log-entry')) {
    const fn = /^Log when (\w+) is called$/.exec(ex.instruction)![1]!;
    const before = ex.selection.split('\n');
    const after = ex.output.split('\n');
    const open = before.findIndex((l) => l.trimEnd().endsWith('{'));
    assert.deepEqual(after.filter((_, i) => i !== open + 1), before);
    const indent = /^ */.exec(before[open + 1]!)![0];
    assert.equal(after[open + 1], `${indent}println!("${fn} called");`);
  }
  assert.ok(!all.some((e) => e.kind === 'log-entry' && e.instruction.includes('log_attempt')), 'one-line bodies skipped');
  for (const ex of all.filter((e) => e.kind === 'delete-statement')) {
    const line = /^Delete the line (.+)$/.exec(ex.instruction)![1]!;
    assert.notEqual(line, 'let spare = 3;', 'a statement under an attribute stays');
    const before = ex.selection.split('\n');
    const after = ex.output.split('\n');
    assert.equal(after.length, before.length - 1);
    const removed = before.findIndex((l) => l.trim() === line);
    assert.deepEqual(before.filter((_, i) => i !== removed), after);
  }
});

test('rust sort-imports: runs of use lines sorted by ordinal order, a permutation of the input', async () => {
  fc.assert(fc.asyncProperty(
    fc.uniqueArray(fc.stringMatching(/^(std|crate|super)::[a-z]{1,5}(::[A-Za-z]{1,4})?$/), { minLength: 3, maxLength: 8 }),
    fc.boolean(),
    async (paths, pub) => {
      const lines = paths.map((p, i) => `${pub && i === 0 ? 'pub ' : ''}use ${p};`);
      const source = `//! Module docs.\n${lines.join('\n')}\n\nfn f() {}\n`;
      const tree = await parseSource('rust', source);
      const found = rustRewrites.generate(source, tree, makeRng(1)).filter((e) => e.kind === 'sort-imports');
      tree.delete();
      const sorted = [...lines].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      if (sorted.every((s, i) => s === lines[i])) {
        assert.equal(found.length, 0, 'already sorted: nothing to do');
        return;
      }
      assert.equal(found.length, 1);
      const ex = found[0]!;
      assert.equal(ex.selection, lines.join('\n'));
      assert.equal(ex.output, sorted.join('\n'));
      assert.ok(await editParses('rust', source, ex));
    },
  ), { numRuns: 40 });
});

test('rust sort-imports: attributes, comments and blank lines split the runs', async () => {
  const source = 'use b::x;\n#[cfg(test)]\nuse a::y;\nuse c::z;\n\nuse z::a;\n// note\nuse y::b;\nuse x::c;\n';
  const tree = await parseSource('rust', source);
  const found = rustRewrites.generate(source, tree, makeRng(1)).filter((e) => e.kind === 'sort-imports');
  tree.delete();
  assert.equal(found.length, 0);
  const inventory = (await examples(INVENTORY, 1)).filter((e) => e.kind === 'sort-imports');
  assert.equal(inventory.length, 1);
  assert.equal(inventory[0]!.output,
    'use crate::model::Item;\nuse std::collections::HashMap;\nuse std::fmt;\nuse std::time::Duration;');
});
