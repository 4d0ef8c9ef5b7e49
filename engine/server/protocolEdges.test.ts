// Protocol edges of the HTTP API and the JSON-RPC transport: oversized prompts, slow or huge bodies, bad frames,
// non-integer integers, and binding beyond loopback.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, test } from 'node:test';
import type http from 'node:http';
import { writeTinyCheckpoint } from '../model/index';
import { sharedPath } from '../sharedPaths';
import { Engine } from './engine';
import { createHttpServer } from './http';
import { startRpcServer } from './rpc';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'presage-edges-'));
const modelDir = path.join(root, 'model');
const CONTEXT = 64;
const token = 'edge-test-token-0123456789abcdef';
let engine: Engine;
let server: http.Server;
let base = '';

before(async () => {
  await writeTinyCheckpoint({ out: modelDir, arch: 'llama', layers: 1, hidden: 16, heads: 2, kvHeads: 1, intermediate: 24, tokenizerDir: sharedPath('tokenizers/gpt2'), seed: 2, maxPositionEmbeddings: CONTEXT });
  engine = new Engine({ status: () => {}, log: () => {}, loadProgress: () => {}, partial: () => {} }, { calibrate: false });
  await engine.loadModel({ model: modelDir, cacheDir: path.join(root, 'cache') });
  server = createHttpServer({ engine, token, modelName: 'm', bodyTimeoutMs: 400 });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
}, { timeout: 120_000 });
after(async () => {
  server?.closeAllConnections?.();
  server?.close();
  await engine?.shutdown();
  fs.rmSync(root, { recursive: true, force: true });
});

const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
const post = (route: string, body: unknown): Promise<Response> => fetch(`${base}${route}`, { method: 'POST', headers, body: JSON.stringify(body) });

test('http: a prompt longer than the context is a 400 that says so, not a 500', async () => {
  const res = await post('/v1/completions', { prompt: 'word '.repeat(CONTEXT * 2), max_tokens: 4 });
  const body = (await res.json()) as { error: { message: string; param: string | null } };
  assert.equal(res.status, 400, JSON.stringify(body));
  assert.match(body.error.message, /context/);
  assert.equal((await post('/v1/completions', { prompt: 'short', max_tokens: 2 })).status, 200);
});

test('http: integer parameters must be integers', async () => {
  for (const [name, value] of [['max_tokens', 1.5], ['seed', 0.25], ['n', 1.5]] as const) {
    const res = await post('/v1/completions', { prompt: 'x', [name]: value });
    const body = (await res.json()) as { error: { param: string | null } };
    assert.equal(res.status, 400, `${name}: ${value}`);
    assert.equal(body.error.param, name);
  }
  const chat = await post('/v1/chat/completions', { messages: [{ role: 'user', content: 'x' }], max_completion_tokens: 2.5 });
  assert.equal(chat.status, 400);
});

test('http: a 5 MB prompt is refused before tokenization and never stalls /v1/models', { timeout: 60_000 }, async () => {
  const huge = post('/v1/completions', { prompt: 'a b c d '.repeat(650_000), max_tokens: 1 });
  // Give the big request a head start, then ask for the models.
  await new Promise((r) => setTimeout(r, 50));
  const t0 = performance.now();
  const models = await fetch(`${base}/v1/models`, { headers });
  const modelsMs = performance.now() - t0;
  assert.equal(models.status, 200);
  const res = await huge;
  assert.ok(res.status === 413 || res.status === 400, `status ${res.status}`);
  assert.match(((await res.json()) as { error: { message: string } }).error.message, /context|too long|over/);
  // A hang guard, not a benchmark: tokenizing 5 MB on the event loop took seconds.
  assert.ok(modelsMs < 1500, `/v1/models took ${modelsMs.toFixed(0)} ms`);
});

/** Opens a raw socket, sends `head`, and resolves with what came back and when the socket closed. */
function rawRequest(head: string, trickle?: string): Promise<{ text: string; closedAfterMs: number }> {
  return new Promise((resolve, reject) => {
    const url = new URL(base);
    const socket = net.connect(Number(url.port), url.hostname);
    let text = '';
    const t0 = performance.now();
    let timer: NodeJS.Timeout | undefined;
    socket.on('data', (d) => (text += d.toString()));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      if (timer) clearInterval(timer);
      resolve({ text, closedAfterMs: performance.now() - t0 });
    });
    socket.write(head);
    // Keep the body coming, one byte at a time, as a slow client would.
    if (trickle) {
      let i = 0;
      timer = setInterval(() => {
        if (i < trickle.length && !socket.destroyed) socket.write(trickle[i++]!);
      }, 100);
    }
    setTimeout(() => {
      socket.destroy();
      reject(new Error(`the server kept the socket open for 10 s; got ${JSON.stringify(text.slice(0, 200))}`));
    }, 10_000).unref();
  });
}

test('http: an unauthenticated request is refused before its body is read, and its socket is closed', { timeout: 30_000 }, async () => {
  const r = await rawRequest('POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"pro', 'mpt": "slow"');
  assert.match(r.text, /^HTTP\/1\.1 401/);
  assert.ok(r.closedAfterMs < 3000, `socket closed after ${r.closedAfterMs.toFixed(0)} ms`);
});

test('http: a slow authenticated body is cut after the body timeout', { timeout: 30_000 }, async () => {
  const r = await rawRequest(`POST /v1/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"pro`, 'mpt": "slowly, slowly, slowly"');
  assert.match(r.text, /^HTTP\/1\.1 408/);
  assert.ok(r.closedAfterMs < 5000, `socket closed after ${r.closedAfterMs.toFixed(0)} ms`);
});

// ---- JSON-RPC framing ----

function rpcPair(): { send: (raw: string) => void; replies: () => Record<string, unknown>[]; close: () => void } {
  const input = new PassThrough();
  const output = new PassThrough();
  let out = '';
  output.on('data', (d: Buffer) => (out += d.toString()));
  startRpcServer(input, output, { calibrate: false });
  return {
    send: (raw) => input.write(raw),
    replies: () => {
      const list: Record<string, unknown>[] = [];
      const re = /Content-Length: (\d+)\r\n\r\n/g;
      let m: RegExpExecArray | null;
      const buf = Buffer.from(out);
      let at = 0;
      while ((m = re.exec(buf.subarray(at).toString('latin1')))) {
        const start = at + m.index + m[0].length;
        list.push(JSON.parse(buf.subarray(start, start + Number(m[1])).toString('utf8')) as Record<string, unknown>);
        at = start + Number(m[1]);
        re.lastIndex = 0;
      }
      return list;
    },
    close: () => input.end(),
  };
}

const frame = (body: string): string => `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
const statsRequest = (id: number): string => frame(JSON.stringify({ jsonrpc: '2.0', id, method: 'stats' }));

async function until(cond: () => boolean, what: string): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > 5000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('json-rpc: a frame with Content-Length abc or -5 gets an error reply, and the next valid frame is answered', async () => {
  for (const bad of ['abc', '-5', '1e3', '']) {
    const rpc = rpcPair();
    rpc.send(`Content-Length: ${bad}\r\n\r\n{"jsonrpc":"2.0","id":1,"method":"stats"}`);
    rpc.send(statsRequest(2));
    await until(() => rpc.replies().some((r) => r.id === 2), `the reply to the frame after Content-Length: ${bad}`);
    const replies = rpc.replies();
    assert.ok(replies.some((r) => r.id === null && (r.error as { message: string }).message.includes('Content-Length')), JSON.stringify(replies));
    assert.ok(replies.find((r) => r.id === 2)!.result, JSON.stringify(replies));
    rpc.close();
  }
});

test('json-rpc: a huge Content-Length is rejected at once instead of buffered, and the connection goes on', async () => {
  const rpc = rpcPair();
  rpc.send(`Content-Length: ${2 ** 40}\r\n\r\n{"jsonrpc":"2.0","id":1,"method":"stats"}`);
  rpc.send(statsRequest(3));
  await until(() => rpc.replies().some((r) => r.id === 3), 'the reply after the oversized frame');
  assert.ok(rpc.replies().some((r) => r.id === null && /over the .* cap|too large/.test((r.error as { message: string }).message)), JSON.stringify(rpc.replies()));
  rpc.close();
});

test('json-rpc: integer parameters must be integers', async () => {
  const rpc = rpcPair();
  rpc.send(frame(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'loadModel', params: { model: modelDir, cacheDir: path.join(root, 'cache') } })));
  await until(() => rpc.replies().some((r) => r.id === 1), 'loadModel');
  rpc.send(frame(JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'complete', params: { requestId: 'r', prefix: 'a', suffix: '', maxTokens: 1.5 } })));
  await until(() => rpc.replies().some((r) => r.id === 2), 'complete');
  const reply = rpc.replies().find((r) => r.id === 2)!;
  assert.match(JSON.stringify(reply.error), /maxTokens must be an integer/);
  rpc.close();
});

// ---- serve ----

test('serve: binding beyond loopback needs --allow-remote and a token, checked before the model loads', async () => {
  const { run } = await import('../cli/serve');
  const missing = path.join(root, 'no-such-model');
  await assert.rejects(run(['--host', '0.0.0.0', '--model', missing]), /--allow-remote/);
  await assert.rejects(run(['--host', '0.0.0.0', '--allow-remote', '--model', missing]), /--token/);
  // With both, it gets as far as loading the (missing) model.
  await assert.rejects(run(['--host', '0.0.0.0', '--allow-remote', '--token', 'a-long-enough-secret-token-1234', '--model', missing]), /does not exist|not found/);
});

test('json-rpc frame guard: valid frames pass unchanged and in order through any mix of bad headers and chunking', async () => {
  const fc = (await import('fast-check')).default;
  const { FrameGuard } = await import('./rpc');
  fc.assert(
    fc.property(
      fc.array(fc.oneof(fc.record({ ok: fc.constant(true), body: fc.json() }), fc.record({ ok: fc.constant(false), bad: fc.constantFrom('abc', '-5', '1.5', '', '99999999999999999', 'x1') })), { maxLength: 12 }),
      fc.integer({ min: 1, max: 50 }),
      (items, chunk) => {
        const guard = new FrameGuard(() => {}, 1 << 20);
        const passed: Buffer[] = [];
        guard.on('data', (d: Buffer) => passed.push(d));
        const wire = items.map((it) => (it.ok ? frame(JSON.stringify({ jsonrpc: '2.0', method: 'm', params: it.body })) : `Content-Length: ${it.bad}\r\n\r\n{"jsonrpc":"2.0","id":9,"method":"x"}`)).join('');
        const bytes = Buffer.from(wire);
        for (let i = 0; i < bytes.length; i += chunk) guard.write(bytes.subarray(i, i + chunk));
        const expected = items.filter((it) => it.ok).map((it) => frame(JSON.stringify({ jsonrpc: '2.0', method: 'm', params: it.body }))).join('');
        assert.equal(Buffer.concat(passed).toString(), expected);
      },
    ),
    { numRuns: 200 },
  );
});
