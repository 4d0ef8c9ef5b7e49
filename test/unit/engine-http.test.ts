// The OpenAI-compatible server started for real on loopback (dist/engine.js serve): auth, SSE, Predicted Outputs.
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { writeTinyCheckpoint } from '../../engine/model/index';
import { lcsLength } from '../../engine/server/prediction';
import { sharedPath } from '../../engine/sharedPaths';

const repo = path.resolve(__dirname, '../..');
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'presage-http-'));
let child: ChildProcess | undefined;
let base = '';
let token = '';

before(async () => {
  execFileSync(process.execPath, ['scripts/build.mjs', '--engine-only', '--quiet'], { cwd: repo, stdio: 'inherit' });
  const model = path.join(root, 'model');
  await writeTinyCheckpoint({ out: model, arch: 'qwen2', layers: 2, hidden: 64, heads: 4, kvHeads: 2, intermediate: 96, tokenizerDir: sharedPath('tokenizers/gpt2'), seed: 5 });
  child = spawn(process.execPath, [path.join(repo, 'dist/engine.js'), 'serve', '--port', '0', '--model', model, '--cache-dir', path.join(root, 'cache')], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ORT_DISABLE_TELEMETRY: '1' },
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const line = await new Promise<string>((resolve, reject) => {
    let out = '';
    child!.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve(out.split('\n')[0]!);
    });
    child!.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${stderr}`)));
  });
  const info = JSON.parse(line) as { url: string; token: string };
  base = info.url;
  token = info.token;
}, { timeout: 180_000 });
after(() => {
  child?.kill();
  fs.rmSync(root, { recursive: true, force: true });
});

const auth = (): Record<string, string> => ({ authorization: `Bearer ${token}`, 'content-type': 'application/json' });

async function post(route: string, body: unknown): Promise<Record<string, any>> {
  const res = await fetch(`${base}${route}`, { method: 'POST', headers: auth(), body: JSON.stringify(body) });
  assert.equal(res.status, 200, await res.clone().text());
  return (await res.json()) as Record<string, any>;
}

/** Reads an SSE response: the data payloads in order, up to [DONE]. */
async function sse(route: string, body: unknown): Promise<{ events: any[]; done: boolean; contentType: string | null }> {
  const res = await fetch(`${base}${route}`, { method: 'POST', headers: auth(), body: JSON.stringify(body) });
  assert.equal(res.status, 200);
  const text = await res.text();
  const events: any[] = [];
  let done = false;
  for (const block of text.split('\n\n')) {
    if (!block.startsWith('data: ')) continue;
    const data = block.slice(6);
    if (data === '[DONE]') done = true;
    else events.push(JSON.parse(data));
  }
  return { events, done, contentType: res.headers.get('content-type') };
}

test('the server binds loopback, prints a generated token, and answers 401 without it', { timeout: 120_000 }, async () => {
  assert.match(base, /^http:\/\/127\.0\.0\.1:\d+\/v1$/);
  assert.ok(token.length >= 24);
  const none = await fetch(`${base}/models`);
  assert.equal(none.status, 401);
  assert.equal(none.headers.get('www-authenticate'), 'Bearer');
  const wrong = await fetch(`${base}/completions`, { method: 'POST', headers: { authorization: 'Bearer nope', 'content-type': 'application/json' }, body: '{"prompt":"x"}' });
  assert.equal(wrong.status, 401);
  const models = await fetch(`${base}/models`, { headers: auth() });
  assert.equal(models.status, 200);
  assert.equal(((await models.json()) as { data: { id: string }[] }).data[0]!.id, 'model');
  const bad = await fetch(`${base}/completions`, { method: 'POST', headers: auth(), body: '{oops' });
  assert.equal(bad.status, 400);
  const badTemp = await fetch(`${base}/completions`, { method: 'POST', headers: auth(), body: JSON.stringify({ prompt: 'x', temperature: 9 }) });
  assert.equal(badTemp.status, 400);
});

test('completions: SSE streaming with a real HTTP client adds up to the non-streamed text', { timeout: 120_000 }, async () => {
  const body = { prompt: 'def fib(n):\n    if n < 2:\n        return n\n', max_tokens: 24, temperature: 0 };
  const plain = await post('/completions', body);
  assert.equal(plain.object, 'text_completion');
  assert.equal(plain.usage.completion_tokens, 24);
  const streamed = await sse('/completions', { ...body, stream: true, stream_options: { include_usage: true } });
  assert.equal(streamed.contentType, 'text/event-stream');
  assert.ok(streamed.done);
  const text = streamed.events.filter((e) => e.choices.length > 0).map((e) => e.choices[0].text).join('');
  assert.equal(text, plain.choices[0].text);
  assert.ok(streamed.events.length >= 3, 'several chunks');
  assert.equal(streamed.events.at(-1).usage.completion_tokens, 24);
  assert.equal(streamed.events.at(-2).choices[0].finish_reason, 'length');
});

test('chat completions stream deltas in the chat chunk format', { timeout: 120_000 }, async () => {
  const body = { messages: [{ role: 'user', content: 'Write hello world in Python.' }], max_tokens: 12, temperature: 0 };
  const plain = await post('/chat/completions', body);
  assert.equal(plain.choices[0].message.role, 'assistant');
  const streamed = await sse('/chat/completions', { ...body, stream: true });
  assert.ok(streamed.done);
  assert.equal(streamed.events[0].object, 'chat.completion.chunk');
  assert.equal(streamed.events[0].choices[0].delta.role, 'assistant');
  const text = streamed.events.map((e) => e.choices[0].delta.content ?? '').join('');
  assert.equal(text, plain.choices[0].message.content);
});

test('Predicted Outputs: same output with or without the prediction, fewer steps with it, usage reported', { timeout: 120_000 }, async () => {
  const body = { prompt: 'class Stack:\n    def __init__(self):\n        self.items = []\n', max_tokens: 40, temperature: 0 };
  const without = await post('/completions', body);
  const predictedText = without.choices[0].text as string;
  const withPrediction = await post('/completions', { ...body, prediction: { type: 'content', content: predictedText } });
  assert.equal(withPrediction.choices[0].text, predictedText);
  const details = withPrediction.usage.completion_tokens_details;
  assert.ok(details.accepted_prediction_tokens > 20, JSON.stringify(details));
  assert.ok(details.accepted_prediction_tokens + details.rejected_prediction_tokens > 0);
  assert.ok(withPrediction.presage.steps < without.presage.steps, `steps ${withPrediction.presage.steps} vs ${without.presage.steps}`);
  // A wrong prediction changes nothing in the output and is reported as rejected.
  const wrong = await post('/completions', { ...body, prediction: { type: 'content', content: 'completely unrelated text about cats' } });
  assert.equal(wrong.choices[0].text, predictedText);
  assert.ok(wrong.usage.completion_tokens_details.rejected_prediction_tokens > 0);
  const badType = await fetch(`${base}/completions`, { method: 'POST', headers: auth(), body: JSON.stringify({ ...body, prediction: { type: 'image' } }) });
  assert.equal(badType.status, 400);
});

test('lcsLength agrees with a naive recursive oracle', () => {
  const naive = (a: number[], b: number[]): number => {
    const memo = new Map<string, number>();
    const go = (i: number, j: number): number => {
      if (i === a.length || j === b.length) return 0;
      const k = `${i},${j}`;
      if (!memo.has(k)) memo.set(k, a[i] === b[j] ? 1 + go(i + 1, j + 1) : Math.max(go(i + 1, j), go(i, j + 1)));
      return memo.get(k)!;
    };
    return go(0, 0);
  };
  fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 25 }), fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 25 }), (a, b) => {
    assert.equal(lcsLength(a, b), naive(a, b));
  }), { numRuns: 200 });
});
