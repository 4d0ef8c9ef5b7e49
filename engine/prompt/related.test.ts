import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { bestWindow, gatherRepoContext, importedModules, RecentEdits, uriPath, type CandidateDocument } from './related';

const doc = (uri: string, text: string, open = false): CandidateDocument => ({ uri, text, open });

test('imports are read from TypeScript, Python, C and Java code', () => {
  const ts = importedModules("import { add } from './math';\nimport x from 'react';\nconst u = require('../lib/util');\nimport './side';\nconst l = await import('./lazy');");
  assert.deepEqual(ts.relative.sort(), ['../lib/util', './lazy', './math', './side']);
  assert.deepEqual(ts.absolute, [], 'package imports are not workspace files');
  const py = importedModules('from .models import User\nfrom ..core.db import session\nfrom pkg.sub import thing\nimport os.path\n');
  assert.deepEqual(py.relative.sort(), ['../core/db', './models']);
  assert.deepEqual(py.absolute.sort(), ['os/path', 'pkg/sub']);
  assert.deepEqual(importedModules('#include "geometry/vec.h"\n#include <stdio.h>').relative, ['./geometry/vec.h']);
  assert.deepEqual(importedModules('import com.acme.Widget;').absolute, ['com/acme/Widget']);
});

test('related files: imports first, then recent edits, then open tabs; paths relative to the common folder', () => {
  const root = 'file:///home/me/proj';
  const current = `${root}/src/app.ts`;
  const docs = [
    doc(current, 'ignored: the current file'),
    doc(`${root}/src/math.ts`, 'export const add = (a: number, b: number) => a + b;'),
    doc(`${root}/src/ui/index.ts`, 'export function render() {}'),
    doc(`${root}/src/tab.ts`, 'export const openTab = 1;', true),
    doc(`${root}/src/recent.ts`, 'export const recent = 1;'),
    doc(`${root}/src/unrelated.ts`, 'export const add = 1; // shares an identifier, but neither open, recent nor imported'),
    doc(`${root}/README.md`, ''),
  ];
  const ctx = gatherRepoContext(current, "import { add } from './math';\nimport { render } from './ui';\nadd(1, ", ');\n', docs, { recent: [`${root}/src/recent.ts`] });
  const paths = ctx.related.map((r) => r.path);
  // The two imported files (in order of likeness to the cursor code), then the recent edit, then the open tab.
  assert.deepEqual(paths.slice(0, 2).sort(), ['math.ts', 'ui/index.ts']);
  assert.deepEqual(paths.slice(2), ['recent.ts', 'tab.ts']);
  assert.equal(ctx.path, 'app.ts');
  assert.equal(ctx.repoName, 'src');
  assert.equal(ctx.related.find((r) => r.path === 'math.ts')!.text, 'export const add = (a: number, b: number) => a + b;');
  assert.equal(gatherRepoContext(current, '', '', docs, { maxFiles: 1, recent: [`${root}/src/recent.ts`] }).related[0]!.path, 'recent.ts');
  assert.deepEqual(gatherRepoContext(current, 'x', '', [doc(current, 'x')]).related, []);
});

test('a long related file gives the window most like the code at the cursor, within the character cap', () => {
  const filler = Array.from({ length: 200 }, (_, i) => `const filler${i} = ${i};`).join('\n');
  const text = `${filler}\nexport function parseConfig(configText: string) {\n  return JSON.parse(configText);\n}\n${filler}`;
  const w = bestWindow(text, new Set(['parseConfig', 'configText']), 400);
  assert.ok(w.text.length <= 400);
  assert.ok(w.text.includes('parseConfig(configText'), w.text);
  fc.assert(
    fc.property(fc.array(fc.stringMatching(/^[a-z ]{0,30}$/), { maxLength: 60 }), fc.integer({ min: 10, max: 300 }), (lines, cap) => {
      const t = lines.join('\n');
      const got = bestWindow(t, new Set(['abc']), cap).text;
      assert.ok(got.length <= Math.max(cap, 0));
      assert.ok(t.includes(got));
    }),
  );
});

test('recent edits keep the latest first, bounded', () => {
  const r = new RecentEdits(3);
  for (const u of ['a', 'b', 'c', 'a', 'd']) r.touch(u);
  assert.deepEqual(r.list(), ['d', 'a', 'c']);
  r.forget('a');
  assert.deepEqual(r.list(), ['d', 'c']);
  assert.equal(uriPath('file:///home/me/My%20Proj/a.ts'), '/home/me/My Proj/a.ts');
  assert.equal(uriPath('untitled:Untitled-1'), 'Untitled-1');
});
