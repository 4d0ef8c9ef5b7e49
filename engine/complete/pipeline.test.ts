import assert from 'node:assert/strict';
import { test } from 'node:test';
import { healedView } from './healed';
import { createCompletionPipeline } from './pipeline';
import { STAGES, type StageName } from './types';

/** Streams `raw` through the pipeline as the decoder would (growing text), then finishes it. */
async function run(prefix: string, suffix: string, language: string, raw: string, disabled: StageName[] = []): Promise<{ text: string; stoppedBy: string | undefined }> {
  const p = await createCompletionPipeline({ language, prefix, suffix }, { disabled: new Set(disabled) });
  let text = raw;
  for (let n = 1; n <= raw.length; n++) {
    const cut = p.stopAt(raw.slice(0, n));
    if (cut >= 0) {
      text = raw.slice(0, cut);
      break;
    }
  }
  return p.finish(text);
}

// Golden cases through the whole pipeline: [language, prefix, suffix, raw model output, shown, stage].
const GOLDEN: [string, string, string, string, string, string | undefined][] = [
  ['typescript', 'class A {\n  ', '\n}\n', 'p: Point; p: Point; p: Point; p: Point; p: Point;', 'p: Point;', 'repetition'],
  ['typescript', 'export function perimeter(points: Point[]): number {\n  let total = 0;\n  for (let i = 0; i < points.length; i++) {\n    ', '\n  }\n  return total;\n}\n',
    'total += 1;\n  }\n  return total;\n}\n\nexport function point(x: number) {\n', 'total += 1;', 'blockEnd'],
  ['python', 'for name, count in ', '\n', 'counts.items():\n    print(name)\n', 'counts.items():', 'lineMode'],
  ['go', 'func main() {\n\tx := 1\n\t', '\n}\n', 'y := f(x)))\n', '', 'parseDamage'],
  // Multi-line after an opener: the damaging second line goes, the first stays.
  ['python', 'def f(x):\n    ', '\n', 'y = x + 1\n    return y)))', 'y = x + 1', 'parseDamage'],
  ['rust', 'fn main() {\n    let v = vec![', '];\n}\n', '1, 2, 3];', '1, 2, 3', 'suffixOverlap'],
];

test('pipeline: golden cases in TS, Python, Go and Rust, with the stage that acted', async () => {
  for (const [language, prefix, suffix, raw, shown, stage] of GOLDEN) {
    const r = await run(prefix, suffix, language, raw);
    assert.equal(r.text, shown, `${language}: ${JSON.stringify(raw)}`);
    assert.equal(r.stoppedBy, stage, `${language}: stage`);
  }
});

test('pipeline: a switched-off stage no longer acts', async () => {
  const raw = 'p: Point; p: Point; p: Point; p: Point; p: Point;';
  assert.equal((await run('class A {\n  ', '\n}\n', 'typescript', raw, ['repetition'])).text, raw);
  const all = await run('for name, count in ', '\n', 'python', 'counts.items():\n    print(name)\n    print(count)', [...STAGES]);
  assert.equal(all.text, 'counts.items():\n    print(name)\n    print(count)');
  assert.equal(all.stoppedBy, undefined);
});

test('healedView: rules, deltas and the text speak of what follows the cursor', () => {
  const v = healedView(' ');
  const rule = v.stopAt((text) => text.indexOf(';'));
  assert.equal(rule(' i < n; i++'), ' i < n'.length);
  assert.equal(rule(''), -1);
  const got: string[] = [];
  const sink = v.onDelta((d) => got.push(d));
  sink('');
  sink(' i');
  sink(' < n');
  assert.deepEqual(got, ['i', ' < n']);
  assert.equal(v.text(' i < n'), 'i < n');
});
