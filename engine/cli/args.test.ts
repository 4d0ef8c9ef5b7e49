import { test } from 'node:test';
import assert from 'node:assert/strict';
import { flag, listFlag, numberFlag, parseArgs } from './args';

test('parseArgs collects repeated flags and values', () => {
  const a = parseArgs(['--data', 'a.jsonl', '--data=b.jsonl', '--json', '--max-draft', '16', 'pos']);
  assert.deepEqual(listFlag(a, 'data'), ['a.jsonl', 'b.jsonl']);
  assert.equal(flag(a, 'json'), 'true');
  assert.equal(numberFlag(a, 'max-draft', 0), 16);
  assert.deepEqual(a.positional, ['pos']);
  assert.throws(() => numberFlag(parseArgs(['--n', 'x']), 'n', 1), /expects a number/);
});
