// The remote back end end to end on loopback: a real `presage serve` process with a tiny model, and engine
// processes (`presage stdio`, as the extension spawns them) told to use it with configureBackend. Only
// 127.0.0.1 is ever contacted.
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { CancellationTokenSource, ResponseError } from 'vscode-jsonrpc/node';
import { writeTinyCheckpoint } from '../../engine/model/index';
import * as P from '../../engine/protocol';
import { spawnEngine, type EngineProcess } from '../../engine/server/client';
import { RemoteError } from '../../engine/server/generator/openaiClient';
import { RemoteGenerator } from '../../engine/server/generator/remote';
import { REMOTE_ERROR } from '../../engine/server/rpc';
import { sharedPath } from '../../engine/sharedPaths';

const repo = path.resolve(__dirname, '../..');
const enginePath = path.join(repo, 'dist/engine.js');
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'presage-remote-'));
const modelDir = path.join(root, 'model');
const cacheDir = path.join(root, 'cache');
const TOKEN = 'loopback-test-token-0123456789';
const children: ChildProcess[] = [];
const engines: EngineProcess[] = [];
let serveUrl = '';

/** Starts `presage serve` on an ephemeral loopback port; resolves with its URL. */
async function startServe(): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [enginePath, 'serve', '--port', '0', '--model', modelDir, '--cache-dir', cacheDir, '--token', TOKEN], {
    stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ORT_DISABLE_TELEMETRY: '1' },
  });
  children.push(child);
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const line = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve(out.split('\n')[0]!);
    });
    child.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${stderr}`)));
  });
  return { child, url: (JSON.parse(line) as { url: string }).url };
}

async function startEngine(loadLocal: boolean): Promise<EngineProcess> {
  const e = spawnEngine(enginePath);
  engines.push(e);
  await e.request(P.Initialize, { clientName: 'test', clientVersion: '0' });
  if (loadLocal) await e.request(P.LoadModel, { model: modelDir, cacheDir });
  return e;
}

before(async () => {
  execFileSync(process.execPath, ['scripts/build.mjs', '--engine-only', '--quiet'], { cwd: repo, stdio: 'inherit' });
  await writeTinyCheckpoint({ out: modelDir, arch: 'qwen2', layers: 2, hidden: 64, heads: 4, kvHeads: 2, intermediate: 96, tokenizerDir: sharedPath('tokenizers/gpt2'), seed: 11 });
  serveUrl = (await startServe()).url;
  assert.match(serveUrl, /^http:\/\/127\.0\.0\.1:\d+\/v1$/);
}, { timeout: 240_000 });

after(() => {
  for (const e of engines) e.dispose();
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  fs.rmSync(root, { recursive: true, force: true });
});

const completeParams = (id: string, maxTokens = 24): P.CompleteParams => ({
  requestId: id, language: 'python', prefix: 'def fibonacci(n):\n    if n < 2:\n        return n\n    return ', suffix: '\n\nprint(fibonacci(10))\n', maxTokens,
});
const chatParams = (id: string): P.ChatParams => ({ requestId: id, messages: [{ role: 'user', content: 'What does fibonacci return for 10?' }], maxTokens: 24 });

test('all three surfaces work through serve, and completion and chat give the local engine\'s text', { timeout: 180_000 }, async () => {
  const e = await startEngine(true);
  e.notify(P.OpenDocument, { uri: 'file:///w/fib.py', version: 1, source: 'editor', languageId: 'python', text: 'def fibonacci(n):\n    return n if n < 2 else fibonacci(n - 1) + fibonacci(n - 2)\n' });
  const localComplete = await e.request(P.Complete, completeParams('l1'));
  const localChat = await e.request(P.Chat, chatParams('l2'));

  const statuses: P.StatusParams[] = [];
  e.connection.onNotification(P.Status.method, (s: P.StatusParams) => void statuses.push(s));
  const health = await e.request(P.ConfigureBackend, { backend: 'remote', url: serveUrl, token: TOKEN });
  assert.equal(health.ok, true, health.error);
  assert.equal(health.model, 'model');
  assert.ok(health.latencyMs !== undefined && health.latencyMs >= 0);
  assert.ok(statuses.some((s) => s.backend === 'remote' && s.state === 'ready' && s.latencyMs !== undefined), JSON.stringify(statuses));

  const partials: string[] = [];
  e.connection.onNotification(P.PartialResult.method, (p: P.PartialResultParams) => {
    if (p.requestId === 'r1') partials.push(p.delta);
  });
  const remoteComplete = await e.request(P.Complete, completeParams('r1'));
  assert.ok(localComplete.text.length > 0);
  assert.equal(remoteComplete.text, localComplete.text, 'the same model over serve completes the same text');
  assert.equal(partials.join(''), remoteComplete.text, 'streamed deltas add up to the text');

  const remoteChat = await e.request(P.Chat, chatParams('r2'));
  assert.equal(remoteChat.text, localChat.text, 'the chat prompt built here (with retrieved context) is the one serve renders');
  assert.deepEqual(remoteChat.citations, localChat.citations, 'retrieval ran locally');
  assert.ok(remoteChat.citations!.some((c) => c.uri === 'file:///w/fib.py'));

  const rewrite = await e.request(P.Rewrite, { requestId: 'r3', language: 'python', instruction: 'add a docstring', selection: 'def fibonacci(n):\n    return n\n', maxTokens: 24 });
  assert.ok(['stop', 'length', 'block_end'].includes(rewrite.finishReason));
  assert.equal(rewrite.text.includes('```'), false);

  const stats = await e.request0(P.Stats);
  assert.equal(stats.surfaces.complete.requests, 2);
  assert.equal(stats.surfaces.chat.requests, 2);
});

test('Predicted Outputs: serve honours the prediction (usage reports it) and the text is identical without it', { timeout: 60_000 }, async () => {
  const gen = new RemoteGenerator({ url: serveUrl, token: TOKEN });
  const input = { instruction: 'rename x to y', selection: 'x = 1\nprint(x)\n', language: 'python' };
  const base = { requestId: 'p', maxTokens: 32, maxPromptTokens: 2000, input };
  const withPrediction = await gen.rewrite({ ...base, prediction: input.selection });
  const without = await gen.rewrite(base);
  assert.equal(withPrediction.text, without.text);
  assert.ok(withPrediction.predictionUsage, 'the server reported accepted/rejected prediction tokens');
  assert.ok(withPrediction.predictionUsage.accepted + withPrediction.predictionUsage.rejected > 0);
  assert.equal(without.predictionUsage, undefined);
  assert.deepEqual(gen.fallbacks, { suffix: false, prediction: false }, 'serve takes both fields');
});

test('a wrong token: 401, and the message reaches the caller of every surface and the status', { timeout: 60_000 }, async () => {
  const e = await startEngine(false);
  const statuses: P.StatusParams[] = [];
  e.connection.onNotification(P.Status.method, (s: P.StatusParams) => void statuses.push(s));
  const health = await e.request(P.ConfigureBackend, { backend: 'remote', url: serveUrl, token: 'wrong-token' });
  assert.equal(health.ok, false);
  assert.match(health.error!, /401/);
  assert.ok(statuses.some((s) => s.state === 'error' && /401/.test(s.message ?? '')));
  for (const call of [() => e.request(P.Complete, completeParams('w1')), () => e.request(P.Chat, chatParams('w2'))]) {
    await assert.rejects(call(), (err: ResponseError<{ kind: string }>) => err.code === REMOTE_ERROR && /401/.test(err.message) && /Set Remote API Token/.test(err.message) && err.data?.kind === 'unauthorized');
  }
});

test('the server killed mid-stream is reported at once, with no hang', { timeout: 120_000 }, async () => {
  const victim = await startServe();
  const gen = new RemoteGenerator({ url: victim.url, token: TOKEN });
  const t0 = Date.now();
  let killed = false;
  const run = gen.chat({
    requestId: 'k', maxTokens: 4000, maxPromptTokens: 2000, messages: [{ role: 'user', content: 'Write a long story.' }],
    onDelta: () => {
      if (!killed) {
        killed = true;
        victim.child.kill('SIGKILL');
      }
    },
  });
  await assert.rejects(run, (err: RemoteError) => err instanceof RemoteError && err.kind === 'interrupted' && /mid-stream|closed/.test(err.message));
  assert.ok(killed);
  assert.ok(Date.now() - t0 < 30_000);
  // Nothing listens any more: the next request is a refused connection, said so.
  if (victim.child.exitCode === null && victim.child.signalCode === null) await new Promise((r) => victim.child.once('exit', r));
  await assert.rejects(gen.chat({ requestId: 'k2', maxTokens: 4, maxPromptTokens: 100, messages: [{ role: 'user', content: 'hi' }] }), (err: RemoteError) => err.kind === 'refused');
});

test('a completion cancelled because typing went on closes its HTTP connection; the server sees the close', { timeout: 60_000 }, async () => {
  // A loopback TCP relay in front of serve: it sees each client connection open and close.
  const upstream = new URL(serveUrl);
  const events: string[] = [];
  let nextId = 0;
  const relay = net.createServer((client) => {
    const id = ++nextId;
    events.push(`open ${id}`);
    const server = net.connect(Number(upstream.port), '127.0.0.1');
    client.pipe(server);
    server.pipe(client);
    client.on('close', () => {
      events.push(`close ${id}`);
      server.destroy();
    });
    server.on('close', () => client.destroy());
    client.on('error', () => undefined);
    server.on('error', () => undefined);
  });
  await new Promise<void>((r) => relay.listen(0, '127.0.0.1', r));
  try {
    const e = await startEngine(false);
    const port = (relay.address() as net.AddressInfo).port;
    const health = await e.request(P.ConfigureBackend, { backend: 'remote', url: `http://127.0.0.1:${port}/v1`, token: TOKEN, model: 'model' });
    assert.equal(health.ok, true, health.error);
    const firstDelta = new Promise<void>((resolve) => e.connection.onNotification(P.PartialResult.method, (p: P.PartialResultParams) => void (p.requestId === 'c1' && resolve())));
    const source = new CancellationTokenSource();
    const first = e.request(P.Complete, { ...completeParams('c1', 4000) }, source);
    await firstDelta;
    const opened = events.length;
    // The next keystroke: the editor cancels the old request and asks again.
    source.cancel();
    const second = await e.request(P.Complete, completeParams('c2', 4));
    const cancelled = await first;
    assert.equal(cancelled.finishReason, 'cancelled');
    assert.ok(second.finishReason !== 'cancelled');
    await new Promise((r) => setTimeout(r, 200));
    // Connection 2 carried c1 (1 was the health check); it closed before c1 could finish its 4000 tokens.
    assert.ok(events.includes('close 2'), events.join(', '));
    assert.ok(events.indexOf('close 2') < events.length, events.join(', '));
    assert.ok(opened >= 2);
    // serve lives on.
    const again = await e.request(P.Complete, completeParams('c3', 4));
    assert.ok(again.finishReason !== 'cancelled');
  } finally {
    await new Promise((r) => relay.close(r));
  }
});

test('remote down: a clear refused error, or with fallbackToLocal the local model answers', { timeout: 120_000 }, async () => {
  const closed = net.createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const port = (closed.address() as net.AddressInfo).port;
  await new Promise((r) => closed.close(r));
  const e = await startEngine(true);
  const logs: string[] = [];
  e.connection.onNotification(P.Log.method, (l: { message: string }) => void logs.push(l.message));
  const down = await e.request(P.ConfigureBackend, { backend: 'remote', url: `http://127.0.0.1:${port}/v1`, model: 'model' });
  assert.equal(down.ok, false);
  assert.match(down.error!, /connection refused/);
  await assert.rejects(e.request(P.Complete, completeParams('d1')), (err: ResponseError<{ kind: string }>) => err.code === REMOTE_ERROR && err.data?.kind === 'refused');

  await e.request(P.ConfigureBackend, { backend: 'remote', url: `http://127.0.0.1:${port}/v1`, model: 'model', fallbackToLocal: true });
  const fallback = await e.request(P.Complete, completeParams('d2'));
  await e.request(P.ConfigureBackend, { backend: 'local' });
  const local = await e.request(P.Complete, completeParams('d3'));
  assert.equal(fallback.text, local.text);
  assert.ok(logs.some((m) => /answering from the local model/.test(m)), logs.join('\n'));
});
