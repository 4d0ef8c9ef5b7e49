import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { repetitionCut, tandemCut } from './repetition';

// Golden cases: [language, completion, expected text kept (the completion when nothing is cut)].
const GOLDEN: [string, string, string][] = [
  ['typescript', 'p: Point; p: Point; p: Point; p: Point; p: Point; p: Point;', 'p: Point;'],
  ['typescript', ' i < points.length; i++) {', ' i < points.length; i++) {'],
  ['typescript', 'const zeros = [0, 0, 0, 0, 0, 0];', 'const zeros = [0, 0, 0, 0, 0, 0];'],
  ['typescript', '// ------------------------------', '// ------------------------------'],
  ['python', '    total += 1\n    total += 1\n    total += 1\n    total += 1\n', '    total += 1'],
  ['python', 'self.x = x\n        self.y = y\n        self.z = z\n', 'self.x = x\n        self.y = y\n        self.z = z\n'],
  ['go', 'fmt.Println(x)\n\tfmt.Println(x)\n\tfmt.Println(x)\n', 'fmt.Println(x)'],
  ['go', 'if err != nil {\n\t\treturn err\n\t}\n', 'if err != nil {\n\t\treturn err\n\t}\n'],
  ['rust', 'a.b.b.b.b.b.b.b', 'a.b'],
  ['rust', 'let v = vec![1, 2, 3];\n    v.iter().map(|x| x + 1).collect::<Vec<_>>()', 'let v = vec![1, 2, 3];\n    v.iter().map(|x| x + 1).collect::<Vec<_>>()'],
];

test('repetitionCut: golden cases in TS, Python, Go and Rust', () => {
  for (const [language, text, kept] of GOLDEN) {
    const cut = repetitionCut(text);
    assert.equal(cut < 0 ? text : text.slice(0, cut), kept, `${language}: ${JSON.stringify(text)}`);
  }
});

/** The naive oracle: does some unit (with a letter and two distinct non-space characters) occur `bound` times in a row? */
function hasLoop(text: string): boolean {
  for (let u = 2; u <= Math.min(80, Math.floor(text.length / 3)); u++) {
    const copies = u >= 6 ? 3 : 4;
    for (let s = 0; s + copies * u <= text.length; s++) {
      const unit = text.slice(s, s + u);
      if (!/\p{L}/u.test(unit) || new Set(unit.replace(/\s/g, '')).size < 2) continue;
      if (unit.repeat(copies) === text.slice(s, s + copies * u)) return true;
    }
  }
  return false;
}

test('tandemCut fires exactly when a unit loops, and keeps a loop-free prefix (fast-check against a naive oracle)', () => {
  fc.assert(fc.property(fc.string({ unit: fc.constantFrom('a', 'b', ' ', ';', '\n', '0'), maxLength: 40 }), (text) => {
    const cut = tandemCut(text);
    assert.equal(cut >= 0, hasLoop(text));
    if (cut >= 0) assert.ok(!hasLoop(text.slice(0, cut)), JSON.stringify(text));
  }), { numRuns: 500 });
});
