import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { goRewrites } from './go';
import { editParses, parseSource } from './parse';
import { assertWholeLineExamples, examplesOf } from './testExamples';
import { makeRng, type RewriteExample } from './types';

const SERVER = `package server

import (
	"strings"
	"fmt"
	"os"
	"context"
)

type Point struct {
	x, y int
}

type Server struct {
	name  string
	label string
	limit int
}

// Rename: name is a parameter and also a field (s.name, Server{name: ...}); the key must block the rename.
func (s *Server) SetName(name string) {
	s.name = strings.TrimSpace(name)
	fmt.Println("renamed", s.name)
	s.limit = 10
	fmt.Println(Server{name: name})
}

// err is declared twice and x is shadowed in the if: neither may be renamed.
func load(path string, retries int) (int, error) {
	x := 0
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	if x := len(data); x > 4096 {
		fmt.Println("large file", x)
	}
	count, err := parse(data, retries)
	total := count * 2
	total++
	return total + x, err
}

// A func literal re-declares item; the struct literal key x blocks x.
func collect(points []Point, item int) []int {
	out := make([]int, 0, len(points))
	for _, p := range points {
		out = append(out, p.x+item)
	}
	apply := func(item int) int { return item * 3 }
	x := apply(item)
	origin := Point{x: 1, y: 2}
	out = append(out, origin.y, x)
	return out
}

func configure(
	ctx context.Context,
	server *Server,
	retries int,
) error {
	label := "primary"
	delay := 1.5
	if err := validate(server, label); err != nil {
		return err
	}
	fmt.Println(ctx, delay, retries, server.label)
	return nil
}

func measure() float64 {
	start := 2.25
	scaled := start * 4
	fmt.Println("scaled", scaled)
	return scaled
}

func parse(data []byte, retries int) (int, error) {
	n := len(data)
	for i := 0; i < retries; i++ {
		n += i
	}
	return n, nil
}

func validate(server *Server, label string) error { return nil }
`;

/** Identifier tokens of Go code, with strings, runes and comments blanked out (an oracle independent of tree-sitter). */
function codeTokens(text: string): { word: string; index: number }[] {
  const blanked = text.replace(/\/\/[^\n]*|\/\*[\s\S]*?\*\/|"(?:[^"\\\n]|\\.)*"|`[^`]*`|'(?:[^'\\\n]|\\.)*'/g,
    (m) => ' '.repeat(m.length));
  return [...blanked.matchAll(/(?<!\w)[A-Za-z_]\w*/g)].map((m) => ({ word: m[0], index: m.index! }));
}

/** The rename an oracle expects: every token of the old name that is not a field (`.name`) or a key (`name:`). */
function naiveRename(selection: string, oldName: string, newName: string): string {
  const blanked = selection.replace(/\/\/[^\n]*|"(?:[^"\\\n]|\\.)*"|`[^`]*`/g, (m) => ' '.repeat(m.length));
  const positions = codeTokens(selection)
    .filter((t) => t.word === oldName)
    .filter((t) => !/(?<!\.)\.\s*$/.test(blanked.slice(0, t.index)))
    .filter((t) => !(/[{,]\s*$/.test(blanked.slice(0, t.index)) && /^\s*:(?!=)/.test(blanked.slice(t.index + oldName.length))))
    .map((t) => t.index);
  let out = selection;
  for (const index of positions.reverse()) out = out.slice(0, index) + newName + out.slice(index + oldName.length);
  return out;
}

const examples = (source: string, seeds: number): Promise<RewriteExample[]> => examplesOf(goRewrites, source, seeds);

/** Per function, names declared twice (shadowing) or used as a composite-literal key: never renamed. */
const NOT_RENAMED: Record<string, string[]> = { SetName: ['name', 's'], load: ['err', 'x'], collect: ['item', 'x', '_'] };

test('go: every kind that applies to Go yields examples, each a whole-line selection whose edit parses', async () => {
  await assertWholeLineExamples(goRewrites, SERVER, await examples(SERVER, 8), ['const', 'try-catch']);
});

test('go rename: exactly the binding\'s references change, never fields, keys, strings or shadowed names', async () => {
  const renames = (await examples(SERVER, 20)).filter((ex) => ex.kind === 'rename');
  assert.ok(renames.length >= 5);
  const seen = new Set<string>();
  for (const ex of renames) {
    const [, oldName, newName] = /^Rename (\w+) to (\w+)$/.exec(ex.instruction)!;
    seen.add(oldName!);
    const fn = /func (?:\([^)]*\) )?(\w+)/.exec(ex.selection)![1]!;
    assert.ok(!(NOT_RENAMED[fn] ?? []).includes(oldName!), `${oldName} must not be renamed in ${fn}`);
    assert.ok(!codeTokens(ex.selection).some((t) => t.word === newName), 'the new name is fresh');
    assert.equal(ex.output, naiveRename(ex.selection, oldName!, newName!));
    // Mapping the new name back gives the selection: nothing else in the text moved.
    assert.equal(ex.output.replace(new RegExp(`\\b${newName}\\b`, 'g'), oldName!), ex.selection);
  }
  assert.ok(seen.has('label') && (seen.has('path') || seen.has('retries') || seen.has('total')), [...seen].join(','));
});

test('go rename: in SetName the field s.name and the string stay while the parameter is renamed', async () => {
  const source = 'package p\n\nfunc (s *S) Set(title string) {\n\ts.title = title + "title"\n\tuse(s, title)\n}\n';
  const tree = await parseSource('go', source);
  const [ex] = goRewrites.generate(source, tree, makeRng(3)).filter((e) => e.kind === 'rename');
  tree.delete();
  // title appears in a string literal, so the only candidate left is none: the receiver is skipped.
  assert.equal(ex, undefined);
  const plain = 'package p\n\nfunc (s *S) Set(title string) {\n\ts.title = title\n\tuse(s, title)\n}\n';
  const tree2 = await parseSource('go', plain);
  const [ex2] = goRewrites.generate(plain, tree2, makeRng(3)).filter((e) => e.kind === 'rename');
  tree2.delete();
  assert.ok(ex2);
  const newName = /to (\w+)$/.exec(ex2.instruction)![1]!;
  assert.equal(ex2.output, `func (s *S) Set(${newName} string) {\n\ts.title = ${newName}\n\tuse(s, ${newName})\n}`);
});

test('go add-parameter: appended last, multi-line lists keep one item per line, first plain call gets the argument', async () => {
  const adds = (await examples(SERVER, 20)).filter((ex) => ex.kind === 'add-parameter');
  const byCallee = new Map(adds.map((ex) => [/pass it to (\w+)$/.exec(ex.instruction)![1]!, ex]));
  const validate = byCallee.get('validate');
  assert.ok(validate, 'configure calls validate');
  const [, name, type] = /^Add a parameter (\w+) ([\w.]+) and/.exec(validate.instruction)!;
  assert.ok(validate.output.includes(`\tretries int,\n\t${name} ${type},\n) error {`), validate.output);
  assert.ok(validate.output.includes(`validate(server, label, ${name})`));
  for (const ex of adds) {
    const callee = /pass it to (\w+)$/.exec(ex.instruction)![1]!;
    assert.ok(!['len', 'append', 'make', 'apply'].includes(callee), `${callee} is a builtin or a local`);
  }
  const parse = byCallee.get('parse');
  if (parse) assert.match(parse.output, /^func load\(path string, retries int, \w+ [\w.]+\) \(int, error\)/);
});

test('go change-literal, log-entry, delete-statement: one token, one inserted line, one removed line', async () => {
  const all = await examples(SERVER, 12);
  for (const ex of all.filter((e) => e.kind === 'change-literal')) {
    const [, oldText, newText] = /^Change (.+) to (.+)$/.exec(ex.instruction)!;
    assert.equal(ex.selection.split(oldText!).length, 2, 'the old literal occurs once');
    assert.equal(ex.output, ex.selection.replace(oldText!, newText!));
  }
  for (const ex of all.filter((e) => e.kind === 'log-entry')) {
    const fn = /^Log when (\w+) is called$/.exec(ex.instruction)![1]!;
    const before = ex.selection.split('\n');
    const after = ex.output.split('\n');
    const open = before.findIndex((l) => l.trimEnd().endsWith('{'));
    assert.deepEqual(after.filter((_, i) => i !== open + 1), before);
    assert.equal(after[open + 1], `\tlog.Println("${fn} called")`);
  }
  for (const ex of all.filter((e) => e.kind === 'delete-statement')) {
    const line = /^Delete the line (.+)$/.exec(ex.instruction)![1]!;
    const before = ex.selection.split('\n');
    const after = ex.output.split('\n');
    assert.equal(after.length, before.length - 1);
    const removed = before.findIndex((l) => l.trim() === line);
    assert.deepEqual(before.filter((_, i) => i !== removed), after);
  }
  assert.ok(!all.some((e) => e.kind === 'log-entry' && e.instruction.includes('validate')), 'one-line bodies skipped');
});

test('go sort-imports: the spec lines sorted by ordinal order, a permutation of the input', async () => {
  fc.assert(fc.asyncProperty(
    fc.uniqueArray(fc.stringMatching(/^[a-z]{1,6}(\/[a-z]{1,4})?$/), { minLength: 3, maxLength: 8 }),
    fc.boolean(),
    async (paths, alias) => {
      const specs = paths.map((p, i) => (alias && i === 1 ? `\tx "${p}"` : `\t"${p}"`));
      const source = `package p\n\nimport (\n${specs.join('\n')}\n)\n\nfunc f() {}\n`;
      const tree = await parseSource('go', source);
      const found = goRewrites.generate(source, tree, makeRng(1)).filter((e) => e.kind === 'sort-imports');
      tree.delete();
      const sorted = [...specs].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      if (sorted.every((s, i) => s === specs[i])) {
        assert.equal(found.length, 0, 'already sorted: nothing to do');
        return;
      }
      assert.equal(found.length, 1);
      const ex = found[0]!;
      assert.equal(ex.selection, `import (\n${specs.join('\n')}\n)`);
      assert.equal(ex.output, `import (\n${sorted.join('\n')}\n)`);
      assert.ok(await editParses('go', source, ex));
    },
  ), { numRuns: 40 });
});

test('go sort-imports: blocks with comments or blank lines are left alone', async () => {
  const source = 'package p\n\nimport (\n\t"os"\n\n\t"fmt"\n\t"bytes"\n)\n\nimport (\n\t"os" // files\n\t"fmt"\n\t"bytes"\n)\n';
  const tree = await parseSource('go', source);
  const found = goRewrites.generate(source, tree, makeRng(1)).filter((e) => e.kind === 'sort-imports');
  tree.delete();
  assert.equal(found.length, 0);
});
