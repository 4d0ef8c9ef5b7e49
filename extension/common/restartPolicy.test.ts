import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RestartPolicy } from './restartPolicy';

describe('restart policy', () => {
  const opts = { maxCrashes: 5, windowMs: 180_000, baseDelayMs: 250, maxDelayMs: 2000 };

  it('backs off exponentially and gives up at the fifth crash within three minutes', () => {
    const p = new RestartPolicy(opts);
    const delays = [0, 1000, 2000, 3000].map((t) => p.onCrash(t));
    assert.deepEqual(delays.map((d) => (d.action === 'restart' ? d.delayMs : -1)), [250, 500, 1000, 2000]);
    const fifth = p.onCrash(4000);
    assert.equal(fifth.action, 'give-up');
    assert.match(fifth.action === 'give-up' ? fifth.message : '', /crashed 5 times in the last 3 minutes/);
  });

  it('forgets crashes older than the window', () => {
    const p = new RestartPolicy(opts);
    for (const t of [0, 10_000, 20_000, 30_000]) p.onCrash(t);
    const d = p.onCrash(211_000); // the first four are more than 3 minutes old
    assert.deepEqual(d, { action: 'restart', delayMs: 250, crashesInWindow: 1 });
  });

  it('starts afresh after a manual restart', () => {
    const p = new RestartPolicy(opts);
    for (const t of [0, 1, 2, 3]) p.onCrash(t);
    p.reset();
    assert.equal(p.onCrash(4).action, 'restart');
  });
});
