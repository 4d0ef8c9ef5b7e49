// The engine process spawned for real (dist/engine.js stdio): cancellation mid-stream, malformed JSON-RPC,
// a process killed mid-request, documents and history across restarts.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { CancellationTokenSource } from 'vscode-jsonrpc/node';
import { writeTinyCheckpoint } from '../../engine/model/index';
import * as P from '../../engine/protocol';
import { EngineProcessError, spawnEngine, type EngineProcess } from '../../engine/server/client';
import { sharedPath } from '../../engine/sharedPaths';

const repo = path.resolve(__dirname, '../..');
const enginePath = path.join(repo, 'dist/engine.js');
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'presage-stdio-'));
const modelDir = path.join(root, 'model');
const cacheDir = path.join(root, 'cache');
const engines: EngineProcess[] = [];

before(async () => {
  execFileSync(process.execPath, ['scripts/build.mjs', '--engine-only', '--quiet'], { cwd: repo, stdio: 'inherit' });
  // Big enough that one step takes a few milliseconds, so a long generation lasts seconds.
  await writeTinyCheckpoint({ out: modelDir, arch: 'llama', layers: 4, hidden: 128, heads: 4, kvHeads: 2, intermediate: 256, tokenizerDir: sharedPath('tokenizers/gpt2'), seed: 3 });
}, { timeout: 180_000 });
after(() => {
  for (const e of engines) e.dispose();
  fs.rmSync(root, { recursive: true, force: true });
});

const statusLog = new WeakMap<EngineProcess, P.StatusParams[]>();

async function startEngine(storageDir?: string): Promise<EngineProcess> {
  const e = spawnEngine(enginePath);
  engines.push(e);
  const states: P.StatusParams[] = [];
  statusLog.set(e, states);
  e.connection.onNotification(P.Status, (p) => {
    states.push(p);
  });
  await e.request(P.Initialize, { clientName: 'test', clientVersion: '0', ...(storageDir ? { storageDir } : {}) });
  await e.request(P.LoadModel, { model: modelDir, cacheDir });
  return e;
}

/** Waits until `cond` holds; fails instead of hanging when the request ends first or time runs out. */
async function waitUntil(cond: () => boolean, pending: Promise<unknown>, what: string, ms = 20_000): Promise<void> {
  let settled = false;
  pending.then(
    () => (settled = true),
    () => (settled = true),
  );
  const t0 = Date.now();
  while (!cond()) {
    if (settled) throw new Error(`the request ended before ${what}`);
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

function collectPartials(e: EngineProcess, requestId: string): string[] {
  const deltas: string[] = [];
  e.connection.onNotification(P.PartialResult, (p) => {
    if (p.requestId === requestId) deltas.push(p.delta);
  });
  return deltas;
}

test('complete streams partial results that add up to the final text', { timeout: 90_000 }, async () => {
  const e = await startEngine();
  const deltas = collectPartials(e, 'c1');
  const r = await e.request(P.Complete, { requestId: 'c1', language: 'python', prefix: 'def add(a, b):\n    return', suffix: '\n', maxTokens: 20 });
  assert.ok(['length', 'eos'].includes(r.finishReason));
  assert.ok(r.metrics.tokens > 0 && r.metrics.tokens <= 20);
  assert.equal(deltas.join(''), r.text);
  const states = statusLog.get(e)!.map((s) => s.state);
  assert.deepEqual(states.slice(0, 3), ['no-model', 'loading', 'ready']);
  assert.ok(states.includes('generating'));
  const last = statusLog.get(e)!.at(-1)!;
  assert.equal(last.state, 'ready');
  assert.ok(last.tokensPerS! > 0 && last.mat! >= 1, JSON.stringify(last));
  const stats = await e.request0(P.Stats);
  assert.equal(stats.surfaces.complete.requests, 1);
  assert.ok(stats.rssBytes > 0);
  assert.equal(stats.model?.path, modelDir);
});

test('a request cancelled mid-stream stops at once and the engine keeps serving', { timeout: 90_000 }, async () => {
  const e = await startEngine();
  const deltas = collectPartials(e, 'long');
  const source = new CancellationTokenSource();
  const pending = e.request(P.Complete, { requestId: 'long', language: 'python', prefix: 'x = 1\n', suffix: '', maxTokens: 3000 }, source);
  await waitUntil(() => deltas.length >= 3, pending, 'three partial results');
  const t0 = performance.now();
  source.cancel();
  const r = await pending;
  const ms = performance.now() - t0;
  assert.equal(r.finishReason, 'cancelled');
  assert.ok(r.metrics.tokens < 3000);
  // One step of this model takes a few ms; the reply must not wait for the rest of the 3000 tokens.
  assert.ok(ms < 500, `cancel took ${ms.toFixed(0)} ms`);
  const next = await e.request(P.Complete, { requestId: 'after', language: 'python', prefix: 'y = 2\n', suffix: '', maxTokens: 5 });
  assert.ok(next.metrics.tokens > 0);
  const stats = await e.request0(P.Stats);
  assert.equal(stats.surfaces.complete.cancelled, 1);
});

/** Raw framing, to send what a well-behaved client never would. */
function frame(body: string): string {
  return `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}
function readFrames(stream: NodeJS.ReadableStream): () => Promise<Record<string, unknown>> {
  let buf = Buffer.alloc(0);
  const queue: Record<string, unknown>[] = [];
  const waiters: ((m: Record<string, unknown>) => void)[] = [];
  stream.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    for (;;) {
      const sep = buf.indexOf('\r\n\r\n');
      if (sep < 0) return;
      const len = Number(/Content-Length: (\d+)/i.exec(buf.subarray(0, sep).toString())![1]);
      if (buf.length < sep + 4 + len) return;
      const msg = JSON.parse(buf.subarray(sep + 4, sep + 4 + len).toString()) as Record<string, unknown>;
      buf = buf.subarray(sep + 4 + len);
      const w = waiters.shift();
      if (w) w(msg);
      else queue.push(msg);
    }
  });
  return () => (queue.length > 0 ? Promise.resolve(queue.shift()!) : new Promise((r) => waiters.push(r)));
}

test('malformed JSON-RPC gets an error reply and the process lives on', { timeout: 90_000 }, async () => {
  const child = spawn(process.execPath, [enginePath, 'stdio'], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ORT_DISABLE_TELEMETRY: '1' } });
  try {
    const next = readFrames(child.stdout!);
    const nextResponse = async (): Promise<Record<string, unknown>> => {
      for (;;) {
        const m = await next();
        if (!('method' in m)) return m;
      }
    };
    child.stdin!.write(frame('{not json'));
    const parse = await nextResponse();
    assert.equal(parse.id, null);
    assert.equal((parse.error as { code: number }).code, -32700);
    child.stdin!.write(frame('{"jsonrpc":"2.0","id":5}'));
    const invalid = await nextResponse();
    assert.equal(invalid.id, 5);
    assert.equal((invalid.error as { code: number }).code, -32600);
    child.stdin!.write(frame('[1,2,3]'));
    assert.equal(((await nextResponse()).error as { code: number }).code, -32600);
    child.stdin!.write(frame('{"jsonrpc":"2.0","id":6,"method":"noSuchMethod"}'));
    const unknown = await nextResponse();
    assert.equal(unknown.id, 6);
    assert.equal((unknown.error as { code: number }).code, -32601);
    child.stdin!.write(frame('{"jsonrpc":"2.0","id":7,"method":"complete","params":{"requestId":"z","language":"js","prefix":"a","suffix":""}}'));
    const noModel = await nextResponse();
    assert.equal(noModel.id, 7);
    assert.match((noModel.error as { message: string }).message, /no model is loaded/);
    child.stdin!.write(frame('{"jsonrpc":"2.0","id":8,"method":"stats"}'));
    const stats = await nextResponse();
    assert.equal(stats.id, 8);
    assert.equal((stats.result as { pid: number }).pid, child.pid);
    assert.equal(child.exitCode, null);
  } finally {
    child.kill();
  }
});

test('killing the process mid-request is reported to the client as a clear error', { timeout: 90_000 }, async () => {
  const e = await startEngine();
  const deltas = collectPartials(e, 'doomed');
  const pending = e.request(P.Complete, { requestId: 'doomed', language: 'python', prefix: 'z = 3\n', suffix: '', maxTokens: 3000 });
  await waitUntil(() => deltas.length >= 2, pending.catch(() => undefined), 'two partial results');
  e.child.kill('SIGKILL');
  await assert.rejects(pending, (err: unknown) => {
    assert.ok(err instanceof EngineProcessError, `got ${String(err)}`);
    assert.match(err.message, /killed by SIGKILL during 'complete'/);
    return true;
  });
  await assert.rejects(e.request0(P.Stats), /engine process killed by SIGKILL/);
});

test('documents are indexed, chat cites retrieved files, shutdown saves the history and a corrupt one is discarded', { timeout: 90_000 }, async () => {
  const storageDir = path.join(root, 'storage');
  const e = await startEngine(storageDir);
  const logs: string[] = [];
  e.connection.onNotification(P.Log, (p) => {
    logs.push(p.message);
  });
  e.notify(P.OpenDocument, { uri: 'file:///w/util.py', languageId: 'python', version: 1, text: 'def parse_config(path):\n    return {}\n', source: 'workspace' });
  e.notify(P.ChangeDocument, { uri: 'file:///w/util.py', version: 2, changes: [{ rangeOffset: 4, rangeLength: 12, text: 'load_settings' }] });
  e.notify(P.OpenDocument, { uri: 'file:///w/big.txt', version: 1, text: 'x'.repeat(1_000_001), source: 'workspace' });
  e.notify(P.OpenDocument, { uri: 'file:///w/other.py', version: 1, text: 'print(1)\n', source: 'editor' });
  e.notify(P.RemoveDocument, { uri: 'file:///w/other.py' });
  const docs = await e.request0(P.IndexedDocuments);
  assert.deepEqual(docs.uris, ['file:///w/util.py']);
  // The drafter's index is refreshed shortly after the edits, off the request path.
  await new Promise((r) => setTimeout(r, 600));
  const indexed = await e.request0(P.Stats);
  assert.equal(indexed.documents, 1);
  assert.ok(indexed.indexedTokens > 5 && indexed.indexBytes > 0, JSON.stringify(indexed));
  assert.ok(logs.some((l) => /over the 1000000 cap/.test(l)), logs.join('\n'));
  const chat = await e.request(P.Chat, { requestId: 'q', messages: [{ role: 'user', content: 'What does load_settings return?' }], maxTokens: 8 });
  assert.deepEqual(chat.citations?.map((c) => c.uri), ['file:///w/util.py']);
  const rewrite = await e.request(P.Rewrite, { requestId: 'rw', language: 'python', instruction: 'rename', selection: 'a = 1\n', maxTokens: 8 });
  assert.ok(rewrite.metrics.tokens > 0);
  e.notify(P.RecordAcceptance, { text: 'accepted completion text' });
  await e.request0(P.Shutdown);
  const exit = await e.exited;
  assert.equal(exit.code, 0);
  assert.ok(fs.existsSync(path.join(storageDir, 'history.bin')));

  fs.writeFileSync(path.join(storageDir, 'history.bin'), 'garbage');
  const again = spawnEngine(enginePath);
  engines.push(again);
  const warnings: string[] = [];
  again.connection.onNotification(P.Log, (p) => {
    warnings.push(p.message);
  });
  await again.request(P.Initialize, { clientName: 'test', clientVersion: '0', storageDir });
  await again.request(P.LoadModel, { model: modelDir, cacheDir });
  await again.request0(P.Stats);
  assert.ok(warnings.some((w) => /discarding .*history\.bin/.test(w)), warnings.join('\n'));
  assert.ok(!fs.existsSync(path.join(storageDir, 'history.bin')));
});
