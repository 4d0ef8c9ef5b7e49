import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { INITIAL_STATUS, reduceStatus, renderStatus, type StatusEvent, type StatusModel } from './statusState';

const run = (events: StatusEvent[], from: StatusModel = INITIAL_STATUS): StatusModel => events.reduce(reduceStatus, from);

describe('status state machine', () => {
  it('goes starting → loading → ready with metrics and the PID in the tooltip', () => {
    let m = run([{ type: 'pid', pid: 4242 }, { type: 'status', params: { state: 'loading' } }, { type: 'load-progress', fraction: 0.4 }]);
    assert.equal(renderStatus(m).text, '$(sync~spin) Presage loading 40%');
    m = run([{ type: 'status', params: { state: 'ready' } }], m);
    let v = renderStatus(m);
    assert.match(v.text, /\bready\b/);
    assert.match(v.tooltip, /PID 4242/);
    assert.equal(v.command, 'presage.showStats');
    m = run([{ type: 'status', params: { state: 'generating' } }, { type: 'status', params: { state: 'ready', tokensPerS: 41.6, mat: 3.14 } }], m);
    v = renderStatus(m);
    assert.equal(v.text, '$(check) Presage ready · 42 tok/s · MAT 3.1');
  });

  it('each state has its own click action and generating never reads ready', () => {
    const cases: Array<[StatusEvent[], RegExp, string]> = [
      [[{ type: 'status', params: { state: 'no-model' } }], /no model/, 'presage.selectModel'],
      [[{ type: 'status', params: { state: 'error', message: 'bad' } }], /error/, 'presage.restartEngine'],
      [[{ type: 'status', params: { state: 'generating' } }], /generating/, 'presage.showStats'],
      [[{ type: 'phase', phase: 'restarting' }], /restarting/, 'presage.showLog'],
      [[{ type: 'phase', phase: 'gave-up', message: 'crashed 5 times' }], /stopped/, 'presage.restartEngine'],
      [[{ type: 'status', params: { state: 'ready' } }, { type: 'inline-enabled', enabled: false }], /inline off/, 'presage.toggleInlineCompletions'],
    ];
    for (const [events, text, command] of cases) {
      const v = renderStatus(run(events));
      assert.match(v.text, text);
      assert.equal(v.command, command);
      if (!/inline off/.test(v.text)) assert.doesNotMatch(v.text, /\bready\b/);
    }
  });

  it('a crash clears the PID and leaves ready; bad states are ignored', () => {
    let m = run([{ type: 'pid', pid: 1 }, { type: 'status', params: { state: 'ready' } }, { type: 'phase', phase: 'restarting' }]);
    assert.equal(m.pid, undefined);
    assert.doesNotMatch(renderStatus(m).text, /ready/);
    assert.match(renderStatus(m).tooltip, /no engine process/);
    m = run([{ type: 'status', params: { state: 'bogus' as never } }], m);
    assert.equal(m.phase, 'restarting');
    const gaveUp = renderStatus(run([{ type: 'phase', phase: 'gave-up', message: 'The Presage engine crashed 5 times' }]));
    assert.match(gaveUp.tooltip, /crashed 5 times/);
    assert.equal(gaveUp.severity, 'error');
  });
});

it('a remote back end shows in the text with its health-check latency, and leaves with a local status', () => {
  let m = reduceStatus({ ...INITIAL_STATUS, phase: 'running' }, { type: 'status', params: { state: 'ready', backend: 'remote', latencyMs: 12.4, message: 'remote: m at http://127.0.0.1:1/v1' } });
  const view = renderStatus(m);
  assert.match(view.text, /remote 12 ms/);
  assert.match(view.tooltip, /Back end: remote, health check 12\.4 ms/);
  m = reduceStatus(m, { type: 'status', params: { state: 'error', backend: 'remote', message: 'remote unavailable: 401' } });
  assert.equal(renderStatus(m).severity, 'error');
  assert.match(renderStatus(m).tooltip, /401/);
  m = reduceStatus(m, { type: 'status', params: { state: 'ready', backend: 'local' } });
  assert.doesNotMatch(renderStatus(m).text, /remote/);
  assert.equal(m.latencyMs, undefined);
});
