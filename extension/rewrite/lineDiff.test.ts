import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { diffLines, splitLines, type DiffOp } from './lineDiff';

/** Naive O(n·m) LCS length: the oracle. */
function lcsLength(a: readonly string[], b: readonly string[]): number {
  const dp: number[][] = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) dp[i]![j] = a[i] === b[j] ? dp[i + 1]![j + 1]! + 1 : Math.max(dp[i + 1]![j]!, dp[i]![j + 1]!);
  }
  return dp[0]![0]!;
}

function replay(ops: DiffOp[]): { old: string[]; new: string[] } {
  const out = { old: [] as string[], new: [] as string[] };
  for (const op of ops) {
    if (op.kind !== 'insert') out.old.push(op.line);
    if (op.kind !== 'delete') out.new.push(op.line);
  }
  return out;
}

// Small alphabets make many repeats, which is where diff bugs hide.
const lines = fc.array(fc.constantFrom('a', 'b', 'c', '', '  }', 'x = 1;'), { maxLength: 24 });

test('diffLines: ops rebuild both sides, equal lines are a longest common subsequence', () => {
  fc.assert(
    fc.property(lines, lines, (a, b) => {
      const ops = diffLines(a, b);
      const rebuilt = replay(ops);
      assert.deepEqual(rebuilt.old, a);
      assert.deepEqual(rebuilt.new, b);
      assert.equal(ops.filter((o) => o.kind === 'equal').length, lcsLength(a, b));
      // Indices are consistent with the line contents and increase monotonically.
      let lastOld = -1;
      let lastNew = -1;
      for (const op of ops) {
        if (op.kind !== 'insert') {
          assert.equal(a[op.oldIndex], op.line);
          assert.ok(op.oldIndex > lastOld);
          lastOld = op.oldIndex;
        }
        if (op.kind !== 'delete') {
          assert.equal(b[op.newIndex], op.line);
          assert.ok(op.newIndex > lastNew);
          lastNew = op.newIndex;
        }
      }
    }),
    { numRuns: 500 },
  );
});

test('diffLines: deletions precede insertions inside a hunk', () => {
  fc.assert(
    fc.property(lines, lines, (a, b) => {
      const ops = diffLines(a, b);
      for (let i = 1; i < ops.length; i++) assert.ok(!(ops[i - 1]!.kind === 'insert' && ops[i]!.kind === 'delete'));
    }),
  );
});

test('diffLines: a concrete edit', () => {
  const ops = diffLines(['function f() {', '  return 1;', '}'], ['function f() {', '  const x = 1;', '  return x;', '}']);
  assert.deepEqual(
    ops.map((o) => `${o.kind[0]} ${o.line}`),
    ['e function f() {', 'd   return 1;', 'i   const x = 1;', 'i   return x;', 'e }'],
  );
});

test('diffLines: very large inputs fall back to one replaced block and stay correct', () => {
  const a = Array.from({ length: 3000 }, (_, i) => `a${i}`);
  const b = Array.from({ length: 3000 }, (_, i) => `b${i}`);
  const ops = diffLines(['same', ...a, 'end'], ['same', ...b, 'end']);
  const rebuilt = replay(ops);
  assert.equal(rebuilt.old.length, 3002);
  assert.equal(rebuilt.new[1], 'b0');
  assert.equal(ops.filter((o) => o.kind === 'equal').length, 2);
});

test('splitLines handles every line ending', () => {
  assert.deepEqual(splitLines('a\r\nb\nc\rd'), ['a', 'b', 'c', 'd']);
  assert.deepEqual(splitLines(''), ['']);
  assert.deepEqual(splitLines('a\n'), ['a', '']);
});
