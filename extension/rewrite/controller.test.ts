// The rewrite command end to end against a fake editor and a scripted engine: streaming, Accept, Reject,
// cancellation, edits around the proposal, and the error paths.
import assert from 'node:assert/strict';
import { beforeEach, test } from 'node:test';
import { fakeCtx, FakeEngineClient, type FakeRequest } from '../testing/fakeEngineClient';
import fs from 'node:fs';
import path from 'node:path';
import { applyChange, FakeDocument, FakeEditor, installFakeVscode, state, undoRedo, Uri } from '../testing/fakeVscode';

installFakeVscode();
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { registerRewrite } = require('../rewrite') as typeof import('../rewrite');

const ORIGINAL = 'const a = 1;\n\nfunction f(x) {\n  return x + 1;\n}\n\nconst z = f(a);\n';
const SELECTED = 'function f(x) {\n  return x + 1;\n}\n';

let client: FakeEngineClient;
let requests: FakeRequest[] = [];
let notified: Array<{ method: string; params: unknown }>;
let doc: FakeDocument;
let editor: FakeEditor;
let types: { inserted: string; removed: string; pending: string };

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const metrics = { steps: 1, tokens: 1, mat: 1, tokensPerS: 1, draftMs: 0, verifyMs: 0, totalMs: 0, firstTokenMs: 0, acceptedByDrafter: {} };

function setUp(): void {
  client = new FakeEngineClient();
  requests = client.requests;
  notified = client.notifications;
  state.commands.clear();
  state.lensProviders.length = 0;
  state.messages.length = 0;
  state.context.clear();
  doc = new FakeDocument(new Uri('/ws/src/f.ts'), ORIGINAL);
  editor = new FakeEditor(doc);
  state.editor = editor;
  const start = ORIGINAL.indexOf(SELECTED);
  editor.select(start, start + SELECTED.length);
  const ctx = { ...fakeCtx(client), nextRequestId: (p: string) => `${p}-${requests.length + 1}` };
  registerRewrite(ctx);
  const n = state.decorationTypes; // created in order: inserted, removed, pending
  types = { inserted: `type${n - 2}`, removed: `type${n - 1}`, pending: `type${n}` };
}

beforeEach(setUp);

const lensTitles = (): string[] => state.lensProviders.flatMap((p) => p.provideCodeLenses(doc).map((l) => l.command?.title ?? ''));
const run = (id: string, ...args: unknown[]): Promise<unknown> => Promise.resolve(state.commands.get(id)!(...args));

/** Starts a rewrite and waits until the engine has the request. */
async function startRewrite(instruction = 'use arrow functions'): Promise<{ done: Promise<unknown>; request: FakeRequest }> {
  state.inputBox = () => Promise.resolve(instruction);
  const done = run('presage.rewriteSelection');
  for (let i = 0; i < 50 && requests.length === 0; i++) await sleep(5);
  assert.equal(requests.length, 1, 'the engine got one rewrite request');
  return { done, request: requests[0]! };
}

async function stream(request: FakeRequest, chunks: string[]): Promise<void> {
  const send = (delta: string): void => client.partial(request.params.requestId as string, delta);
  for (const c of chunks) send(c);
  await sleep(120); // one repaint
}

test('streams into the editor, shows the diff, and Accept keeps the text as one undo step', async () => {
  const { done, request } = await startRewrite();
  assert.equal(request.method, 'rewrite');
  assert.equal(request.params.selection, SELECTED);
  assert.equal(request.params.instruction, 'use arrow functions');
  assert.equal(request.params.prefix, 'const a = 1;\n\n');
  assert.equal(request.params.suffix, '\nconst z = f(a);\n');
  assert.equal(state.context.get('presage.rewriteRunning'), true);
  assert.deepEqual(lensTitles(), ['Rewriting…', 'Cancel']);

  await stream(request, ['```ts\nconst f = (x) =>', ' x + 1;\n', 'ex']);
  // The complete streamed line sits above the original, which is still there below it.
  assert.equal(doc.text, `const a = 1;\n\nconst f = (x) => x + 1;\n${SELECTED}\nconst z = f(a);\n`);
  assert.equal(editor.decorations.get(types.inserted)!.length, 1);
  assert.equal(editor.decorations.get(types.pending)!.length, 1);

  request.resolve({ text: 'const f = (x) => x + 1;\nexport { f };', finishReason: 'stop', metrics });
  await done;
  const proposal = 'const f = (x) => x + 1;\nexport { f };\n';
  assert.equal(doc.text, `const a = 1;\n\n${proposal}\nconst z = f(a);\n`);
  assert.deepEqual(lensTitles(), ['Accept', 'Reject']);
  assert.equal(state.context.get('presage.rewritePending'), true);
  assert.equal(state.context.get('presage.rewriteRunning'), false);
  assert.equal(editor.decorations.get(types.inserted)!.length, 2, 'both proposal lines are new');
  assert.equal(editor.decorations.get(types.removed)!.length, 1, 'one block of removed lines');
  assert.deepEqual(editor.decorations.get(types.pending), []);
  // One undo step: only the first edit opens an undo stop, only the last one closes it.
  assert.deepEqual(editor.edits.map((e) => [e.undoStopBefore, e.undoStopAfter]), [[true, false], [false, true]]);

  await run('presage.acceptRewrite');
  assert.equal(doc.text, `const a = 1;\n\n${proposal}\nconst z = f(a);\n`);
  assert.deepEqual(lensTitles(), []);
  assert.equal(state.context.get('presage.rewritePending'), false);
  for (const ranges of editor.decorations.values()) assert.deepEqual(ranges, []);
  assert.deepEqual(notified, [{ method: 'recordAcceptance', params: { uri: 'file:///ws/src/f.ts', language: 'typescript', text: proposal } }]);
});

test('Reject restores the original exactly, also after edits above the proposal', async () => {
  const { done, request } = await startRewrite();
  request.resolve({ text: 'const f = (x) => x + 1;', finishReason: 'stop', metrics });
  await done;
  applyChange(doc, 0, 0, '// header\n');
  assert.deepEqual(lensTitles(), ['Accept', 'Reject']);
  await run('presage.rejectRewrite', doc.uri);
  assert.equal(doc.text, `// header\n${ORIGINAL}`);
  assert.deepEqual(lensTitles(), []);
  assert.equal(state.context.get('presage.rewritePending'), false);
});

test('cancelling while streaming (Esc or the notification) restores the original at once and cancels the request', async () => {
  for (const cancel of [() => run('presage.rejectRewrite'), () => state.progressCancel!.cancel()]) {
    setUp();
    const { done, request } = await startRewrite();
    await stream(request, ['line one\nline two\n']);
    assert.notEqual(doc.text, ORIGINAL);
    await cancel();
    await done; // the engine never answered
    assert.equal(request.token?.isCancellationRequested, true);
    assert.equal(doc.text, ORIGINAL);
    assert.deepEqual(lensTitles(), []);
    assert.equal(state.context.get('presage.rewriteRunning'), false);
    assert.equal(state.messages.filter((m) => m.level === 'error').length, 0);
  }
});

test('editing inside the proposal makes it the user\'s: no more actions, text kept', async () => {
  const { done, request } = await startRewrite();
  request.resolve({ text: 'const f = (x) => x + 1;', finishReason: 'stop', metrics });
  await done;
  const at = doc.text.indexOf('=>');
  applyChange(doc, at, 2, '=> /* kept */');
  assert.deepEqual(lensTitles(), []);
  assert.match(doc.text, /kept/);
  await run('presage.rejectRewrite');
  assert.match(doc.text, /kept/, 'nothing left to reject');
});

test('a selection edited while the instruction is typed is refused; engine problems give clear errors', async () => {
  state.inputBox = () => {
    applyChange(doc, doc.text.indexOf('return'), 6, 'yield');
    return Promise.resolve('anything');
  };
  await run('presage.rewriteSelection');
  assert.equal(requests.length, 0);
  assert.match(state.messages.at(-1)!.message, /changed while the instruction was typed/);

  setUp();
  client.state = 'no-model';
  await run('presage.rewriteSelection');
  assert.equal(requests.length, 0);
  assert.match(state.messages.at(-1)!.message, /no model is loaded/);

  setUp();
  const { done, request } = await startRewrite();
  await stream(request, ['half a\n']);
  request.reject(new Error('model crashed'));
  await done;
  assert.equal(doc.text, ORIGINAL, 'the original is back after a failure');
  assert.match(state.messages.at(-1)!.message, /rewrite failed: model crashed/);

  setUp();
  editor.select(5, 5);
  await run('presage.rewriteSelection');
  assert.match(state.messages.at(-1)!.message, /select the code/);
});

test('an unchanged proposal ends quietly with the original in place', async () => {
  const { done, request } = await startRewrite();
  request.resolve({ text: '```ts\n' + SELECTED + '```', finishReason: 'stop', metrics });
  await done;
  assert.equal(doc.text, ORIGINAL);
  assert.deepEqual(lensTitles(), []);
  assert.match(state.messages.at(-1)!.message, /unchanged/);
});


test('Escape dismisses a finished proposal: the keybinding covers review, and the original comes back', async () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as { contributes: { keybindings: Array<{ command: string; key: string; when?: string }> } };
  const escape = pkg.contributes.keybindings.find((k) => k.command === 'presage.rejectRewrite' && k.key === 'escape');
  assert.ok(escape, 'Escape is bound to reject');
  assert.match(escape.when ?? '', /presage\.rewritePending/);
  assert.match(escape.when ?? '', /presage\.rewriteRunning/);
  assert.match(escape.when ?? '', /!suggestWidgetVisible/, 'Escape still closes the suggest widget first');
  const { done, request } = await startRewrite();
  request.resolve({ text: 'const f = (x) => x + 1;', finishReason: 'stop', metrics });
  await done;
  assert.equal(state.context.get('presage.rewritePending'), true);
  await run('presage.rejectRewrite'); // what Escape runs
  assert.equal(doc.text, ORIGINAL);
  assert.equal(state.context.get('presage.rewritePending'), false);
});

test('undo and redo never bring back a rejected proposal; other edits undo as usual', async () => {
  applyChange(doc, 0, 0, '// top\n'); // an edit of the user's own before the rewrite
  const start = doc.text.indexOf(SELECTED);
  editor.select(start, start + SELECTED.length);
  const { done, request } = await startRewrite();
  request.resolve({ text: 'const f = (x) => x + 1;', finishReason: 'stop', metrics });
  await done;
  assert.match(doc.text, /const f = \(x\) =>/);
  await run('presage.rejectRewrite');
  const rejected = `// top\n${ORIGINAL}`;
  assert.equal(doc.text, rejected);
  const seen: string[] = [];
  const settle = async (): Promise<void> => {
    for (let i = 0; i < 5; i++) await sleep(5);
    seen.push(doc.text);
  };
  // Ctrl+Z: the restore is undone, which would show the proposal again; the controller steps over it.
  undoRedo(doc, 'undo');
  await settle();
  assert.equal(doc.text, rejected, 'the first undo lands before the proposal, with the original in place');
  assert.deepEqual(lensTitles(), []);
  // The next Ctrl+Z undoes the user's own edit, as it should.
  undoRedo(doc, 'undo');
  await settle();
  assert.equal(doc.text, ORIGINAL);
  // Redo twice: the user's edit comes back, and the proposal does not.
  undoRedo(doc, 'redo');
  await settle();
  assert.equal(doc.text, rejected);
  undoRedo(doc, 'redo');
  await settle();
  assert.equal(doc.text, rejected, 'redo steps over the proposal too');
  assert.ok(seen.every((t) => !t.includes('const f = (x) =>')), 'no settled state shows the rejected proposal');
});

test('with the demo model, the rewrite input box says it shows the mechanics only and points to Select Model', async () => {
  setUp();
  client = new FakeEngineClient();
  requests = client.requests;
  state.commands.clear();
  const ctx = { ...fakeCtx(client), nextRequestId: (p: string) => `${p}-${requests.length + 1}` };
  registerRewrite(ctx, { current: { label: 'demo model', demo: true } });
  const prompts: string[] = [];
  state.inputBox = (options) => {
    prompts.push(options?.prompt ?? '');
    return Promise.resolve(undefined);
  };
  await run('presage.rewriteSelection');
  assert.match(prompts[0]!, /Demo model: it shows the mechanics only/);
  assert.match(prompts[0]!, /Select Model/);
  registerRewrite(ctx, { current: { label: 'Qwen/Qwen2.5-Coder-1.5B-Instruct' } });
  await run('presage.rewriteSelection');
  assert.doesNotMatch(prompts[1]!, /demo/i);
});
