// The rewrite CLI on the demo model: speculative decoding gives greedy's tokens exactly, in fewer steps than tokens
// when the reply copies; bad ranges and input are clear errors with exit code 2 before any model loads.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parsePosition, positionOffset, readRewriteInput, rewriteFile, RewriteInputError } from './rewrite';

const root = path.resolve(__dirname, '..', '..');
const demo = path.join(root, 'models', 'demo');

function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'engine', 'main.ts'), 'rewrite', ...args], { cwd: root, encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function tempFile(name: string, text: string): { file: string; done: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'presage-rewrite-'));
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return { file, done: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

// A list whose lines repeat: whatever the model does with it (copy it, or go on repeating), the reply has runs the
// drafter can predict.
const PY = 'def colors():\n    return [\n        "red",\n        "green",\n        "blue",\n        "red",\n        "green",\n        "blue",\n    ]\n';

test('rewrite CLI: speculative equals greedy token for token on the demo model, in fewer steps than tokens', () => {
  const { file, done } = tempFile('colors.py', PY);
  return (async () => {
    try {
      const flags = ['--model', demo, '--file', file, '--start', '0:0', '--end', '8:5', '--instruction', 'rename colors to palette', '--max-tokens', '32', '--no-calibrate'];
      const g = cli([...flags, '--mode', 'greedy', '--json']);
      assert.equal(g.status, 0, g.stderr);
      const greedy = JSON.parse(g.stdout) as { text: string; steps: number; tokens: number; token_ids: number[]; template: string; mat: number; tokens_per_s: number; ms: number };
      for (const key of ['text', 'steps', 'mat', 'tokens_per_s', 'ms'] as const) assert.ok(key in greedy, `--json has ${key}`);
      assert.equal(greedy.template, 'base-rewrite', 'the demo model gets the base-model rewrite prompt');
      assert.equal(greedy.steps, greedy.tokens, 'greedy takes one step per token');
      const spec = await rewriteFile({ model: demo, file, start: '0:0', end: '8:5', instruction: 'rename colors to palette', mode: 'speculative', maxTokens: 32, calibrate: false });
      assert.deepEqual(spec.token_ids, greedy.token_ids, 'the same tokens');
      assert.equal(spec.text, greedy.text, 'the same replacement text');
      assert.ok(spec.tokens > 0);
      assert.ok(spec.steps < spec.tokens, `drafts were accepted: ${spec.steps} steps for ${spec.tokens} tokens`);
    } finally {
      done();
    }
  })();
});

test('rewrite CLI: a range outside the file, a bad position, a missing file and an empty instruction exit with code 2 and a clear message', () => {
  const { file, done } = tempFile('a.ts', 'const a = 1;\r\nlet b = 2;\n');
  try {
    const base = ['--model', demo, '--file', file, '--instruction', 'use const'];
    const cases: Array<[string[], RegExp]> = [
      [['--start', '3:0', '--end', '3:1'], /--start 3:0 is outside the file: its last line is 2/],
      [['--start', '0:0', '--end', '0:13'], /--end 0:13 is outside the file: line 0 has 12 characters/],
      [['--start', '1:4', '--end', '1:0'], /--start 1:4 is after --end 1:0/],
      [['--start', '1,0', '--end', '1:3'], /--start must be LINE:CHARACTER/],
      [['--start', '0:0'], /missing required flag --end/],
    ];
    for (const [extra, message] of cases) {
      const r = cli([...base, ...extra]);
      assert.equal(r.status, 2, `${extra.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
      assert.equal(r.stdout, '');
    }
    const missing = cli(['--model', demo, '--file', path.join(path.dirname(file), 'nope.ts'), '--start', '0:0', '--end', '0:1', '--instruction', 'x']);
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /cannot read --file .*nope\.ts: no such file/);
    const empty = cli([...base.slice(0, 4), '--instruction', '  ', '--start', '0:0', '--end', '0:1']);
    assert.equal(empty.status, 2);
    assert.match(empty.stderr, /--instruction is empty/);
  } finally {
    done();
  }
});

test('rewrite input: positions are 0-based UTF-16 offsets as in VS Code; the selection is [start, end)', () => {
  const text = 'ab😀c\r\nxyz\n';
  assert.equal(positionOffset(text, { line: 0, character: 4 }, 'start'), 4, 'the emoji is two UTF-16 code units');
  assert.equal(positionOffset(text, { line: 0, character: 5 }, 'end'), 5, 'the end of a CRLF line is before its \\r');
  assert.throws(() => positionOffset(text, { line: 0, character: 6 }, 'end'), RewriteInputError);
  assert.equal(positionOffset(text, { line: 2, character: 0 }, 'end'), text.length, 'the empty last line');
  assert.throws(() => positionOffset(text, { line: 3, character: 0 }, 'end'), /its last line is 2/);
  assert.deepEqual(parsePosition('12:0', 'start'), { line: 12, character: 0 });
  assert.throws(() => parsePosition('-1:0', 'start'), RewriteInputError);
  const { file, done } = tempFile('s.go', text);
  try {
    const input = readRewriteInput({ file, start: '0:2', end: '1:1', instruction: ' x ' });
    assert.equal(input.selection, '😀c\r\nx');
    assert.equal(input.prefix + input.selection + input.suffix, text);
    assert.equal(input.language, 'go');
    assert.equal(input.instruction, 'x');
  } finally {
    done();
  }
});
