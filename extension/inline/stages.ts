// The inline completion flow as named stages, in order (like Tabby's completion pipeline):
//   view -> cache -> debounce -> request -> post-process
// Each stage is small and has no vscode import, so it is tested on its own (stages.test.ts); provider.ts only
// wires them to VS Code and keeps the counters.
import type { CompleteParams, GenerationResult } from '../../engine/protocol';
import type { CompletionCache } from '../common/completionCache';
import type { AdaptiveDebouncer } from '../common/debouncer';
import { extractFimContext, trimOverlapWithLine, worthCompleting } from '../common/fimContext';
import { EARLY_GRACE_MS, firstLine, isSettled } from '../common/streaming';

/** The document as the completion sees it. */
export interface CompletionView {
  uri: string;
  /** Text before and after the cursor (with the suggest widget's selected item applied). */
  prefix: string;
  suffix: string;
  /** The text after the cursor up to the end of its line. */
  restOfLine: string;
  /** The selected suggest item's text, which the inline item must start with ('' when none). */
  lead: string;
}

/**
 * Stage 0, view: the text around the cursor, with the suggest widget's selected item applied over its range (VS
 * Code shows ghost text only when it extends that item). Undefined when the spot is not worth completing.
 */
export function viewStage(uri: string, text: string, cursor: number, selected?: { start: number; end: number; text: string }): CompletionView | undefined {
  const applied = completionView(text, cursor, selected);
  const prefix = applied.text.slice(0, applied.offset);
  const suffix = applied.text.slice(applied.offset);
  if (!worthCompleting(prefix, suffix)) return undefined;
  const lineEnd = suffix.indexOf('\n');
  return { uri, prefix, suffix, restOfLine: lineEnd < 0 ? suffix : suffix.slice(0, lineEnd), lead: applied.lead };
}

/** The document with the selected suggest item applied; `lead` is that item's text. */
export function completionView(text: string, cursor: number, selected?: { start: number; end: number; text: string }): { text: string; offset: number; lead: string } {
  if (!selected || selected.start > selected.end || selected.end > text.length) return { text, offset: cursor, lead: '' };
  return { text: text.slice(0, selected.start) + selected.text + text.slice(selected.end), offset: selected.start + selected.text.length, lead: selected.text };
}

/** Stage 1, cache: a completion already known for this spot (also when the user typed into the suggestion). */
export function cacheStage(cache: CompletionCache, view: CompletionView): string | undefined {
  return cache.lookup(view.uri, view.prefix, view.suffix)?.text;
}

/** Stage 2, debounce: automatic triggers wait for a pause in typing; false when a newer keystroke aborted it. */
export async function debounceStage(debouncer: AdaptiveDebouncer, automatic: boolean, signal: AbortSignal): Promise<boolean> {
  if (automatic && !(await debouncer.wait(Date.now(), signal))) return false;
  return !signal.aborted;
}

/** What the request stage needs of the engine client. */
export interface CompletionClient {
  request(params: CompleteParams, signal: AbortSignal): Promise<GenerationResult>;
  onPartial(requestId: string, listener: (delta: string) => void): { dispose(): void };
}

export interface RequestOutcome {
  /** What to show now: the whole completion, or its first streamed line (`done` false). */
  first: { done: boolean; text: string; reason: string | undefined };
  /** The whole completion (the same as `first` when `done`). */
  whole: Promise<GenerationResult>;
  /** Ends the partial-result subscription; call once `whole` settled or was abandoned. */
  release(): void;
}

/**
 * Stage 3, request: asks the engine and streams. The first complete line is shown early, unless the whole
 * completion follows within EARLY_GRACE_MS (less flicker).
 */
export async function requestStage(client: CompletionClient, view: CompletionView, options: { requestId: string; language: string; maxTokens: number; timeBudgetMs: number }, signal: AbortSignal): Promise<RequestOutcome> {
  const fim = extractFimContext(view.prefix + view.suffix, view.prefix.length);
  let streamed = '';
  let showEarly!: (line: string) => void;
  const early = new Promise<string>((r) => (showEarly = r));
  const partial = client.onPartial(options.requestId, (delta) => {
    streamed += delta;
    const line = firstLine(streamed);
    if (line !== undefined) showEarly(line);
  });
  const release = (): void => partial.dispose();
  try {
    const whole = client.request({
      requestId: options.requestId, uri: view.uri, language: options.language, prefix: fim.prefix, suffix: fim.suffix,
      maxTokens: options.maxTokens, timeBudgetMs: options.timeBudgetMs, stopAtBlockEnd: true,
    }, signal);
    const done = whole.then((r) => ({ done: true, text: r.text, reason: r.finishReason as string | undefined }));
    const firstLineShown = early.then(async (text) => {
      await Promise.race([done.catch(() => undefined), new Promise((r) => setTimeout(r, EARLY_GRACE_MS))]);
      return { done: false, text, reason: undefined as string | undefined };
    });
    const first = await Promise.race([done, firstLineShown]);
    // The whole result landed during the grace: show it instead of the line.
    if (!first.done && (await isSettled(whole))) return { first: await done, whole, release };
    return { first, whole, release };
  } catch (err) {
    release();
    throw err;
  }
}

/** Stage 4, post-process: what the ghost text shows for a raw completion ('' shows nothing). */
export function postProcessStage(raw: string, view: Pick<CompletionView, 'restOfLine'>): string {
  let text = raw.replace(/\s+$/, '');
  text = trimOverlapWithLine(text, view.restOfLine);
  return text.trim().length === 0 ? '' : text;
}
