// Inline completions (ghost text): debounced by typing speed, one generation in flight per document, cancellation
// wired to $/cancelRequest, type-ahead reuse from a cache, the first line shown as soon as it streams in, and the
// accepted text (whole or partial) fed back to the engine as a past completion.
import * as vscode from 'vscode';
import { Complete, RecordAcceptance } from '../../engine/protocol';
import { CompletionCache } from '../common/completionCache';
import { AdaptiveDebouncer } from '../common/debouncer';
import { extractFimContext, trimOverlapWithLine, worthCompleting } from '../common/fimContext';
import { InflightRequests } from '../common/inflight';
import { LatencyTracker } from '../common/latencyTracker';
import { EARLY_GRACE_MS, firstLine, isSettled } from '../common/streaming';
import { config } from '../config';
import type { Context } from '../ctx';
import type { Indexer } from '../index/indexer';
import type { InlineCounters } from '../common/statsReport';

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

/** What the ghost text shows for a raw completion. */
export function presentCompletion(raw: string, restOfLine: string): string {
  let text = raw.replace(/\s+$/, '');
  text = trimOverlapWithLine(text, restOfLine);
  return text.trim().length === 0 ? '' : text;
}

/**
 * The document as the completion sees it: with the suggest widget's selected item applied over its range. `lead`
 * is that item's text, which the inline item must start with.
 */
export function completionView(text: string, cursor: number, selected?: { start: number; end: number; text: string }): { text: string; offset: number; lead: string } {
  if (!selected || selected.start > selected.end || selected.end > text.length) return { text, offset: cursor, lead: '' };
  return { text: text.slice(0, selected.start) + selected.text + text.slice(selected.end), offset: selected.start + selected.text.length, lead: selected.text };
}

export class InlineCompletionProvider implements vscode.InlineCompletionItemProvider, vscode.Disposable {
  private readonly _disposables: vscode.Disposable[] = [];
  private readonly _cache = new CompletionCache(64);
  private readonly _debouncer = new AdaptiveDebouncer();
  private readonly _inflight = new InflightRequests();
  private _shown: Shown | undefined;
  readonly stats: InlineStats = { requests: 0, cacheHits: 0, cancelled: 0, staleDropped: 0, errors: 0, shown: 0, acceptedChars: 0, displayed: 0, partialAccepts: 0, firstGhost: new LatencyTracker() };

  constructor(private readonly _ctx: Context, private readonly _indexer: Indexer) {
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
    // With the suggest widget open, complete as if its selected item were accepted (VS Code shows ghost text only
    // when it extends that item).
    const view = completionView(document.getText(), document.offsetAt(position), context.selectedCompletionInfo && {
      start: document.offsetAt(context.selectedCompletionInfo.range.start), end: document.offsetAt(context.selectedCompletionInfo.range.end), text: context.selectedCompletionInfo.text,
    });
    const { text, offset, lead } = view;
    const range = new vscode.Range(context.selectedCompletionInfo?.range.start ?? position, context.selectedCompletionInfo?.range.end ?? position);
    const prefixAll = text.slice(0, offset);
    const suffixAll = text.slice(offset);
    const lineEnd = text.indexOf('\n', offset);
    const restOfLine = text.slice(offset, lineEnd < 0 ? text.length : lineEnd);
    if (!worthCompleting(prefixAll, suffixAll)) return undefined;
    const items = (completion: string): vscode.InlineCompletionItem[] | undefined => {
      const shown = presentCompletion(completion, restOfLine);
      return shown ? this._items(document, range, document.offsetAt(position), lead, shown) : undefined;
    };

    const hit = this._cache.lookup(uri, prefixAll, suffixAll);
    if (hit) {
      this.stats.cacheHits++;
      return items(hit.text);
    }

    const ticket = this._inflight.begin(uri);
    const onVsCancel = token.onCancellationRequested(() => {
      if (this._inflight.isCurrent(uri, ticket.id)) this._inflight.cancel(uri);
    });
    let background = false;
    let release: (() => void) | undefined;
    try {
      if (context.triggerKind === vscode.InlineCompletionTriggerKind.Automatic && !(await this._debouncer.wait(Date.now(), ticket.signal))) return undefined;
      if (ticket.signal.aborted || token.isCancellationRequested) return undefined;
      this.stats.requests++;
      const fim = extractFimContext(text, offset);
      const requestId = this._ctx.nextRequestId('complete');
      const cts = new vscode.CancellationTokenSource();
      ticket.signal.addEventListener('abort', () => cts.cancel(), { once: true });
      let streamed = '';
      let showEarly!: (line: string) => void;
      const early = new Promise<string>((r) => (showEarly = r));
      const partial = client.onPartial(requestId, (delta) => {
        streamed += delta;
        const line = firstLine(streamed);
        if (line !== undefined) showEarly(line);
      });
      release = () => {
        partial.dispose();
        cts.dispose();
      };
      const full = client.request(Complete, {
        requestId, uri, language: document.languageId, prefix: fim.prefix, suffix: fim.suffix,
        maxTokens: config.maxTokens(), timeBudgetMs: config.timeBudgetMs(), stopAtBlockEnd: true,
      }, cts.token);
      const whole = full.then((r) => ({ done: true, text: r.text, reason: r.finishReason as string | undefined }));
      // The first streamed line shows early, unless the whole completion follows within a moment (less flicker).
      const firstLineShown = early.then(async (t) => {
        await Promise.race([whole.catch(() => undefined), new Promise((r) => setTimeout(r, EARLY_GRACE_MS))]);
        return { done: false, text: t, reason: undefined as string | undefined };
      });
      const first = await Promise.race([whole, firstLineShown]);
      if (!first.done && !(await isSettled(whole))) {
        // The first line shows now; the rest is cached when it arrives and the suggestion refreshed from the cache.
        background = true;
        void full.then((r) => {
          if (!this._inflight.isCurrent(uri, ticket.id) || r.finishReason === 'cancelled') return;
          this._cache.add({ uri, prefix: prefixAll, suffix: suffixAll, text: r.text });
          const editor = vscode.window.activeTextEditor;
          if (editor?.document.uri.toString() === uri && editor.document.version === document.version && editor.selection.active.isEqual(position)) {
            void vscode.commands.executeCommand('editor.action.inlineSuggest.trigger');
          }
        }, () => undefined).finally(() => {
          release?.();
          ticket.done();
        });
      } else if (!first.done) {
        Object.assign(first, await whole);
      }
      if (first.reason === 'cancelled') this.stats.cancelled++;
      // Never show a stale result: a newer keystroke (or VS Code) has moved on.
      if (!this._inflight.isCurrent(uri, ticket.id) || token.isCancellationRequested || first.reason === 'cancelled') {
        this.stats.staleDropped++;
        return undefined;
      }
      this._cache.add({ uri, prefix: prefixAll, suffix: suffixAll, text: first.text });
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
