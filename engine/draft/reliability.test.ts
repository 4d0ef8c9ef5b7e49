import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { matchBucket, Reliability } from './reliability';

test('match buckets are monotone and cover every length', () => {
  let last = 0;
  for (let m = 0; m < 100; m++) {
    const b = matchBucket(m);
    assert.ok(b >= last && b < 9);
    last = b;
  }
});

test('estimates converge to the observed acceptance rates', () => {
  fc.assert(
    fc.property(fc.double({ min: 0.05, max: 0.95, noNaN: true }), fc.double({ min: 0.05, max: 0.95, noNaN: true }), (firstRate, keepRate) => {
      const r = new Reliability(2);
      // Deterministic sequences with the given rates: a candidate is right first with firstRate, then keeps
      // agreeing token by token with keepRate while the truth is known for 16 tokens.
      let acc = 0;
      let keep = 0;
      for (let i = 0; i < 4000; i++) {
        acc += firstRate;
        let agreed = 0;
        if (acc >= 1) {
          acc -= 1;
          agreed = 1;
          while (agreed < 16) {
            keep += keepRate;
            if (keep < 1) break;
            keep -= 1;
            agreed++;
          }
        }
        r.record(1, 5, agreed, 16, 16);
      }
      assert.ok(Math.abs(r.first(1, 5) - firstRate) < 0.02, `first ${r.first(1, 5)} vs ${firstRate}`);
      assert.ok(Math.abs(r.survival(1, 5) - keepRate) < 0.05, `survival ${r.survival(1, 5)} vs ${keepRate}`);
      // Other cells keep their priors.
      assert.equal(r.first(0, 5), new Reliability(2).first(0, 5));
    }),
    { numRuns: 30 },
  );
});
