import assert from 'node:assert/strict';
import { test } from 'node:test';
import { editParses } from './parse';
import { assertWholeLineExamples, examplesOf } from './testExamples';
import { type RewriteExample, type RewriteLanguage } from './types';
import { javascriptRewrites, typescriptRewrites } from './typescript';

const TS_SOURCE = `import { z } from './z';
import { b } from './b';
import { a } from './a';

export function total(items: Item[], rate: number): number {
  let sum = 0;
  const label = 'total';
  let scale = 10;
  for (const item of items) {
    sum += item.price * rate;
  }
  log(label, sum);
  report(sum);
  return sum * scale;
}

export class Cart {
  constructor(private readonly store: Store) {}

  add(item: Item, count: number): void {
    const entry = { item, count };
    const key = item.id;
    this.store.put(key, entry);
    notify(key);
  }
}

const shadowing = (values: number[]) => {
  const seen = values.length;
  const inner = (seen: number) => seen + 1;
  track(seen);
  return inner(seen);
};

function properties(record: Row) {
  const name = record.name;
  const other = { name: 'x', id: 3 };
  emit(name, other.name);
  return name;
}
`;

const JS_SOURCE = `const fs = require('fs');

function load(path, encoding) {
  var text = fs.readFileSync(path, encoding);
  var lines = text.split('\\n');
  var count = 0;
  count = lines.length;
  parse(lines, count);
  console.info("loaded");
  return lines;
}

module.exports = { load };
`;

function examples(language: RewriteLanguage, source: string, seeds = 12): Promise<RewriteExample[]> {
  return examplesOf(language === 'typescript' ? typescriptRewrites : javascriptRewrites, source, seeds);
}

/** Identifier tokens with their offsets: a naive lexer, independent of tree-sitter. */
function words(text: string): { word: string; at: number }[] {
  return [...text.matchAll(/[A-Za-z_$][\w$]*/g)].map((m) => ({ word: m[0], at: m.index! }));
}

test('every TypeScript kind but const-only cases yields examples whose edited file parses', async () => {
  await assertWholeLineExamples(typescriptRewrites, TS_SOURCE, await examples('typescript', TS_SOURCE), []);
});

test('JavaScript examples parse, and var becomes const only where never reassigned', async () => {
  const all = await examples('javascript', JS_SOURCE);
  for (const ex of all) assert.ok(await editParses('javascript', JS_SOURCE, ex), `${ex.kind}: ${ex.instruction}`);
  const toConst = all.find((e) => e.kind === 'const');
  assert.ok(toConst, 'no const example');
  assert.match(toConst.output, /const text = /);
  assert.match(toConst.output, /const lines = /);
  assert.match(toConst.output, /var count = 0/, 'count is reassigned and must stay var');
});

test('a rename changes exactly the binding references: not properties, keys, or a shadowed name', async () => {
  const renames = (await examples('typescript', TS_SOURCE, 40)).filter((e) => e.kind === 'rename');
  assert.ok(renames.length > 3);
  for (const ex of renames) {
    const [, old, fresh] = /^Rename (\S+) to (\S+)$/.exec(ex.instruction)!;
    const before = words(ex.selection);
    const after = words(ex.output);
    assert.equal(after.length, before.length, ex.instruction);
    // The oracle: a word changes iff it is `old` used as a variable (not after a dot, not an object key).
    const isBinding = (text: string, at: number, word: string): boolean =>
      word === old && text[at - 1] !== '.' && !/^\s*:(?!:)/.test(text.slice(at + word.length)) === true;
    for (let i = 0; i < before.length; i++) {
      const b = before[i]!;
      const a = after[i]!;
      if (a.word !== b.word) {
        assert.equal(b.word, old!, `${ex.instruction}: changed ${b.word}`);
        assert.equal(a.word, fresh!);
        assert.ok(b.word === old && ex.selection[b.at - 1] !== '.', `${ex.instruction}: renamed a property`);
      } else if (b.word === old) {
        // Left alone: only a property access or an object key may keep the old name.
        assert.ok(!isBinding(ex.selection, b.at, b.word), `${ex.instruction}: missed a reference at ${b.at}`);
      }
    }
  }
  // The shadowed name and the property-named binding are never offered.
  assert.ok(!renames.some((e) => /^Rename seen /.test(e.instruction)), 'a shadowed name was renamed');
  assert.ok(!renames.some((e) => /^Rename (item|count) /.test(e.instruction) && e.selection.includes('{ item, count }')), 'a shorthand property was renamed');
});

test('sort-imports sorts by module path and keeps every line', async () => {
  const sorted = (await examples('typescript', TS_SOURCE)).find((e) => e.kind === 'sort-imports')!;
  assert.deepEqual(sorted.output.split('\n'), ["import { a } from './a';", "import { b } from './b';", "import { z } from './z';"]);
});

test('delete-statement removes exactly one whole line', async () => {
  for (const ex of (await examples('typescript', TS_SOURCE)).filter((e) => e.kind === 'delete-statement')) {
    const before = ex.selection.split('\n');
    const after = ex.output.split('\n');
    assert.equal(after.length, before.length - 1);
    const removed = before.filter((l, i) => after[i] !== l)[0]!;
    assert.equal(`Delete the line ${removed.trim()}`, ex.instruction);
  }
});
