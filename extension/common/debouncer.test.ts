import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AdaptiveDebouncer, sleep } from './debouncer';

describe('adaptive debouncer', () => {
  const opts = { minMs: 10, maxMs: 300, factor: 1.5, pauseMs: 1000, window: 4 };

  it('waits the minimum with no typing history or after a pause', () => {
    const d = new AdaptiveDebouncer(opts);
    assert.equal(d.delayMs(0), 10);
    d.keystroke(0);
    d.keystroke(50);
    assert.equal(d.delayMs(5000), 10);
  });

  it('waits longer while typing fast than slowly, within bounds', () => {
    const fast = new AdaptiveDebouncer(opts);
    for (let t = 0; t <= 400; t += 80) fast.keystroke(t);
    const slow = new AdaptiveDebouncer(opts);
    for (let t = 0; t <= 2000; t += 400) slow.keystroke(t);
    // Right after the last keystroke, the wait is the expected gap (1.5 × mean) minus time already waited.
    assert.equal(fast.delayMs(400), 120);
    assert.equal(fast.delayMs(450), 70);
    assert.equal(slow.delayMs(2000), 300); // 600 clamped to the max
    assert.equal(fast.delayMs(10_000), 10);
  });

  it('forgets gaps outside its window and ignores pauses', () => {
    const d = new AdaptiveDebouncer(opts);
    for (const t of [0, 500, 1000, 1500]) d.keystroke(t); // gaps of 500
    for (const t of [1520, 1540, 1560, 1580]) d.keystroke(t); // four gaps of 20 replace them
    assert.equal(d.delayMs(1580), 30);
    d.keystroke(5000); // a pause: not a gap
    d.keystroke(5020);
    assert.equal(d.delayMs(5020), 30);
  });

  it('rejects bad bounds', () => {
    assert.throws(() => new AdaptiveDebouncer({ ...opts, minMs: 50, maxMs: 10 }), /bad debounce bounds/);
  });

  it('sleep resolves false when aborted, true otherwise', async () => {
    const c = new AbortController();
    const p = sleep(10_000, c.signal);
    c.abort();
    assert.equal(await p, false);
    assert.equal(await sleep(1), true);
  });
});
