import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InflightRequests } from './inflight';

describe('in-flight requests', () => {
  it('a new request for a document aborts the stale one, not other documents', () => {
    const r = new InflightRequests();
    const a1 = r.begin('a');
    const b1 = r.begin('b');
    const a2 = r.begin('a');
    assert.equal(a1.signal.aborted, true);
    assert.equal(a2.signal.aborted, false);
    assert.equal(b1.signal.aborted, false);
    assert.equal(r.isCurrent('a', a1.id), false);
    assert.equal(r.isCurrent('a', a2.id), true);
    a1.done(); // a stale request finishing does not drop the newer one
    assert.equal(r.isCurrent('a', a2.id), true);
    a2.done();
    assert.equal(r.size, 1);
    r.cancelAll();
    assert.equal(b1.signal.aborted, true);
    assert.equal(r.size, 0);
  });
});
