// The one module that knows the remote server (as Tabby's agent keeps one API client): an OpenAI-compatible HTTP
// client with SSE streaming, AbortSignal cancellation that closes the connection, an idle timeout, and errors that
// say what went wrong (401, 404, timeout, refused connection, a stream cut short) in words a user can act on.
import http from 'node:http';
import https from 'node:https';

export type RemoteErrorKind = 'unauthorized' | 'not-found' | 'rejected' | 'server' | 'timeout' | 'refused' | 'network' | 'interrupted' | 'protocol';

export class RemoteError extends Error {
  constructor(message: string, readonly kind: RemoteErrorKind, readonly status?: number, readonly param?: string) {
    super(message);
  }

  /** The server cannot be used right now (as opposed to a request it refused): a reason to fall back. */
  get unavailable(): boolean {
    return this.kind === 'timeout' || this.kind === 'refused' || this.kind === 'network' || this.kind === 'server' || this.kind === 'interrupted';
  }
}

/** Thrown when the caller's signal aborted the request (the connection is closed). */
export class RemoteAborted extends Error {
  constructor() {
    super('the request was cancelled');
  }
}

/**
 * Destroys `req` and fails with RemoteAborted when `signal` aborts. Returns the function that stops listening, or
 * undefined when the signal had already aborted (the request is destroyed and `fail` called at once).
 */
function cancelOnAbort(req: http.ClientRequest, signal: AbortSignal | undefined, fail: (err: Error) => void): (() => void) | undefined {
  const onAbort = (): void => {
    req.destroy();
    fail(new RemoteAborted());
  };
  if (signal?.aborted) {
    onAbort();
    return undefined;
  }
  signal?.addEventListener('abort', onAbort, { once: true });
  return () => signal?.removeEventListener('abort', onAbort);
}

export interface OpenAiClientOptions {
  /** Base URL up to and including /v1, e.g. http://gpu-box:8080/v1. */
  url: string;
  token?: string;
  /** No byte from the server for this long fails the request as a timeout (default 30 000 ms). */
  timeoutMs?: number;
}

export interface StreamOutcome {
  text: string;
  /** The server's finish_reason ('stop', 'length', …), or undefined when the caller stopped reading. */
  finishReason: string | undefined;
  completionTokens?: number;
  promptTokens?: number;
  /** usage.completion_tokens_details of a server that honoured `prediction`. */
  prediction?: { accepted: number; rejected: number };
  firstByteMs: number;
}

export interface ModelList {
  ids: string[];
  /** vLLM (and `presage serve`) report the model's context as max_model_len. */
  maxModelLen?: number;
  latencyMs: number;
}

/** Checks and normalises a base URL: http(s), no credentials in it, no trailing slash. */
export function normaliseBaseUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url.trim());
  } catch {
    throw new RemoteError(`presage.remote.url: '${url}' is not a URL (expected e.g. http://gpu-box:8080/v1)`, 'protocol');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new RemoteError(`presage.remote.url: ${u.protocol} is not supported; use http or https`, 'protocol');
  if (u.username || u.password) throw new RemoteError('presage.remote.url must not carry credentials; set the token with "Presage: Set Remote API Token"', 'protocol');
  return u.toString().replace(/\/+$/, '');
}

function errorMessage(body: string): { message: string; param?: string } {
  try {
    const v = JSON.parse(body) as { error?: { message?: unknown; param?: unknown } | string; message?: unknown; detail?: unknown };
    const e = v.error;
    if (typeof e === 'string') return { message: e };
    const message = typeof e?.message === 'string' ? e.message : typeof v.message === 'string' ? v.message : typeof v.detail === 'string' ? v.detail : body.slice(0, 300);
    return { message, ...(typeof e?.param === 'string' ? { param: e.param } : {}) };
  } catch {
    return { message: body.slice(0, 300) || '(no body)' };
  }
}

export class OpenAiClient {
  readonly baseUrl: string;
  private readonly _token: string | undefined;
  private readonly _timeoutMs: number;

  constructor(options: OpenAiClientOptions) {
    this.baseUrl = normaliseBaseUrl(options.url);
    this._token = options.token || undefined;
    this._timeoutMs = options.timeoutMs ?? 30_000;
  }

  /** GET /models: the served model ids and the round trip. */
  async models(signal?: AbortSignal): Promise<ModelList> {
    const t0 = performance.now();
    const { status, body } = await this._request('GET', '/models', undefined, signal);
    const latencyMs = performance.now() - t0;
    if (status !== 200) throw this._httpError(status, body, '/models');
    let data: { data?: { id?: unknown; max_model_len?: unknown }[] };
    try {
      data = JSON.parse(body) as typeof data;
    } catch {
      throw new RemoteError(`${this.baseUrl}/models did not answer JSON; is presage.remote.url an OpenAI-compatible /v1 URL?`, 'protocol');
    }
    const list = Array.isArray(data.data) ? data.data : [];
    const ids = list.map((m) => m.id).filter((id): id is string => typeof id === 'string');
    const len = list.map((m) => m.max_model_len).find((n): n is number => typeof n === 'number' && n > 0);
    return { ids, latencyMs, ...(len !== undefined ? { maxModelLen: len } : {}) };
  }

  /**
   * POSTs a streaming request (`stream: true` is added) and feeds each text delta to `onText`. `onText` returning
   * false stops reading: the connection is closed, so the server stops generating.
   */
  async stream(route: '/completions' | '/chat/completions', body: Record<string, unknown>, onText: (delta: string) => boolean | void, signal?: AbortSignal): Promise<StreamOutcome> {
    const t0 = performance.now();
    const payload = JSON.stringify({ ...body, stream: true, stream_options: { include_usage: true } });
    return new Promise<StreamOutcome>((resolve, reject) => {
      let settled = false;
      let detach = (): void => {};
      const done = (err: Error | undefined, value?: StreamOutcome): void => {
        if (settled) return;
        settled = true;
        detach();
        if (err) reject(err);
        else resolve(value!);
      };
      const req = this._open('POST', route, payload, (err) => done(err));
      const listening = cancelOnAbort(req, signal, done);
      if (!listening) return;
      detach = listening;
      req.on('response', (res) => {
        const firstByteMs = performance.now() - t0;
        res.setEncoding('utf8');
        if (res.statusCode !== 200) {
          let text = '';
          res.on('data', (d: string) => {
            if (text.length < 65536) text += d;
          });
          res.on('end', () => done(this._httpError(res.statusCode ?? 0, text, route)));
          res.on('error', (e) => done(this._networkError(e, route)));
          return;
        }
        let buffer = '';
        let text = '';
        let finishReason: string | undefined;
        let completionTokens: number | undefined;
        let promptTokens: number | undefined;
        let prediction: { accepted: number; rejected: number } | undefined;
        let finished = false;
        const finish = (): void => {
          finished = true;
          done(undefined, { text, finishReason, firstByteMs, ...(completionTokens !== undefined ? { completionTokens } : {}), ...(promptTokens !== undefined ? { promptTokens } : {}), ...(prediction ? { prediction } : {}) });
        };
        const onEvent = (data: string): void => {
          if (data === '[DONE]') return finish();
          let event: { choices?: { text?: unknown; delta?: { content?: unknown }; finish_reason?: unknown }[]; usage?: { completion_tokens?: unknown; prompt_tokens?: unknown; completion_tokens_details?: { accepted_prediction_tokens?: unknown; rejected_prediction_tokens?: unknown } }; error?: { message?: unknown } };
          try {
            event = JSON.parse(data) as typeof event;
          } catch {
            req.destroy();
            return done(new RemoteError(`${this.baseUrl}${route} sent a stream event that is not JSON: ${data.slice(0, 120)}`, 'protocol'));
          }
          if (event.error) {
            req.destroy();
            return done(new RemoteError(`${this.baseUrl}${route} failed mid-stream: ${String(event.error.message ?? 'unknown error')}`, 'server'));
          }
          if (typeof event.usage?.completion_tokens === 'number') completionTokens = event.usage.completion_tokens;
          if (typeof event.usage?.prompt_tokens === 'number') promptTokens = event.usage.prompt_tokens;
          const details = event.usage?.completion_tokens_details;
          if (typeof details?.accepted_prediction_tokens === 'number' && typeof details.rejected_prediction_tokens === 'number') {
            prediction = { accepted: details.accepted_prediction_tokens, rejected: details.rejected_prediction_tokens };
          }
          const choice = event.choices?.[0];
          if (!choice) return;
          const delta = typeof choice.text === 'string' ? choice.text : typeof choice.delta?.content === 'string' ? choice.delta.content : '';
          if (typeof choice.finish_reason === 'string') finishReason = choice.finish_reason;
          if (delta) {
            text += delta;
            if (onText(delta) === false) {
              // The caller has what it wants: closing the connection tells the server to stop.
              req.destroy();
              finish();
            }
          }
        };
        res.on('data', (chunk: string) => {
          if (finished) return;
          buffer += chunk;
          for (let end = buffer.search(/\r?\n\r?\n/); end >= 0 && !finished; end = buffer.search(/\r?\n\r?\n/)) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end).replace(/^\r?\n\r?\n/, '');
            const data = block.split(/\r?\n/).filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trimStart()).join('\n');
            if (data) onEvent(data);
          }
        });
        res.on('end', () => {
          if (!finished) done(new RemoteError(`${this.baseUrl}${route}: the server closed the stream before it finished (after ${text.length} characters)`, 'interrupted'));
        });
        const lost = (): void => done(new RemoteError(`${this.baseUrl}${route}: the connection was lost mid-stream (after ${text.length} characters)`, 'interrupted'));
        res.on('error', lost);
        res.on('close', () => {
          if (!finished) lost();
        });
      });
      req.end(payload);
    });
  }

  private _request(method: string, route: string, payload: string | undefined, signal?: AbortSignal): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const req = this._open(method, route, payload, reject);
      const detach = cancelOnAbort(req, signal, reject);
      if (!detach) return;
      req.on('response', (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => {
          detach();
          resolve({ status: res.statusCode ?? 0, body });
        });
        res.on('error', (e) => reject(this._networkError(e, route)));
      });
      req.end(payload);
    });
  }

  /** One HTTP request with the token, the idle timeout and network errors mapped to RemoteError. */
  private _open(method: string, route: string, payload: string | undefined, onError: (err: RemoteError) => void): http.ClientRequest {
    const url = new URL(this.baseUrl + route);
    const lib = url.protocol === 'https:' ? https : http;
    const req = lib.request(url, {
      method,
      // A fresh connection per request: closing it is how a cancelled stream tells the server to stop.
      agent: false,
      headers: {
        accept: method === 'POST' ? 'text/event-stream, application/json' : 'application/json',
        ...(payload !== undefined ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}),
        ...(this._token ? { authorization: `Bearer ${this._token}` } : {}),
      },
    });
    req.setTimeout(this._timeoutMs, () => {
      req.destroy();
      onError(new RemoteError(`${this.baseUrl}${route}: no answer within ${this._timeoutMs} ms (timeout); the server may be overloaded or unreachable`, 'timeout'));
    });
    req.on('error', (e) => onError(this._networkError(e, route)));
    return req;
  }

  private _networkError(e: Error & { code?: string }, route: string): RemoteError {
    const where = `${this.baseUrl}${route}`;
    if (e.code === 'ECONNREFUSED') return new RemoteError(`cannot connect to ${this.baseUrl}: connection refused (is the server running, and is presage.remote.url right?)`, 'refused');
    if (e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN') return new RemoteError(`cannot resolve the host of ${this.baseUrl} (${e.code})`, 'network');
    if (e.code === 'ECONNRESET' || e.code === 'EPIPE') return new RemoteError(`${where}: the server closed the connection (${e.code})`, 'interrupted');
    return new RemoteError(`${where}: ${e.message}`, 'network');
  }

  private _httpError(status: number, body: string, route: string): RemoteError {
    const { message, param } = errorMessage(body);
    if (status === 401 || status === 403) {
      return new RemoteError(`${this.baseUrl} refused the API token (${status}): ${message}. Set the token with "Presage: Set Remote API Token".`, 'unauthorized', status);
    }
    if (status === 404) return new RemoteError(`${this.baseUrl}${route} was not found (404): ${message}. Check presage.remote.url (it ends in /v1) and presage.remote.model.`, 'not-found', status, param);
    if (status >= 500) return new RemoteError(`${this.baseUrl}${route} failed (${status}): ${message}`, 'server', status);
    return new RemoteError(`${this.baseUrl}${route} refused the request (${status}): ${message}`, 'rejected', status, param);
  }
}
