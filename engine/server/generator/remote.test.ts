// The remote back end against small loopback servers written here: one that speaks only the plain OpenAI API
// (400 for `suffix` and `prediction`), one that never answers, one that cuts its stream, and a closed port.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import fc from 'fast-check';
import { OpenAiClient, RemoteError } from './openaiClient';
import { RemoteGenerator, unfence } from './remote';
import type { FimRequest } from './types';

interface Seen {
  route: string;
  body: Record<string, unknown>;
  status: number;
}

/** A plain OpenAI server: streams `reply(body)` in 3-character chunks, refuses the fields it does not know. */
async function plainServer(reply: (body: Record<string, unknown>) => string): Promise<{ url: string; seen: Seen[]; close: () => Promise<void> }> {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (d: Buffer) => (raw += d.toString()));
    req.on('end', () => {
      const route = req.url ?? '';
      if (req.headers.authorization !== 'Bearer plain-token') {
        res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'Incorrect API key provided' } }));
        seen.push({ route, body: {}, status: 401 });
        return;
      }
      if (route === '/v1/models') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ object: 'list', data: [{ id: 'plain-model', object: 'model' }] }));
        return;
      }
      if (route !== '/v1/completions' && route !== '/v1/chat/completions') {
        res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: `no route ${route}` } }));
        return;
      }
      const body = JSON.parse(raw) as Record<string, unknown>;
      for (const field of ['suffix', 'prediction']) {
        if (field in body) {
          seen.push({ route, body, status: 400 });
          res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: `Unrecognized request argument supplied: ${field}`, param: field, type: 'invalid_request_error' } }));
          return;
        }
      }
      seen.push({ route, body, status: 200 });
      const text = reply(body);
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const chat = route === '/v1/chat/completions';
      for (let i = 0; i < text.length; i += 3) {
        const piece = text.slice(i, i + 3);
        res.write(`data: ${JSON.stringify({ choices: [chat ? { index: 0, delta: { content: piece }, finish_reason: null } : { index: 0, text: piece, finish_reason: null }] })}\n\n`);
      }
      res.write(`data: ${JSON.stringify({ choices: [chat ? { index: 0, delta: {}, finish_reason: 'stop' } : { index: 0, text: '', finish_reason: 'stop' }] })}\n\n`);
      res.end('data: [DONE]\n\n');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/v1`, seen, close: () => new Promise((r) => server.close(() => r())) };
}

const fimRequest = (over: Partial<FimRequest> = {}): FimRequest => ({
  requestId: 'r', prefix: 'def add(a, b):\n    return ', suffix: '\n\nprint(add(1, 2))\n', maxTokens: 32, maxPromptTokens: 1000, healing: true, cancelStale: true, ...over,
});

test('plain OpenAI server: suffix and prediction are refused once, then no longer sent; the texts arrive', async () => {
  const server = await plainServer((body) => ('messages' in body ? '```python\ndef add(a, b):\n    return a + b\n```\nDone.' : 'a + b'));
  try {
    const gen = new RemoteGenerator({ url: server.url, token: 'plain-token' });
    const health = await gen.health();
    assert.equal(health.ok, true, health.error);
    assert.equal(health.model, 'plain-model');
    const deltas: string[] = [];
    const first = await gen.fim(fimRequest({ onDelta: (d) => deltas.push(d) }));
    assert.equal(first.text, 'a + b');
    assert.equal(deltas.join(''), 'a + b');
    assert.deepEqual(server.seen.map((s) => s.status), [400, 200], 'one refusal, then the request without suffix');
    assert.equal('suffix' in server.seen[1]!.body, false);
    assert.equal(server.seen[1]!.body.prompt, fimRequest().prefix);
    await gen.fim(fimRequest());
    assert.deepEqual(server.seen.map((s) => s.status), [400, 200, 200], 'the suffix is not sent again');

    const shown: string[] = [];
    const rewrite = await gen.rewrite({
      requestId: 'w', maxTokens: 64, maxPromptTokens: 1000, prediction: 'def add(a, b): return a+b',
      input: { instruction: 'tidy', selection: 'def add(a, b): return a+b', language: 'python' }, onDelta: (d) => shown.push(d),
    });
    assert.equal(rewrite.text, 'def add(a, b):\n    return a + b', 'the fence lines are taken off');
    assert.equal(shown.join(''), rewrite.text, 'streamed deltas add up to the text');
    const chatRoutes = server.seen.filter((s) => s.route === '/v1/chat/completions');
    assert.deepEqual(chatRoutes.map((s) => s.status), [400, 200]);
    assert.equal((chatRoutes[1]!.body.messages as unknown[]).length, 2);
    assert.deepEqual(gen.fallbacks, { suffix: true, prediction: true });
  } finally {
    await server.close();
  }
});

test('the completion stop rule cuts the streamed text and closes the stream', async () => {
  const server = await plainServer(() => 'first line\nsecond line\nthird line\n');
  try {
    const gen = new RemoteGenerator({ url: server.url, token: 'plain-token', model: 'plain-model' });
    const r = await gen.fim(fimRequest({ stopAt: (t) => t.indexOf('\n') }));
    assert.equal(r.text, 'first line');
    assert.equal(r.finishReason, 'block_end');
  } finally {
    await server.close();
  }
});

test('clear errors: 401 with the server message, 404 naming the setting, refused connection, timeout, a cut stream', async () => {
  const server = await plainServer(() => 'x');
  const silent = http.createServer(() => undefined);
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  const cutter = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write(`data: ${JSON.stringify({ choices: [{ index: 0, text: 'partial', finish_reason: null }] })}\n\n`);
    setTimeout(() => res.socket?.destroy(), 20);
  });
  await new Promise<void>((r) => cutter.listen(0, '127.0.0.1', r));
  const closed = http.createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const closedPort = (closed.address() as AddressInfo).port;
  await new Promise<void>((r) => closed.close(() => r()));
  try {
    const wrong = new RemoteGenerator({ url: server.url, token: 'nope', model: 'plain-model' });
    await assert.rejects(wrong.fim(fimRequest()), (e: RemoteError) => e.kind === 'unauthorized' && /401/.test(e.message) && /Incorrect API key/.test(e.message) && /Set Remote API Token/.test(e.message));
    const h = await wrong.health();
    assert.equal(h.ok, false);
    assert.match(h.error!, /401/);

    const noV1 = new OpenAiClient({ url: server.url.replace(/\/v1$/, '/nothing'), token: 'plain-token' });
    await assert.rejects(noV1.models(), (e: RemoteError) => e.kind === 'not-found' && /404/.test(e.message) && /presage\.remote\.url/.test(e.message));

    const refused = new RemoteGenerator({ url: `http://127.0.0.1:${closedPort}/v1`, model: 'm' });
    await assert.rejects(refused.fim(fimRequest()), (e: RemoteError) => e.kind === 'refused' && /connection refused/.test(e.message) && e.unavailable);

    const slow = new RemoteGenerator({ url: `http://127.0.0.1:${(silent.address() as AddressInfo).port}/v1`, model: 'm', timeoutMs: 300 });
    const t0 = Date.now();
    await assert.rejects(slow.fim(fimRequest()), (e: RemoteError) => e.kind === 'timeout' && /300 ms/.test(e.message));
    assert.ok(Date.now() - t0 < 5000);

    const cut = new RemoteGenerator({ url: `http://127.0.0.1:${(cutter.address() as AddressInfo).port}/v1`, model: 'm' });
    await assert.rejects(cut.fim(fimRequest()), (e: RemoteError) => e.kind === 'interrupted' && /7 characters/.test(e.message));
  } finally {
    await server.close();
    silent.closeAllConnections();
    await new Promise((r) => silent.close(r));
    await new Promise((r) => cutter.close(r));
  }
});

test('a bad URL is refused before any request, with the setting named', () => {
  assert.throws(() => new OpenAiClient({ url: 'gpu-box:8080' }), /presage\.remote\.url/);
  assert.throws(() => new OpenAiClient({ url: 'ftp://127.0.0.1/v1' }), /not supported/);
  assert.throws(() => new OpenAiClient({ url: 'http://user:secret@127.0.0.1/v1' }), /credentials/);
});

test('unfence: streamed prefixes never show text the whole reply takes back, and the code inside comes out whole', () => {
  const code = fc.string({ maxLength: 40 }).filter((s) => !s.includes('`') && !s.startsWith(' ') && !s.startsWith('\n'));
  fc.assert(fc.property(code, fc.constantFrom('', 'ts', 'python'), fc.boolean(), fc.string({ maxLength: 10 }), (body, lang, fenced, tail) => {
    const reply = fenced ? `\`\`\`${lang}\n${body}\n\`\`\`${tail}` : body;
    const final = unfence(reply, '```', true).shown;
    // The oracle: the code between the fences, or the whole reply when there is no fence.
    assert.equal(final, body);
    let shown = '';
    for (let i = 0; i <= reply.length; i++) {
      const s = unfence(reply.slice(0, i)).shown;
      if (s.length >= shown.length) {
        assert.ok(final.startsWith(s), `prefix ${JSON.stringify(reply.slice(0, i))} shows ${JSON.stringify(s)}, not in ${JSON.stringify(final)}`);
        shown = s;
      }
    }
  }));
});
