import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { positiveNumber, slidingWindowField, slidingWindowOf } from './configFields';

const anyValue = fc.oneof(fc.double(), fc.integer({ min: -10, max: 1 << 25 }), fc.constantFrom(null, undefined, 0, -1, 1.5, Infinity, NaN), fc.string(), fc.boolean(), fc.array(fc.nat(), { maxLength: 2 }));

test('positiveNumber keeps exactly the finite positive numbers (integers up to max when asked), missing for absent or null, else names the key', () => {
  fc.assert(
    fc.property(anyValue, fc.boolean(), fc.option(fc.integer({ min: 1, max: 1 << 25 }), { nil: undefined }), (v, integer, max) => {
      const ok = typeof v === 'number' && Number.isFinite(v) && v > 0 && (!integer || Number.isInteger(v)) && (max === undefined || v <= max);
      const read = () => positiveNumber({ k: v }, 'k', 'c.json', 'fallback', { integer, ...(max !== undefined ? { max } : {}) });
      if (v === null || v === undefined) assert.equal(read(), 'fallback');
      else if (ok) assert.equal(read(), v);
      else assert.throws(read, (e: Error) => e.message.startsWith('c.json: "k" must be a positive ') && e.message.includes(JSON.stringify(v) ?? 'undefined'));
    }),
  );
});

test('sliding_window: null or absent is full attention, a window is a bounded positive integer', () => {
  assert.equal(slidingWindowOf({}, 'c'), undefined);
  assert.equal(slidingWindowOf({ sliding_window: null }, 'c'), undefined);
  assert.equal(slidingWindowOf({ sliding_window: 4096 }, 'c'), 4096);
  assert.deepEqual(slidingWindowField({ sliding_window: null }, 'c'), {});
  assert.deepEqual(slidingWindowField({ sliding_window: 5 }, 'c'), { slidingWindow: 5 });
  for (const bad of [0, -3, 2.5, (1 << 24) + 1, '4096']) {
    assert.throws(() => slidingWindowOf({ sliding_window: bad }, 'c'), new RegExp(`c: "sliding_window" must be null or a positive integer, got ${JSON.stringify(bad)}`));
  }
});
