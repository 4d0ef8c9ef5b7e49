// Inline completions (ghost text): debounced by typing speed, one generation in flight per document, cancellation
// wired to $/cancelRequest, type-ahead reuse from a cache, the first line shown as soon as it streams in, and the
// accepted text (whole or partial) fed back to the engine as a past completion.
import * as vscode from 'vscode';
import { Complete, RecordAcceptance } from '../../engine/protocol';
import type { InlineCtx } from '../api';
import { CompletionCache } from '../common/completionCache';
import { AdaptiveDebouncer } from '../common/debouncer';
import { InflightRequests } from '../common/inflight';
import { LatencyTracker } from '../common/latencyTracker';
import type { InlineCounters } from '../common/statsReport';
import { config } from '../config';
import type { Indexer } from '../index/indexer';
import { cacheStage, completionView, debounceStage, postProcessStage, requestStage, viewStage, type CompletionClient } from './stages';

export { completionView };

export interface InlineStats extends InlineCounters {
  displayed: number;
  partialAccepts: number;
  firstGhost: LatencyTracker;
}

/** The suggestion on screen: where it was shown and what of it is still ahead of the cursor. */
interface Shown {
  uri: string;
  languageId: string;
  offset: number;
  rest: string;
  accepted: string;
}

/** What the ghost text shows for a raw completion (the post-process stage). */
export function presentCompletion(raw: string, restOfLine: string): string {
  return postProcessStage(raw, { restOfLine });
}

export class InlineCompletionProvider implements vscode.InlineCompletionItemProvider, vscode.Disposable {
  private readonly _disposables: vscode.Disposable[] = [];
  private readonly _cache = new CompletionCache(64);
  private readonly _debouncer = new AdaptiveDebouncer();
  private readonly _inflight = new InflightRequests();
  private _shown: Shown | undefined;
  readonly stats: InlineStats = { requests: 0, cacheHits: 0, cancelled: 0, staleDropped: 0, errors: 0, shown: 0, acceptedChars: 0, displayed: 0, partialAccepts: 0, firstGhost: new LatencyTracker() };

  constructor(private readonly _ctx: InlineCtx, private readonly _indexer: Pick<Indexer, 'isAllowed' | 'onDidType'>) {
    const d = this._disposables;
    d.push(vscode.languages.registerInlineCompletionItemProvider([{ scheme: 'file' }, { scheme: 'untitled' }, { scheme: 'vscode-remote' }], this));
    d.push(_indexer.onDidType((e) => this._onType(e)));
    d.push(vscode.workspace.onDidCloseTextDocument((doc) => {
      this._cache.dropDocument(doc.uri.toString());
      this._inflight.cancel(doc.uri.toString());
    }));
    d.push(_ctx.client.onDidStart(() => this._inflight.cancelAll()));
  }

  clearCache(): void {
    this._cache.clear();
    this._shown = undefined;
  }

  async provideInlineCompletionItems(
    document: vscode.TextDocument, position: vscode.Position, context: vscode.InlineCompletionContext, token: vscode.CancellationToken,
  ): Promise<vscode.InlineCompletionItem[] | undefined> {
    const t0 = performance.now();
    const client = this._ctx.client;
    if (!config.inlineEnabled() || !this._indexer.isAllowed(document)) return undefined;
    if (client.state !== 'ready' && client.state !== 'generating') return undefined;
    const uri = document.uri.toString();
    const selected = context.selectedCompletionInfo;
    const view = viewStage(uri, document.getText(), document.offsetAt(position), selected && {
      start: document.offsetAt(selected.range.start), end: document.offsetAt(selected.range.end), text: selected.text,
    });
    if (!view) return undefined;
    const range = new vscode.Range(selected?.range.start ?? position, selected?.range.end ?? position);
    const items = (completion: string): vscode.InlineCompletionItem[] | undefined => {
      const shown = postProcessStage(completion, view);
      return shown ? this._items(document, range, document.offsetAt(position), view.lead, shown) : undefined;
    };

    const cached = cacheStage(this._cache, view);
    if (cached !== undefined) {
      this.stats.cacheHits++;
      return items(cached);
    }

    const ticket = this._inflight.begin(uri);
    const onVsCancel = token.onCancellationRequested(() => {
      if (this._inflight.isCurrent(uri, ticket.id)) this._inflight.cancel(uri);
    });
    let background = false;
    let release: (() => void) | undefined;
    try {
      const automatic = context.triggerKind === vscode.InlineCompletionTriggerKind.Automatic;
      if (!(await debounceStage(this._debouncer, automatic, ticket.signal)) || token.isCancellationRequested) return undefined;
      this.stats.requests++;
      const outcome = await requestStage(this._engine(), view, {
        requestId: this._ctx.nextRequestId('complete'), language: document.languageId, maxTokens: config.maxTokens(), timeBudgetMs: config.timeBudgetMs(),
      }, ticket.signal);
      release = outcome.release;
      const { first, whole } = outcome;
      if (!first.done) {
        // The first line shows now; the rest is cached when it arrives and the suggestion refreshed from the cache.
        background = true;
        void whole.then((r) => {
          if (!this._inflight.isCurrent(uri, ticket.id) || r.finishReason === 'cancelled') return;
          this._cache.add({ uri, prefix: view.prefix, suffix: view.suffix, text: r.text });
          const editor = vscode.window.activeTextEditor;
          if (editor?.document.uri.toString() === uri && editor.document.version === document.version && editor.selection.active.isEqual(position)) {
            void vscode.commands.executeCommand('editor.action.inlineSuggest.trigger');
          }
        }, () => undefined).finally(() => {
          release?.();
          ticket.done();
        });
      }
      if (first.reason === 'cancelled') this.stats.cancelled++;
      // Never show a stale result: a newer keystroke (or VS Code) has moved on.
      if (!this._inflight.isCurrent(uri, ticket.id) || token.isCancellationRequested || first.reason === 'cancelled') {
        this.stats.staleDropped++;
        return undefined;
      }
      this._cache.add({ uri, prefix: view.prefix, suffix: view.suffix, text: first.text });
      const result = items(first.text);
      if (result) this.stats.firstGhost.add(performance.now() - t0);
      return result;
    } catch (err) {
      if (ticket.signal.aborted || token.isCancellationRequested) {
        this.stats.cancelled++;
        return undefined;
      }
      this.stats.errors++;
      this._ctx.log.warn(`completion failed: ${(err as Error).message}`);
      return undefined;
    } finally {
      onVsCancel.dispose();
      if (!background) {
        release?.();
        ticket.done();
      }
    }
  }

  /** The engine as the request stage sees it: an abort signal wired to `$/cancelRequest`. */
  private _engine(): CompletionClient {
    const client = this._ctx.client;
    return {
      onPartial: (id, listener) => client.onPartial(id, listener),
      request: async (params, signal) => {
        const cts = new vscode.CancellationTokenSource();
        const abort = (): void => cts.cancel();
        signal.addEventListener('abort', abort, { once: true });
        if (signal.aborted) cts.cancel();
        try {
          return await client.request(Complete, params, cts.token);
        } finally {
          signal.removeEventListener('abort', abort);
          cts.dispose();
        }
      },
    };
  }

  private _items(document: vscode.TextDocument, range: vscode.Range, cursor: number, lead: string, text: string): vscode.InlineCompletionItem[] {
    this._flushAccepted();
    // Acceptance is tracked from the cursor; with a selected suggestion the whole item replaces its range instead.
    if (!lead) this._shown = { uri: document.uri.toString(), languageId: document.languageId, offset: cursor, rest: text, accepted: '' };
    this.stats.shown++;
    return [new vscode.InlineCompletionItem(lead + text, range)];
  }

  /** Called by VS Code versions that report displays (proposed API on 1.90): counts confirmed displays. */
  handleDidShowCompletionItem(_item: vscode.InlineCompletionItem): void {
    this.stats.displayed++;
  }

  /**
   * Called by VS Code versions that report partial accepts. The accepted text itself is taken from the document
   * change that the accept makes (see _onType), which also covers versions without this call.
   */
  handleDidPartiallyAcceptCompletionItem(_item: vscode.InlineCompletionItem, _info: unknown): void {
    this.stats.partialAccepts++;
  }

  /**
   * Typing or accepting (Tab, next word, next line) inserts text at the suggestion: what matches it counts as
   * accepted; anything else ends it.
   */
  private _onType(e: vscode.TextDocumentChangeEvent): void {
    this._debouncer.keystroke(Date.now());
    const shown = this._shown;
    if (!shown || shown.uri !== e.document.uri.toString()) return;
    const [change] = e.contentChanges;
    if (e.contentChanges.length === 1 && change && change.rangeLength === 0 && change.rangeOffset === shown.offset && change.text.length > 0 && shown.rest.startsWith(change.text)) {
      shown.accepted += change.text;
      shown.offset += change.text.length;
      shown.rest = shown.rest.slice(change.text.length);
      if (shown.rest.length === 0) this._flushAccepted();
      return;
    }
    this._flushAccepted();
  }

  private _flushAccepted(): void {
    const shown = this._shown;
    this._shown = undefined;
    if (!shown || shown.accepted.length < 2) return;
    this.stats.acceptedChars += shown.accepted.length;
    this._ctx.client.notify(RecordAcceptance, { uri: shown.uri, language: shown.languageId, text: shown.accepted });
  }

  dispose(): void {
    this._inflight.cancelAll();
    for (const d of this._disposables.splice(0)) d.dispose();
  }
}
