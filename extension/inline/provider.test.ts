// The inline provider with a scripted engine client: request shape, type-ahead reuse without a request, no stale
// result ever returned, secrets never asked about, early first line, and accepted text fed back.
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { fakeDocument, fakeVscode, installFakeVscode, Position } from '../testing/fakeVscode';
import { fakeCtx, FakeEngineClient } from '../testing/fakeEngineClient';

installFakeVscode();
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { InlineCompletionProvider, presentCompletion, completionView } = require('./provider') as typeof import('./provider');

const metrics = { steps: 1, tokens: 1, mat: 1, tokensPerS: 1, draftMs: 0, verifyMs: 0, totalMs: 1, firstTokenMs: 1, acceptedByDrafter: {} };

function setup(allowed = true) {
  const client = new FakeEngineClient();
  // The engine answers a cancelled completion with finishReason 'cancelled'.
  client.onCancel = (r) => r.resolve({ text: '', finishReason: 'cancelled', metrics });
  const typing = new fakeVscode.EventEmitter<unknown>();
  const ctx = fakeCtx(client);
  const indexer = { isAllowed: () => allowed, onDidType: typing.event };
  const provider = new InlineCompletionProvider(ctx as never, indexer as never);
  return { client, typing, provider };
}

const INVOKE = { triggerKind: 0, selectedCompletionInfo: undefined } as never;
const token = () => new fakeVscode.CancellationTokenSource().token as never;
const endOf = (text: string) => {
  const lines = text.split('\n');
  return new Position(lines.length - 1, lines[lines.length - 1]!.length);
};

async function ask(provider: InstanceType<typeof InlineCompletionProvider>, text: string, uri = 'file:///w/a.ts', version = 1) {
  return provider.provideInlineCompletionItems(fakeDocument(uri, text, 'typescript', version) as never, endOf(text) as never, INVOKE, token());
}

const tick = (ms = 0) => new Promise((r) => setTimeout(r, ms));

describe('inline completion provider', () => {
  beforeEach(() => undefined);

  it('asks the engine with the text around the cursor and shows the trimmed result', async () => {
    const { client, provider } = setup();
    const text = 'function f() {\n  const x = ';
    const shown = ask(provider, text);
    await tick();
    assert.equal(client.requests.length, 1);
    const p = client.requests[0]!.params;
    assert.equal(p.prefix, text);
    assert.equal(p.suffix, '');
    assert.equal(p.language, 'typescript');
    assert.equal(p.stopAtBlockEnd, true);
    assert.ok(p.timeBudgetMs! > 0 && p.maxTokens! > 0);
    client.requests[0]!.resolve({ text: 'compute(1, 2);\n', finishReason: 'stop', metrics });
    const items = await shown;
    assert.deepEqual(items?.map((i) => i.insertText), ['compute(1, 2);']);
    assert.equal(provider.stats.firstGhost.count, 1);
  });

  it('serves typed-ahead characters from the cache without a new request', async () => {
    const { client, provider } = setup();
    const text = 'const x = ';
    const first = ask(provider, text);
    await tick();
    client.requests[0]!.resolve({ text: 'compute(1, 2);', finishReason: 'stop', metrics });
    await first;
    const items = await ask(provider, 'const x = comp', 'file:///w/a.ts', 2);
    assert.deepEqual(items?.map((i) => i.insertText), ['ute(1, 2);']);
    assert.equal(client.requests.length, 1, 'no second request');
    assert.equal(provider.stats.cacheHits, 1);
    // Diverging from the suggestion is a cache miss.
    void ask(provider, 'const x = cx', 'file:///w/a.ts', 3);
    await tick();
    assert.equal(client.requests.length, 2);
  });

  it('never returns a stale result, even when the engine ignores the cancellation', async () => {
    const { client, provider } = setup();
    client.onCancel = undefined; // an engine that ignores the cancellation
    const older = ask(provider, 'let a = ', 'file:///w/a.ts', 1);
    await tick();
    const newer = ask(provider, 'let a = 1', 'file:///w/a.ts', 2);
    await tick();
    assert.equal(client.requests[0]!.cancelled, true, 'the stale request was cancelled');
    client.requests[0]!.resolve({ text: 'STALE', finishReason: 'stop', metrics });
    assert.equal(await older, undefined);
    client.requests[1]!.resolve({ text: '23;', finishReason: 'stop', metrics });
    assert.deepEqual((await newer)?.map((i) => i.insertText), ['23;']);
    assert.equal(provider.stats.staleDropped, 1);
  });

  it('keeps one generation per document, not across documents', async () => {
    const { client, provider } = setup();
    void ask(provider, 'a = ', 'file:///w/a.ts');
    void ask(provider, 'b = ', 'file:///w/b.ts');
    await tick();
    assert.deepEqual(client.requests.map((p) => p.cancelled), [false, false]);
    void ask(provider, 'a = 1', 'file:///w/a.ts', 2);
    await tick();
    assert.deepEqual(client.requests.map((p) => p.cancelled), [true, false, false]);
  });

  it('does not ask about documents it may not send (secrets), or mid-word, or before the engine is ready', async () => {
    const secret = setup(false);
    assert.equal(await ask(secret.provider, 'TOKEN='), undefined);
    assert.equal(secret.client.requests.length, 0);
    const { client, provider } = setup();
    const text = 'const value = 1;';
    const midWord = provider.provideInlineCompletionItems(fakeDocument('file:///w/a.ts', text) as never, new Position(0, 8) as never, INVOKE, token());
    assert.equal(await midWord, undefined);
    client.state = 'loading';
    assert.equal(await ask(provider, 'x = '), undefined);
    assert.equal(client.requests.length, 0);
  });

  it('shows the first streamed line early and caches the whole completion when it arrives', async () => {
    const { client, provider } = setup();
    const text = 'if (ok) {\n  ';
    const t0 = Date.now();
    const shown = ask(provider, text);
    await tick();
    const id = client.requests[0]!.params.requestId;
    client.partial(id, 'start();\n  fin');
    const items = await shown;
    assert.deepEqual(items?.map((i) => i.insertText), ['start();']);
    assert.ok(Date.now() - t0 < 1000);
    client.requests[0]!.resolve({ text: 'start();\n  finish();', finishReason: 'stop', metrics });
    await tick(5);
    const again = await ask(provider, text);
    assert.deepEqual(again?.map((i) => i.insertText), ['start();\n  finish();']);
    assert.equal(client.requests.length, 1);
  });

  it('feeds accepted text back, whole or in parts, and nothing for plain typing', async () => {
    const { client, typing, provider } = setup();
    const text = 'const x = ';
    const shown = ask(provider, text);
    await tick();
    client.requests[0]!.resolve({ text: 'compute(1, 2);', finishReason: 'stop', metrics });
    await shown;
    const doc = fakeDocument('file:///w/a.ts', text);
    const change = (offset: number, inserted: string) => typing.fire({ document: doc, contentChanges: [{ rangeOffset: offset, rangeLength: 0, text: inserted }] });
    change(text.length, 'compute'); // next word
    change(text.length + 7, '(1, 2);'); // the rest
    const accepted = client.notifications.filter((n) => n.method === 'recordAcceptance');
    assert.deepEqual(accepted.map((n) => (n.params as { text: string }).text), ['compute(1, 2);']);
    assert.equal(provider.stats.acceptedChars, 14);
    // A partial accept followed by different typing records the part.
    const second = ask(provider, 'let y = ', 'file:///w/a.ts', 5);
    await tick();
    client.requests[1]!.resolve({ text: 'make(3);', finishReason: 'stop', metrics });
    await second;
    change(8, 'make');
    change(12, 'Z');
    const all = client.notifications.filter((n) => n.method === 'recordAcceptance').map((n) => (n.params as { text: string }).text);
    assert.deepEqual(all, ['compute(1, 2);', 'make']);
  });

  it('an engine error shows nothing, is logged, and leaves no listener behind', async () => {
    const { client, provider } = setup();
    const shown = ask(provider, 'x = ');
    await tick();
    assert.equal(client.partialListeners(), 1);
    (client.requests[0]!.resolve as unknown as (v: Promise<never>) => void)(Promise.reject(new Error('boom')));
    assert.equal(await shown, undefined);
    assert.equal(provider.stats.errors, 1);
    assert.equal(client.partialListeners(), 0);
  });

  it('with the suggest widget open, completes after its selected item and starts the ghost text with it', async () => {
    const { client, provider } = setup();
    const text = 'const v = ma';
    const selected = { range: new fakeVscode.Range(new Position(0, 10), new Position(0, 12)), text: 'Math' };
    const shown = provider.provideInlineCompletionItems(fakeDocument('file:///w/a.ts', text) as never, new Position(0, 12) as never, { triggerKind: 0, selectedCompletionInfo: selected } as never, token());
    await tick();
    assert.equal(client.requests[0]!.params.prefix, 'const v = Math');
    client.requests[0]!.resolve({ text: '.max(1, 2);', finishReason: 'stop', metrics });
    const items = await shown;
    assert.equal(items?.[0]?.insertText, 'Math.max(1, 2);');
    assert.equal((items?.[0]?.range as unknown as { start: Position }).start.character, 10);
    assert.deepEqual(completionView('ab', 2, { start: 3, end: 1, text: 'x' }), { text: 'ab', offset: 2, lead: '' }, 'a bad range is ignored');
  });

  it('presents completions without trailing blanks or a repeat of the rest of the line', () => {
    assert.equal(presentCompletion('a, b)\n\n', ')'), 'a, b');
    assert.equal(presentCompletion('   \n', ''), '');
  });
});
