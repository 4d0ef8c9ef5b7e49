import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { definitionWindow, findSymbols, parseQuestion, selectSnippets, sourceLabel, windowAround, type Snippet } from './context';

const SHAPES = `// Geometry helpers
export interface Point {
  x: number;
  y: number;
}

export function distance(a: Point, b: Point): number {
  const dx = a.x - b.x;
  return Math.sqrt(dx * dx);
}

export function perimeter(points: Point[]): number {
  let total = 0;
  for (let i = 0; i < points.length; i++) {
    total += distance(points[i], points[(i + 1) % points.length]);
  }
  return total;
}
`;

test('parseQuestion finds files, code-like symbols and candidate words', () => {
  const q = parseQuestion('What does perimeter in shapes.ts do? Compare with `toPolygon` and @src/util/geo.py, e.g. max_area() or HTTPServer.');
  assert.deepEqual(q.files.sort(), ['shapes.ts', 'src/util/geo.py']);
  assert.deepEqual(q.symbols, ['toPolygon', 'max_area', 'HTTPServer']);
  assert.ok(q.words.includes('perimeter'));
  for (const w of ['What', 'does', 'shapes', 'Compare']) assert.ok(!q.words.includes(w) && !q.symbols.includes(w), w);
});

test('findSymbols prefers definitions, and plain words match definitions only', () => {
  const hits = findSymbols(SHAPES, ['distance'], ['perimeter', 'total']);
  assert.deepEqual(hits, [
    { symbol: 'distance', line: 6, definition: true },
    { symbol: 'perimeter', line: 11, definition: true },
    { symbol: 'total', line: 12, definition: true },
  ]);
  assert.deepEqual(findSymbols(SHAPES, [], ['points']), []);
  assert.deepEqual(findSymbols('foo(bar);\n', ['bar'], []), [{ symbol: 'bar', line: 0, definition: false }]);
  assert.deepEqual(findSymbols('def area(r):\n  return r\n', [], ['area']), [{ symbol: 'area', line: 0, definition: true }]);
});

test('definitionWindow covers the whole function', () => {
  const w = definitionWindow(SHAPES, 11);
  assert.equal(w.startLine, 11);
  const lines = w.text.split('\n');
  assert.equal(lines.at(-1), '}');
  assert.ok(lines.some((l) => l.includes('return total;')));
  assert.equal(definitionWindow('def f():\n    return 1\n\ndef g():\n    pass\n', 0).text, 'def f():\n    return 1\n');
  // Leading doc comments and decorators come along.
  assert.deepEqual(definitionWindow('x = 1\n/** Doc. */\n@dec\nfunction g() {\n}\n', 3), { startLine: 1, text: '/** Doc. */\n@dec\nfunction g() {\n}' });
});

test('windowAround clamps to the text', () => {
  assert.deepEqual(windowAround('a\nb\nc', 0, 5, 1), { startLine: 0, text: 'a\nb' });
  assert.deepEqual(windowAround('a\nb\nc', 9, 1, 5), { startLine: 1, text: 'b\nc' });
});

test('selectSnippets: by priority, no overlaps, within budget (property)', () => {
  const snippet = fc.record({
    uri: fc.constantFrom('file:///a', 'file:///b'),
    path: fc.constant('p'),
    startLine: fc.nat(30),
    text: fc.array(fc.string({ maxLength: 40 }).map((s) => s.replace(/\n/g, ' ')), { minLength: 1, maxLength: 12 }).map((l) => l.join('\n')),
    priority: fc.nat(10),
  });
  fc.assert(
    fc.property(fc.array(snippet, { maxLength: 10 }), fc.integer({ min: 0, max: 1500 }), fc.integer({ min: 1, max: 6 }), (cands: Snippet[], budget, max) => {
      const chosen = selectSnippets(cands, budget, max);
      assert.ok(chosen.length <= max);
      assert.ok(chosen.reduce((n, s) => n + s.text.length, 0) <= budget);
      for (let i = 0; i < chosen.length; i++) {
        for (let j = i + 1; j < chosen.length; j++) {
          const a = chosen[i]!;
          const b = chosen[j]!;
          assert.ok(a.priority >= b.priority);
          if (a.uri !== b.uri) continue;
          const aEnd = a.startLine + a.text.split('\n').length;
          const bEnd = b.startLine + b.text.split('\n').length;
          assert.ok(aEnd <= b.startLine || bEnd <= a.startLine, 'overlap');
        }
      }
      for (const s of chosen) assert.ok(cands.some((c) => c.uri === s.uri && c.startLine === s.startLine && c.text.startsWith(s.text)));
    }),
    { numRuns: 300 },
  );
});

test('sourceLabel gives a 1-based line', () => {
  assert.equal(sourceLabel('src/shapes.ts', 11), 'src/shapes.ts:12');
});
