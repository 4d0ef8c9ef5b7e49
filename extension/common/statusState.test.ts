import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { deviceInfo, INITIAL_STATUS, reduceStatus, renderStatus, TOKENS_PER_S_WINDOW, type StatusEvent, type StatusModel } from './statusState';

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
      [[{ type: 'setup', phase: 'none' }, { type: 'status', params: { state: 'no-model' } }], /no model/, 'presage.selectModel'],
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
    let m = run([{ type: 'pid', pid: 1 }, { type: 'status', params: { state: 'ready' } }, { type: 'model', model: 'coder' }, { type: 'phase', phase: 'restarting' }]);
    assert.equal(m.pid, undefined);
    assert.doesNotMatch(renderStatus(m).tooltip, /Model: coder/, 'the old process\'s model is not claimed as loaded');
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

describe('first use', () => {
  const texts = (events: StatusEvent[]): string[] => {
    const out: string[] = [];
    let m = INITIAL_STATUS;
    out.push(renderStatus(m).text);
    for (const e of events) {
      m = reduceStatus(m, e);
      out.push(renderStatus(m).text);
    }
    return out;
  };

  it('a normal start reads starting, then loading, then ready: never "no model" while a model is on its way', () => {
    // The order a real start delivers: process up, the engine's initialize status (no model yet), the extension's
    // setup, load progress, the engine's ready.
    const seen = texts([
      { type: 'pid', pid: 7 }, { type: 'phase', phase: 'running' }, { type: 'status', params: { state: 'no-model' } },
      { type: 'setup', phase: 'resolving' }, { type: 'status', params: { state: 'no-model', backend: 'local' } },
      { type: 'setup', phase: 'loading' }, { type: 'status', params: { state: 'loading', message: '/m' } }, { type: 'load-progress', fraction: 0.5 },
      { type: 'status', params: { state: 'ready', backend: 'local' } }, { type: 'setup', phase: 'loaded' }, { type: 'model', model: 'coder' },
    ]);
    assert.ok(seen.every((t) => !/no model/.test(t)), seen.join(' | '));
    const phases = seen.map((t) => (/starting/.test(t) ? 'starting' : /loading/.test(t) ? 'loading' : /ready/.test(t) ? 'ready' : t));
    const order = phases.filter((p, i) => i === 0 || p !== phases[i - 1]);
    assert.deepEqual(order, ['starting', 'loading', 'ready']);
  });

  it('"no model" only when there really is none; a failed setup says so; a download shows its progress', () => {
    assert.match(renderStatus(run([{ type: 'status', params: { state: 'no-model' } }, { type: 'setup', phase: 'none' }])).text, /no model/);
    const failed = renderStatus(run([{ type: 'setup', phase: 'failed', message: 'repository not found' }, { type: 'status', params: { state: 'no-model' } }, { type: 'setup', phase: 'failed', message: 'repository not found' }]));
    assert.match(failed.text, /model not loaded/);
    assert.match(failed.tooltip, /repository not found/);
    assert.equal(failed.command, 'presage.selectModel');
    assert.equal(renderStatus(run([{ type: 'status', params: { state: 'no-model' } }, { type: 'setup', phase: 'downloading', fraction: 0.25 }])).text, '$(cloud-download) Presage downloading 25%');
  });

  it('ready waits for the index: "indexing N%" with files done/total in the tooltip, then ready', () => {
    let m = run([{ type: 'status', params: { state: 'ready' } }, { type: 'index', done: 30, total: 120 }]);
    assert.match(renderStatus(m).text, /indexing 25%/);
    assert.doesNotMatch(renderStatus(m).text, /\bready\b/);
    assert.match(renderStatus(m).tooltip, /Index: 30\/120 files \(indexing\)/);
    m = run([{ type: 'index', done: 120, total: 120 }], m);
    assert.match(renderStatus(m).text, /\bready\b/);
    assert.match(renderStatus(m).tooltip, /Index: 120\/120 files/);
    // An engine that is still loading stays "loading" whatever the index does.
    assert.match(renderStatus(run([{ type: 'status', params: { state: 'loading' } }, { type: 'index', done: 1, total: 9 }])).text, /loading/);
  });

  it('the demo model is labelled in the text and the tooltip, and the click leads to Select Model', () => {
    const v = renderStatus(run([{ type: 'status', params: { state: 'ready' } }, { type: 'model', model: 'demo model', demo: true }]));
    assert.match(v.text, /demo/);
    assert.match(v.tooltip, /mechanics only/);
    assert.match(v.tooltip, /Select Model/);
    assert.equal(v.command, 'presage.selectModel');
    const real = renderStatus(run([{ type: 'status', params: { state: 'ready' } }, { type: 'model', model: 'demo model', demo: true }, { type: 'model', model: 'Qwen/Qwen2.5-Coder-1.5B' }]));
    assert.doesNotMatch(real.text + real.tooltip, /demo/i);
  });

  it('says which device runs the model and why: the adapter, auto\'s choice, or the reason a GPU was not used', () => {
    const gpu = deviceInfo('auto', { device: 'webgpu', adapter: 'NVIDIA GeForce RTX 4070', warnings: [] });
    const v = renderStatus(run([{ type: 'status', params: { state: 'ready' } }, { type: 'model', model: 'coder', device: gpu }]));
    assert.match(v.text, /webgpu/);
    assert.match(v.tooltip, /Device: webgpu \(NVIDIA GeForce RTX 4070\) — chosen by auto/);
    const warning = 'WEBGPU execution provider failed to load (no adapter); running on CPU';
    const fell = deviceInfo('webgpu', { device: 'cpu', warnings: ['graph cache /x is corrupt (size); rebuilding', warning] });
    const c = renderStatus(run([{ type: 'status', params: { state: 'ready' } }, { type: 'model', model: 'coder', device: fell }]));
    assert.doesNotMatch(c.text, /cpu/);
    assert.ok(c.tooltip.includes(`Device: cpu — ${warning}`), c.tooltip);
    assert.deepEqual(deviceInfo('cpu', { device: 'cpu', warnings: [] }), { name: 'cpu' });
    // A new model without device information leaves no stale device line.
    const later = renderStatus(run([{ type: 'model', model: 'coder', device: gpu }, { type: 'model', model: 'other' }]));
    assert.doesNotMatch(later.tooltip, /Device:/);
  });

  it('tokens/s is the median of the recent requests (property, against a naive median)', () => {
    fc.assert(fc.property(fc.array(fc.double({ min: 0.5, max: 1000, noNaN: true }), { minLength: 1, maxLength: 40 }), (speeds) => {
      const m = run(speeds.flatMap((s) => [{ type: 'status', params: { state: 'generating' } }, { type: 'status', params: { state: 'ready', tokensPerS: s } }] as StatusEvent[]));
      const recent = speeds.slice(-TOKENS_PER_S_WINDOW).sort((a, b) => a - b);
      const naive = recent.length % 2 ? recent[(recent.length - 1) / 2]! : (recent[recent.length / 2 - 1]! + recent[recent.length / 2]!) / 2;
      assert.equal(m.tokensPerS, naive);
    }));
    // One outlier (highly repetitive output) does not move the shown value.
    const m = run([20, 22, 21, 313].map((s) => ({ type: 'status', params: { state: 'ready', tokensPerS: s } }) as StatusEvent));
    assert.match(renderStatus(m).text, /· 22 tok\/s/);
  });
});
