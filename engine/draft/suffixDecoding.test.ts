import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SuffixDecodingDrafter } from './suffixDecoding';

const seq = (n: number, base: number) => Array.from({ length: n }, (_, i) => base + i);

test('suffix drafter copies from the request, its references and earlier outputs', () => {
  const d = new SuffixDecodingDrafter({ alpha: 4 });
  const ref = seq(20, 300);
  d.begin('r', [1, 2, 300, 301, 302], [ref]);
  const fromRef = d.propose('r', 6);
  assert.deepEqual(fromRef.tokens.slice(0, 6), [303, 304, 305, 306, 307, 308]);
  assert.equal(fromRef.matchLen, 3);
  d.observe('r', [303, 304]);
  assert.equal(d.propose('r', 4).tokens[0], 305);
  d.end('r', seq(20, 700));
  d.begin('s', [9, 700, 701, 702]);
  assert.deepEqual(d.propose('s', 4).tokens, [703, 704, 705, 706]);
  assert.throws(() => d.propose('nope', 4), /unknown request/);
});

test('suffix drafter history round-trips, clears, and rejects corrupt data', () => {
  const d = new SuffixDecodingDrafter({ alpha: 4 });
  d.begin('r', [1]);
  d.end('r', seq(10, 50));
  const saved = d.exportHistory();
  const e = new SuffixDecodingDrafter({ alpha: 4 });
  e.importHistory(saved);
  e.begin('s', [50, 51, 52]);
  assert.equal(e.propose('s', 2).tokens[0], 53);
  e.clearHistory();
  assert.equal(e.propose('s', 2).tokens.length, 0);
  assert.throws(() => e.importHistory(saved.slice(0, 9)), /corrupt/);
});

test('suffix drafter documents are replaced and removed', () => {
  const d = new SuffixDecodingDrafter({ alpha: 4 });
  d.setDocument('a', [10, 11, 12, 13]);
  d.begin('r', [10, 11, 12]);
  assert.equal(d.propose('r', 1).tokens[0], 13);
  d.setDocument('a', [10, 11, 12, 14]);
  assert.deepEqual(d.propose('r', 1).tokens, [14]);
  d.removeDocument('a');
  assert.equal(d.propose('r', 1).tokens.length, 0);
});

test('the global tree stays within its byte budget, oldest outputs first', () => {
  const d = new SuffixDecodingDrafter({ maxGlobalBytes: 400_000 });
  for (let i = 0; i < 40; i++) {
    d.begin(`r${i}`, [1]);
    d.end(`r${i}`, seq(200, 1000 * (i + 1)));
  }
  assert.ok(d.estimateBytes() <= 400_000, `${d.estimateBytes()} bytes`);
  d.begin('q', [40_000, 40_001]);
  assert.equal(d.propose('q', 1).tokens[0], 40_002, 'the newest output is kept');
  d.begin('old', [1000, 1001]);
  assert.equal(d.propose('old', 1).tokens.length, 0, 'the oldest output is gone');
});
