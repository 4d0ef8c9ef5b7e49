import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { TrackedRange, type OffsetChange } from './trackedRange';

/** Oracle: tag every character with whether it is inside the range, apply the edits, read the tags back. */
function oracle(docLength: number, start: number, length: number, changes: OffsetChange[]): { start: number; length: number } | 'overlap' {
  const sorted = [...changes].sort((a, b) => b.rangeOffset - a.rangeOffset);
  for (const c of changes) {
    const touchesInside = c.rangeOffset < start + length && c.rangeOffset + c.rangeLength > start;
    const insertsInside = c.rangeLength === 0 && c.rangeOffset > start && c.rangeOffset < start + length;
    if (touchesInside || insertsInside) return 'overlap';
  }
  let tags: boolean[] = Array.from({ length: docLength }, (_, i) => i >= start && i < start + length);
  for (const c of sorted) tags = [...tags.slice(0, c.rangeOffset), ...new Array<boolean>(c.text.length).fill(false), ...tags.slice(c.rangeOffset + c.rangeLength)];
  const first = tags.indexOf(true);
  if (length === 0) return 'overlap'; // not used by the generator
  return { start: first, length: tags.filter(Boolean).length };
}

test('TrackedRange follows edits around it like a character-tagging oracle', () => {
  const scenario = fc
    .record({ docLength: fc.integer({ min: 2, max: 40 }) })
    .chain(({ docLength }) =>
      fc.record({
        docLength: fc.constant(docLength),
        start: fc.integer({ min: 0, max: docLength - 1 }),
        len: fc.integer({ min: 1, max: docLength }),
        cuts: fc.uniqueArray(fc.integer({ min: 0, max: docLength }), { minLength: 0, maxLength: 8 }),
        texts: fc.array(fc.string({ maxLength: 4 }), { minLength: 4, maxLength: 4 }),
      }),
    )
    .map(({ docLength, start, len, cuts, texts }) => {
      const length = Math.min(len, docLength - start);
      // Non-overlapping changes from sorted cut points (pairs), as a batch.
      const points = [...cuts].sort((a, b) => a - b);
      const changes: OffsetChange[] = [];
      for (let i = 0; i + 1 < points.length; i += 2) changes.push({ rangeOffset: points[i]!, rangeLength: points[i + 1]! - points[i]!, text: texts[(i / 2) % 4]! });
      return { docLength, start, length, changes };
    });
  fc.assert(
    fc.property(scenario, ({ docLength, start, length, changes }) => {
      const range = new TrackedRange(start, length);
      const result = range.apply(changes);
      const expected = oracle(docLength, start, length, changes);
      if (expected === 'overlap') {
        assert.equal(result, 'overlap');
        assert.deepEqual([range.start, range.length], [start, length]);
      } else {
        assert.notEqual(result, 'overlap');
        assert.deepEqual({ start: range.start, length: range.length }, expected);
      }
    }),
    { numRuns: 500 },
  );
});

test('TrackedRange edge cases', () => {
  const r = new TrackedRange(10, 5);
  assert.equal(r.apply([{ rangeOffset: 15, rangeLength: 0, text: 'x' }]), 'unchanged');
  assert.equal(r.apply([{ rangeOffset: 10, rangeLength: 0, text: 'abc' }]), 'shifted');
  assert.equal(r.start, 13);
  assert.equal(r.apply([{ rangeOffset: 14, rangeLength: 1, text: '' }]), 'overlap');
  assert.equal(r.start, 13);
});
