// The remote back end: the surfaces' requests sent to an OpenAI-compatible server through the one API client.
// Completions go to /v1/completions with the FIM `suffix`, rewrites to /v1/chat/completions with Predicted Outputs,
// chat to /v1/chat/completions; all stream. A server that rejects `suffix` or `prediction` (400) gets the request
// again without it, and is not sent it again. The completion pipeline's stop rules run on the streamed text.
import { rewriteMessages } from '../../prompt/chat';
import type { BackendHealth, FinishReason } from '../../protocol';
import { OpenAiClient, RemoteAborted, RemoteError, type StreamOutcome } from './openaiClient';
import { emptyMetrics, type ChatRequest, type FimRequest, type GenerateBase, type Generated, type Generator, type PlainRequest, type RewriteRequest } from './types';

export interface RemoteGeneratorOptions {
  url: string;
  /** The model name to send; empty: the first the server lists. */
  model?: string;
  token?: string;
  timeoutMs?: number;
  log?: (level: 'info' | 'warn' | 'error', message: string) => void;
}

/** Characters per token assumed when trimming text for a server whose tokenizer we do not have. */
const CHARS_PER_TOKEN = 3;
/** Context assumed when the server does not report max_model_len. */
const DEFAULT_CONTEXT = 8192;

function mapFinish(reason: string | undefined): FinishReason {
  return reason === 'length' ? 'length' : 'stop';
}

export class RemoteGenerator implements Generator {
  readonly kind = 'remote' as const;
  readonly client: OpenAiClient;
  private _model: string;
  private _contextTokens = DEFAULT_CONTEXT;
  /** Learned from a 400: this server takes no FIM `suffix` / no `prediction`. */
  private _noSuffix = false;
  private _noPrediction = false;
  /** The running inline completion, aborted when a newer one arrives. */
  private _completion: AbortController | undefined;
  private _lastHealth: BackendHealth | undefined;
  /** Why the last health check failed, to rethrow with its kind (unauthorized, refused, …). */
  private _lastError: RemoteError | undefined;

  constructor(private readonly _options: RemoteGeneratorOptions) {
    this.client = new OpenAiClient({ url: _options.url, ...(_options.token ? { token: _options.token } : {}), ...(_options.timeoutMs ? { timeoutMs: _options.timeoutMs } : {}) });
    this._model = _options.model?.trim() ?? '';
  }

  get lastHealth(): BackendHealth | undefined {
    return this._lastHealth;
  }

  /** Which optional fields the server turned down so far. */
  get fallbacks(): { suffix: boolean; prediction: boolean } {
    return { suffix: this._noSuffix, prediction: this._noPrediction };
  }

  contextTokens(): number {
    return this._contextTokens;
  }

  countTokens(text: string): number {
    return Math.ceil(text.length / CHARS_PER_TOKEN);
  }

  async health(signal?: AbortSignal): Promise<BackendHealth> {
    const url = this.client.baseUrl;
    try {
      const list = await this.client.models(signal);
      if (list.maxModelLen) this._contextTokens = list.maxModelLen;
      if (!this._model) {
        if (list.ids.length === 0) throw new RemoteError(`${url}/models lists no model; set presage.remote.model`, 'not-found');
        this._model = list.ids[0]!;
      } else if (list.ids.length > 0 && !list.ids.includes(this._model)) {
        throw new RemoteError(`${url} does not serve the model '${this._model}' (presage.remote.model); it serves: ${list.ids.slice(0, 10).join(', ')}`, 'not-found', 404);
      }
      this._lastHealth = { backend: 'remote', ok: true, url, model: this._model, latencyMs: Math.round(list.latencyMs * 10) / 10 };
      this._lastError = undefined;
    } catch (err) {
      if (err instanceof RemoteAborted) throw err;
      this._lastError = err instanceof RemoteError ? err : new RemoteError((err as Error).message, 'network');
      this._lastHealth = { backend: 'remote', ok: false, url, ...(this._model ? { model: this._model } : {}), error: (err as Error).message };
    }
    return this._lastHealth;
  }

  private async _modelName(signal?: AbortSignal): Promise<string> {
    if (!this._model) {
      const h = await this.health(signal);
      if (!h.ok) throw this._lastError ?? new RemoteError(h.error ?? 'the remote server is not available', 'network');
    }
    return this._model;
  }

  private _common(req: GenerateBase, model: string): Record<string, unknown> {
    return {
      model,
      max_tokens: req.maxTokens,
      // Greedy unless asked otherwise, as the local decoder (OpenAI servers default to 1).
      temperature: req.temperature ?? 0,
      ...(req.topP !== undefined ? { top_p: req.topP } : {}),
      ...(req.seed !== undefined ? { seed: req.seed } : {}),
      ...(req.stop && req.stop.length > 0 ? { stop: req.stop.slice(0, 4) } : {}),
    };
  }

  /**
   * Streams one request; `view` maps the streamed text to what the caller sees (a stop rule may cut it, which
   * closes the connection). Cancellation and the time budget close the connection too.
   */
  private async _stream(
    route: '/completions' | '/chat/completions',
    body: Record<string, unknown>,
    req: GenerateBase,
    view: { cut?: (text: string) => number; transform?: (text: string, final?: boolean) => { shown: string; done: boolean } } = {},
  ): Promise<Generated> {
    const t0 = performance.now();
    const controller = new AbortController();
    const onAbort = (): void => controller.abort();
    if (req.signal?.aborted) controller.abort();
    req.signal?.addEventListener('abort', onAbort, { once: true });
    let timedOut = false;
    const budget = req.timeBudgetMs ? setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, req.timeBudgetMs) : undefined;
    let raw = '';
    let shown = '';
    let cutAt = -1;
    let firstTokenMs = 0;
    let outcome: StreamOutcome | undefined;
    let cancelled = false;
    try {
      outcome = await this.client.stream(route, body, (delta) => {
        if (!firstTokenMs) firstTokenMs = performance.now() - t0;
        raw += delta;
        let visible = raw;
        let done = false;
        if (view.transform) ({ shown: visible, done } = view.transform(raw));
        const cut = view.cut ? view.cut(visible) : -1;
        if (cut >= 0) {
          visible = visible.slice(0, cut);
          cutAt = cut;
          done = true;
        }
        if (visible.length > shown.length && visible.startsWith(shown)) {
          req.onDelta?.(visible.slice(shown.length));
          shown = visible;
        }
        return !done;
      }, controller.signal);
    } catch (err) {
      if (!(err instanceof RemoteAborted)) throw err;
      cancelled = true;
    } finally {
      if (budget) clearTimeout(budget);
      req.signal?.removeEventListener('abort', onAbort);
    }
    let text = view.transform ? view.transform(raw, true).shown : raw;
    if (cutAt >= 0) text = text.slice(0, cutAt);
    const totalMs = performance.now() - t0;
    const tokens = outcome?.completionTokens ?? this.countTokens(raw);
    const finishReason: FinishReason = cancelled ? (timedOut ? 'time_budget' : 'cancelled') : cutAt >= 0 ? 'block_end' : mapFinish(outcome?.finishReason);
    return {
      text: cancelled && !timedOut ? shown : text,
      finishReason,
      metrics: { ...emptyMetrics(), tokens, totalMs, firstTokenMs, tokensPerS: totalMs > 0 ? tokens / (totalMs / 1000) : 0 },
      ...(outcome?.prediction ? { predictionUsage: outcome.prediction } : {}),
    };
  }

  /** Sends once; on a 400 about `field`, forgets the field for this server and sends again without it. */
  private async _withFallback(field: 'suffix' | 'prediction', body: Record<string, unknown>, send: (body: Record<string, unknown>) => Promise<Generated>): Promise<Generated> {
    if (!(field in body)) return send(body);
    try {
      return await send(body);
    } catch (err) {
      if (!(err instanceof RemoteError) || err.kind !== 'rejected' || !(err.param === field || err.message.includes(field))) throw err;
      if (field === 'suffix') this._noSuffix = true;
      else this._noPrediction = true;
      this._options.log?.('warn', `${this.client.baseUrl} does not take '${field}' (${err.message}); sending requests without it from now on`);
      const { [field]: _dropped, ...rest } = body;
      return send(rest);
    }
  }

  async fim(req: FimRequest): Promise<Generated> {
    if (req.cancelStale) {
      this._completion?.abort();
      this._completion = new AbortController();
    }
    const own = this._completion;
    const signal = req.cancelStale && own ? (req.signal ? AbortSignal.any([req.signal, own.signal]) : own.signal) : req.signal;
    const model = await this._modelName(signal);
    // The text nearest the cursor matters most: cut the far ends by an estimate (the server cuts by tokens).
    const chars = req.maxPromptTokens * CHARS_PER_TOKEN;
    const prefix = req.prefix.slice(-Math.ceil(chars * 0.75));
    const suffix = req.suffix.slice(0, Math.floor(chars * 0.25));
    const body: Record<string, unknown> = {
      ...this._common(req, model), prompt: prefix,
      ...(this._noSuffix ? {} : { suffix }),
      ...(req.prediction !== undefined && !this._noPrediction ? { prediction: { type: 'content', content: req.prediction } } : {}),
    };
    const r = await this._withFallback('suffix', body, (b) => this._withFallback('prediction', b, (bb) => this._stream('/completions', bb, { ...req, ...(signal ? { signal } : {}) }, req.stopAt ? { cut: req.stopAt } : {})));
    if (this._completion === own) this._completion = undefined;
    return { ...r, healed: '' };
  }

  async plain(req: PlainRequest): Promise<Generated> {
    const model = await this._modelName(req.signal);
    const body: Record<string, unknown> = { ...this._common(req, model), prompt: req.prompt, ...this._prediction(req) };
    return this._withFallback('prediction', body, (b) => this._stream('/completions', b, req));
  }

  async chat(req: ChatRequest): Promise<Generated> {
    const model = await this._modelName(req.signal);
    const body: Record<string, unknown> = { ...this._common(req, model), messages: this._trimMessages(req.messages, req.maxPromptTokens), ...this._prediction(req) };
    return this._withFallback('prediction', body, (b) => this._stream('/chat/completions', b, req));
  }

  async rewrite(req: RewriteRequest): Promise<Generated> {
    const model = await this._modelName(req.signal);
    const { messages, fence } = rewriteMessages(req.input);
    const body: Record<string, unknown> = {
      ...this._common(req, model), messages: this._trimMessages(messages, req.maxPromptTokens), ...this._prediction(req),
    };
    // The local prompt opens the fence for the model; a chat API cannot, so the reply's own fence is taken off.
    return this._withFallback('prediction', body, (b) => this._stream('/chat/completions', b, req, { transform: (raw, final) => unfence(raw, fence, final) }));
  }

  private _prediction(req: GenerateBase): Record<string, unknown> {
    return req.prediction !== undefined && !this._noPrediction ? { prediction: { type: 'content', content: req.prediction } } : {};
  }

  /** Oldest non-system messages go first, the last one stays, when the text is over the budget's estimate. */
  private _trimMessages(messages: ChatRequest['messages'], maxPromptTokens: number): ChatRequest['messages'] {
    const cap = maxPromptTokens * CHARS_PER_TOKEN;
    const keep = [...messages];
    const size = (): number => keep.reduce((n, m) => n + m.content.length, 0);
    for (let i = 0; i < keep.length - 1 && size() > cap;) {
      if (keep[i]!.role !== 'system') keep.splice(i, 1);
      else i++;
    }
    return keep;
  }

  dispose(): void {
    this._completion?.abort();
  }
}

/**
 * The code inside a reply that may open with a fence line (```lang): that line is dropped, and the text ends at
 * the closing fence. While the first line is incomplete and could still be a fence, nothing is shown.
 */
export function unfence(raw: string, fence = '```', final = false): { shown: string; done: boolean } {
  let body = raw;
  const trimmed = raw.replace(/^\s+/, '');
  if (trimmed.startsWith(fence)) {
    const nl = trimmed.indexOf('\n');
    if (nl < 0) return { shown: '', done: final };
    body = trimmed.slice(nl + 1);
  } else if (!final && fence.startsWith(trimmed)) {
    return { shown: '', done: false };
  }
  const close = body.indexOf(`\n${fence}`);
  if (close >= 0) return { shown: body.slice(0, close), done: true };
  if (body.startsWith(fence)) return { shown: '', done: true };
  // A last line that may still become the closing fence is held back, so shown text is never taken back.
  const lastNl = body.lastIndexOf('\n');
  if (!final && lastNl >= 0 && fence.startsWith(body.slice(lastNl + 1))) return { shown: body.slice(0, lastNl), done: false };
  return { shown: body, done: false };
}
