// The engine client against a scripted engine process: start, streaming and $/cancelRequest, restart after a crash
// with backoff, giving up after repeated crashes, a manual restart, and a clean stop.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { installFakeVscode, memoryLog, shownMessages, fakeVscode } from '../testing/fakeVscode';

installFakeVscode();
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { EngineClient, EngineNotRunningError } = require('./client') as typeof import('./client');
import type { StatusEvent } from '../common/statusState';
import { NotificationType } from 'vscode-jsonrpc';
import * as P from '../../engine/protocol';

const rpc = require.resolve('vscode-jsonrpc/node');
const FAKE_ENGINE = `
const rpc = require(${JSON.stringify(rpc)});
const c = rpc.createMessageConnection(new rpc.StreamMessageReader(process.stdin), new rpc.StreamMessageWriter(process.stdout));
let cancels = 0;
c.onRequest('initialize', (p) => {
  setTimeout(() => c.sendNotification('presage/status', { state: 'ready' }), 5);
  return { version: 'fake', protocolVersion: 1, pid: process.pid, capabilities: { methods: [], devices: [], drafters: [], env: process.env.ELECTRON_RUN_AS_NODE + '/' + process.env.ORT_DISABLE_TELEMETRY, storage: p.storageDir } };
});
c.onRequest('complete', (p, token) => new Promise((resolve) => {
  c.sendNotification('presage/partial', { requestId: p.requestId, delta: 'first\\n' });
  const timer = setTimeout(() => resolve({ text: 'first\\nsecond', finishReason: 'stop', metrics: {} }), 3000);
  token.onCancellationRequested(() => { cancels++; clearTimeout(timer); resolve({ text: '', finishReason: 'cancelled', metrics: {} }); });
}));
c.onRequest('stats', () => ({ cancels }));
c.onRequest('shutdown', () => { setTimeout(() => process.exit(0), 10); return null; });
c.onNotification('crash', () => process.exit(3));
c.listen();
`;

function waitFor<T>(what: string, check: () => T | undefined, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const tick = (): void => {
      const v = check();
      if (v !== undefined && v !== false) return resolve(v);
      if (Date.now() > deadline) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(tick, 10);
    };
    tick();
  });
}

describe('engine client', () => {
  let dir: string;
  let enginePath: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'presage-client-'));
    enginePath = path.join(dir, 'engine.js');
    fs.writeFileSync(enginePath, FAKE_ENGINE);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const make = (log = memoryLog()) => {
    const client = new EngineClient(log as never, {
      enginePath: () => enginePath, storageDir: dir, clientVersion: 'test', trace: () => 'off',
      restart: { maxCrashes: 5, windowMs: 60_000, baseDelayMs: 20, maxDelayMs: 80 },
    });
    const events: StatusEvent[] = [];
    let starts = 0;
    let init: P.InitializeResult | undefined;
    client.onStatus((e) => events.push(e));
    client.onDidStart((r) => {
      starts++;
      init = r;
    });
    return { client, events, log, starts: () => starts, init: () => init };
  };

  it('starts the engine over stdio with the right environment, streams partials and wires cancellation', async () => {
    const { client, events, starts, init } = make();
    try {
      await client.start();
      assert.ok(client.pid && client.pid !== process.pid);
      assert.equal(starts(), 1);
      const caps = init()!.capabilities as unknown as { env: string; storage: string };
      assert.equal(caps.env, '1/1', 'ELECTRON_RUN_AS_NODE and ORT_DISABLE_TELEMETRY are set');
      assert.equal(caps.storage, dir);
      await waitFor('ready', () => client.state === 'ready');
      assert.ok(events.some((e) => e.type === 'pid' && e.pid === client.pid));

      const deltas: string[] = [];
      const sub = client.onPartial('r1', (d) => deltas.push(d));
      const cts = new fakeVscode.CancellationTokenSource();
      const pending = client.request(P.Complete, { requestId: 'r1', language: 'ts', prefix: 'a', suffix: '' }, cts.token as never);
      await waitFor('a partial', () => deltas.length > 0);
      cts.cancel();
      const r = await pending;
      assert.equal(r.finishReason, 'cancelled');
      assert.deepEqual(deltas, ['first\n']);
      sub.dispose();
      const stats = (await client.request0(P.Stats)) as unknown as { cancels: number };
      assert.equal(stats.cancels, 1, 'the engine saw $/cancelRequest');
    } finally {
      await client.stop();
    }
  });

  it('restarts after a crash with a new process, and stops cleanly without restarting', async () => {
    const { client, events, starts } = make();
    await client.start();
    const first = client.pid!;
    process.kill(first, 'SIGKILL');
    await waitFor('a restarting phase', () => events.some((e) => e.type === 'phase' && e.phase === 'restarting'));
    assert.notEqual(client.state, 'ready');
    await waitFor('a second start', () => starts() === 2);
    assert.ok(client.pid && client.pid !== first);
    await waitFor('ready again', () => client.state === 'ready');
    const second = client.pid!;
    await client.stop();
    assert.equal(client.pid, undefined);
    assert.ok(events.some((e) => e.type === 'phase' && e.phase === 'stopped'));
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(starts(), 2, 'no restart after a stop');
    assert.throws(() => process.kill(second, 0), 'the process is gone');
    await assert.rejects(client.request0(P.Stats), EngineNotRunningError);
  });

  it('gives up after 5 crashes with a clear message and a Restart action; a manual restart works', async () => {
    const { client, events, starts } = make();
    shownMessages.length = 0;
    await client.start();
    for (let i = 1; i <= 5; i++) {
      await waitFor(`start ${i}`, () => starts() === i && client.isRunning);
      client.notify(new NotificationType<object>('crash'), {});
      await waitFor(`exit ${i}`, () => !client.isRunning || starts() > i);
    }
    await waitFor('giving up', () => events.some((e) => e.type === 'phase' && e.phase === 'gave-up'));
    assert.equal(client.state, 'error');
    assert.equal(starts(), 5);
    const msg = shownMessages.find((m) => m.level === 'error');
    assert.match(msg?.message ?? '', /crashed 5 times/);
    assert.ok(msg?.actions.includes('Restart engine'));
    await assert.rejects(client.request0(P.Stats), /stopped after repeated crashes/);
    await client.restart();
    assert.ok(client.isRunning);
    await client.stop();
  });
});
