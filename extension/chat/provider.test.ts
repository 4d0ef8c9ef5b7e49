// The chat view provider against a fake workspace and a scripted engine: page security, context search
// (secrets never read), streaming to the panel, citations, and which files the panel may open.
import assert from 'node:assert/strict';
import { beforeEach, test } from 'node:test';
import { fakeCtx, FakeEngineClient } from '../testing/fakeEngineClient';
import { EventEmitter, FakeDocument, FakeEditor, files, filesRead, installFakeVscode, state, Uri } from '../testing/fakeVscode';

installFakeVscode();
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { registerChat } = require('./index') as typeof import('./index');

const SHAPES = `export interface Point {
  x: number;
  y: number;
}

/** Sum of the edge lengths. */
export function perimeter(points: Point[]): number {
  let total = 0;
  for (let i = 0; i < points.length; i++) total += 1;
  return total;
}
`;

interface Request {
  params: { requestId: string; messages: Array<{ role: string; content: string }>; context: Array<{ uri: string; text: string; startLine: number }> };
  resolve(result: unknown): void;
}

let posted: Array<Record<string, unknown>>;
let receive: EventEmitter<unknown>;
let client: FakeEngineClient;
let requests: Request[];
let view: { webview: { options: { enableScripts?: boolean; localResourceRoots?: Uri[] } | undefined; html: string } };

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const metrics = { steps: 1, tokens: 1, mat: 1, tokensPerS: 1, draftMs: 0, verifyMs: 0, totalMs: 0, firstTokenMs: 0, acceptedByDrafter: {} };

beforeEach(() => {
  posted = [];
  client = new FakeEngineClient();
  requests = client.requests as unknown as Request[];
  receive = new EventEmitter<unknown>();
  files.clear();
  filesRead.length = 0;
  state.shownDocuments.length = 0;
  files.set('/ws/src/shapes.ts', SHAPES);
  files.set('/ws/src/other.ts', 'export const other = 1;\n');
  files.set('/ws/.env', 'SECRET=hunter2\n');
  files.set('/ws/id_rsa', '-----BEGIN KEY----- hunter2\n');
  // Secrets the old chat list missed: a nested credentials file, and a token under a harmless name.
  files.set('/ws/deploy/.aws/credentials', 'aws_secret_access_key = hunter2\n');
  files.set('/ws/src/perimeterKeys.ts', `export const perimeter = '${'gh' + 'p_' + 'hunter2'.repeat(6)}';\n`);
  state.editor = new FakeEditor(new FakeDocument(new Uri('/ws/src/scratch.ts'), 'const here = 1;\nconst there = 2;\n'));
  registerChat(fakeCtx(client, { extensionUri: new Uri('/ext') }));
  view = {
    webview: {
      options: undefined,
      html: '',
      cspSource: 'https://csp.example',
      asWebviewUri: (u: Uri) => ({ toString: () => `https://webview.example${u.path}` }),
      postMessage: (m: Record<string, unknown>) => {
        posted.push(m);
        return Promise.resolve(true);
      },
      onDidReceiveMessage: receive.event,
    },
    onDidDispose: new EventEmitter<void>().event,
  } as never;
  (state.webviewProviders.get('presage.chat') as { resolveWebviewView(v: unknown): void }).resolveWebviewView(view);
});

async function ask(text: string): Promise<Request> {
  receive.fire({ type: 'ask', text });
  for (let i = 0; i < 100 && requests.length === 0; i++) await sleep(5);
  assert.equal(requests.length, 1, 'one chat request');
  return requests[0]!;
}

test('the page: scripts on, resources only from media/ and dist/media/, nonce CSP, assets through asWebviewUri', () => {
  assert.equal(view.webview.options?.enableScripts, true);
  assert.deepEqual(view.webview.options?.localResourceRoots?.map((u) => u.path), ['/ext/media', '/ext/dist/media']);
  const nonce = /script-src &#39;nonce-([^&]+)&#39;/.exec(view.webview.html)?.[1];
  assert.ok(nonce && nonce.length >= 16);
  assert.ok(view.webview.html.includes(`<script nonce="${nonce}" src="https://webview.example/ext/dist/media/chat.js">`));
  assert.ok(view.webview.html.includes('href="https://webview.example/ext/media/chat.css"'));
  assert.match(view.webview.html, /style-src https:\/\/csp\.example/);
});

test('a question gets workspace context, streams, and cites; secrets are never read', async () => {
  const request = await ask('What does perimeter in shapes.ts do? Compare @.env, @id_rsa and @deploy/.aws/credentials');
  assert.deepEqual(posted[0], { type: 'start', id: 'chat-1', question: 'What does perimeter in shapes.ts do? Compare @.env, @id_rsa and @deploy/.aws/credentials' });
  const context = request.params.context;
  const shapes = context.find((c) => c.uri === 'file:///ws/src/shapes.ts');
  assert.ok(shapes, JSON.stringify(context));
  assert.equal(shapes.startLine, 5, 'the definition with its doc comment');
  assert.match(shapes.text, /^\/\*\* Sum of the edge lengths\. \*\/\nexport function perimeter[\s\S]*return total;\n}$/);
  assert.ok(context.some((c) => c.uri === 'file:///ws/src/scratch.ts'), 'the active editor is context too');
  assert.ok(!JSON.stringify(context).includes('hunter2'));
  assert.deepEqual(filesRead.filter((p) => /\.env|id_rsa|credentials/.test(p)), []);
  assert.ok(!context.some((c: { uri: string }) => c.uri.includes('perimeterKeys')), 'a file holding a token is never sent');
  assert.deepEqual(request.params.messages.at(-1), { role: 'user', content: 'What does perimeter in shapes.ts do? Compare @.env, @id_rsa and @deploy/.aws/credentials' });

  const send = (delta: string): void => client.partial('chat-1', delta);
  send('It sums ');
  send('edge lengths.');
  request.resolve({ text: 'It sums edge lengths.', finishReason: 'stop', metrics, citations: [{ uri: 'file:///ws/src/shapes.ts', startLine: 5 }] });
  await sleep(10);
  assert.deepEqual(posted.slice(1, 3), [
    { type: 'delta', id: 'chat-1', delta: 'It sums ' },
    { type: 'delta', id: 'chat-1', delta: 'edge lengths.' },
  ]);
  const done = posted.at(-1)!;
  assert.equal(done.type, 'done');
  assert.equal(done.text, 'It sums edge lengths.');
  const citations = done.citations as Array<{ uri: string; label: string; line: number }>;
  assert.deepEqual(citations[0], { uri: 'file:///ws/src/shapes.ts', label: 'src/shapes.ts:7', line: 6 });

  // The panel may open what it was shown, at the line; nothing else.
  receive.fire({ type: 'openCitation', uri: 'file:///ws/src/shapes.ts', line: 6 });
  receive.fire({ type: 'openCitation', uri: 'file:///etc/passwd', line: 0 });
  receive.fire({ type: 'openCitation', uri: 'file:///ws/.env', line: 0 });
  await sleep(10);
  assert.deepEqual(state.shownDocuments, [{ path: '/ws/src/shapes.ts', line: 6 }]);

  // A follow-up carries the conversation so far.
  requests.length = 0;
  const followUp = await ask('and for triangles?');
  assert.deepEqual(followUp.params.messages.map((m) => m.role), ['user', 'assistant', 'user']);
});

test('malformed panel messages are ignored; Clear resets; no model gives a clear error in the panel', async () => {
  receive.fire({ type: 'ask', text: 42 });
  receive.fire({ type: 'openCitation', uri: 'file:///ws/src/shapes.ts', line: -3 });
  receive.fire('ask');
  await sleep(20);
  assert.equal(requests.length, 0);
  assert.deepEqual(state.shownDocuments, []);

  receive.fire({ type: 'clear' });
  assert.deepEqual(posted.at(-1), { type: 'reset' });

  client.state = 'no-model';
  receive.fire({ type: 'ask', text: 'hello?' });
  await sleep(20);
  assert.equal(requests.length, 0);
  const error = posted.at(-1)!;
  assert.equal(error.type, 'error');
  assert.match(error.message as string, /No model is loaded/);
});

test('the welcome names the model, what the panel does and how to mention files; the demo model is labelled and it follows model changes', () => {
  const changed = new EventEmitter<{ label: string; demo?: boolean } | undefined>();
  const model = { current: { label: 'demo model', demo: true } as { label: string; demo?: boolean } | undefined, onDidChangeModel: changed.event };
  state.webviewProviders.delete('presage.chat');
  registerChat(fakeCtx(client, { extensionUri: new Uri('/ext') }), model);
  (state.webviewProviders.get('presage.chat') as { resolveWebviewView(v: unknown): void }).resolveWebviewView(view);
  const html = view.webview.html;
  assert.match(html, /<section id="presage-chat-welcome" aria-label="Welcome" data-demo="true"><h2>Presage chat · demo model<\/h2>/);
  assert.match(html, /Demo model: it shows the mechanics only/);
  assert.match(html, /Select Model/);
  assert.match(html, /Mention a file with @path/);
  assert.match(html, /Ask about your code/);
  posted.length = 0;
  changed.fire({ label: 'Qwen/Qwen2.5-Coder-1.5B-Instruct (int8)' });
  const message = posted.find((m) => m.type === 'welcome') as { title: string; lines: string[]; demo: boolean };
  assert.equal(message.title, 'Presage chat · Qwen/Qwen2.5-Coder-1.5B-Instruct (int8)');
  assert.equal(message.demo, false);
  assert.ok(message.lines.every((l) => !/demo/i.test(l)));
  assert.ok(message.lines.some((l) => /@path/.test(l)));
});
