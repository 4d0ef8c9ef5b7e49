// Each inline completion stage on its own: view, cache, debounce, request (streaming), post-process.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CompleteParams, GenerationResult } from '../../engine/protocol';
import { CompletionCache } from '../common/completionCache';
import { AdaptiveDebouncer } from '../common/debouncer';
import { cacheStage, debounceStage, postProcessStage, requestStage, viewStage, type CompletionClient } from './stages';

const metrics = { steps: 1, tokens: 1, mat: 1, tokensPerS: 1, draftMs: 0, verifyMs: 0, totalMs: 1, firstTokenMs: 1, acceptedByDrafter: {} };
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A scripted engine: the test resolves the request and pushes partial results. */
function scriptedClient() {
  const listeners = new Map<string, (d: string) => void>();
  let resolve!: (r: GenerationResult) => void;
  let reject!: (e: Error) => void;
  const sent: CompleteParams[] = [];
  const client: CompletionClient = {
    request: (params) => {
      sent.push(params);
      return new Promise((res, rej) => ((resolve = res), (reject = rej)));
    },
    onPartial: (id, l) => {
      listeners.set(id, l);
      return { dispose: () => listeners.delete(id) };
    },
  };
  return { client, sent, listeners, resolve: (text: string) => resolve({ text, finishReason: 'stop', metrics }), reject: (m: string) => reject(new Error(m)) };
}

const OPTIONS = { requestId: 'complete-1', language: 'typescript', maxTokens: 64, timeBudgetMs: 500 };

describe('inline stages', () => {
  it('view: the text around the cursor, with the selected suggest item applied; nothing mid-word', () => {
    const v = viewStage('file:///a.ts', 'const v = ma\nnext', 12, { start: 10, end: 12, text: 'Math' });
    assert.deepEqual(v, { uri: 'file:///a.ts', prefix: 'const v = Math', suffix: '\nnext', restOfLine: '', lead: 'Math' });
    assert.equal(viewStage('file:///a.ts', 'const value = 1;', 8), undefined, 'mid-word');
    assert.equal(viewStage('file:///a.ts', 'f(x = ', 6, { start: 9, end: 2, text: 'bad' })?.lead, '', 'a bad range is ignored');
  });

  it('cache: serves the rest of a suggestion the user typed into, and misses when they diverge', () => {
    const cache = new CompletionCache(8);
    cache.add({ uri: 'u', prefix: 'x = ', suffix: '', text: 'compute(1);' });
    const view = (prefix: string) => ({ uri: 'u', prefix, suffix: '', restOfLine: '', lead: '' });
    assert.equal(cacheStage(cache, view('x = ')), 'compute(1);');
    assert.equal(cacheStage(cache, view('x = comp')), 'ute(1);');
    assert.equal(cacheStage(cache, view('x = cx')), undefined);
  });

  it('debounce: invoked requests go at once; a newer keystroke aborts an automatic one', async () => {
    const debouncer = new AdaptiveDebouncer();
    assert.equal(await debounceStage(debouncer, false, new AbortController().signal), true);
    const aborted = new AbortController();
    debouncer.keystroke(Date.now());
    const waiting = debounceStage(debouncer, true, aborted.signal);
    aborted.abort();
    assert.equal(await waiting, false);
  });

  it('request: the whole completion when it comes within the grace, with the FIM context sent', async () => {
    const engine = scriptedClient();
    const view = viewStage('file:///a.ts', 'let a = ', 8)!;
    const outcome = requestStage(engine.client, view, OPTIONS, new AbortController().signal);
    await sleep(0);
    assert.equal(engine.sent[0]!.prefix, 'let a = ');
    assert.equal(engine.sent[0]!.stopAtBlockEnd, true);
    engine.listeners.get('complete-1')!('1;\nlet b');
    await sleep(5);
    engine.resolve('1;\nlet b = 2;');
    const { first, release } = await outcome;
    assert.deepEqual(first, { done: true, text: '1;\nlet b = 2;', reason: 'stop' });
    release();
    assert.equal(engine.listeners.size, 0);
  });

  it('request: the first streamed line shows on its own when the rest is slow', async () => {
    const engine = scriptedClient();
    const outcome = requestStage(engine.client, viewStage('u', 'if (ok) {\n  ', 12)!, OPTIONS, new AbortController().signal);
    await sleep(0);
    engine.listeners.get('complete-1')!('start();\n  fin');
    const { first, whole, release } = await outcome;
    assert.deepEqual(first, { done: false, text: 'start();', reason: undefined });
    engine.resolve('start();\n  finish();');
    assert.equal((await whole).text, 'start();\n  finish();');
    release();
  });

  it('request: an engine error propagates and leaves no listener behind', async () => {
    const engine = scriptedClient();
    const outcome = requestStage(engine.client, viewStage('u', 'x = ', 4)!, OPTIONS, new AbortController().signal);
    await sleep(0);
    engine.reject('boom');
    await assert.rejects(outcome, /boom/);
    assert.equal(engine.listeners.size, 0);
  });

  it('post-process: trailing blanks, blank results and a repeat of the rest of the line go (golden cases)', () => {
    const cases: Array<[raw: string, restOfLine: string, shown: string]> = [
      ['compute(1, 2);\n', '', 'compute(1, 2);'],
      ['a, b)\n\n', ')', 'a, b'],
      ['   \n', '', ''],
      ['x + 1;  ', ';', 'x + 1'],
    ];
    for (const [raw, rest, shown] of cases) assert.equal(postProcessStage(raw, { restOfLine: rest }), shown, JSON.stringify(raw));
  });
});
