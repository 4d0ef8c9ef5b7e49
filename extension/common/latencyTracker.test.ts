import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { LatencyTracker, percentile } from './latencyTracker';

describe('latency tracker', () => {
  it('nearest-rank percentiles', () => {
    const t = new LatencyTracker();
    for (let i = 1; i <= 100; i++) t.add(i);
    t.add(NaN);
    t.add(-1);
    const s = t.summary();
    assert.equal(s.count, 100);
    assert.equal(s.p50, 50);
    assert.equal(s.p95, 95);
    assert.equal(s.mean, 50.5);
    assert.ok(Number.isNaN(new LatencyTracker().summary().p50));
  });

  it('percentile is a member at or above that share of samples', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: 1000 }), { minLength: 1, maxLength: 50 }), fc.integer({ min: 1, max: 100 }), (xs, p) => {
      const sorted = [...xs].sort((a, b) => a - b);
      const v = percentile(sorted, p);
      assert.ok(sorted.includes(v));
      assert.ok(sorted.filter((x) => x <= v).length / sorted.length >= p / 100);
    }));
  });

  it('keeps only its window', () => {
    const t = new LatencyTracker(3);
    for (const x of [1000, 1, 2, 3]) t.add(x);
    assert.equal(t.summary().p95, 3);
  });
});
