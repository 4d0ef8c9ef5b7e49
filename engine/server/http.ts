// OpenAI-compatible HTTP API over the engine's surfaces (the same ones JSON-RPC uses): /v1/models, /v1/completions, /v1/chat/completions (SSE with
// stream: true), bearer-token auth, and Predicted Outputs (`prediction`) as an extra draft source.
import crypto from 'node:crypto';
import http from 'node:http';
import type { PromptMessage } from '../prompt/chat';
import { EngineError, type Engine } from './engine';
import type { Generated } from './generator/types';

export interface HttpServerOptions {
  engine: Engine;
  token: string;
  /** Name reported by /v1/models and in responses. */
  modelName: string;
  maxBodyBytes?: number;
  /** A request body must arrive within this many ms (default 30 s); slower ones get 408 and are cut. */
  bodyTimeoutMs?: number;
  log?: (message: string) => void;
}

/**
 * Text beyond maxContext times this many characters cannot fit the context (a token spans fewer characters on
 * average, even for whitespace runs), so it is refused or trimmed before the tokenizer runs on the event loop.
 */
const MAX_CHARS_PER_TOKEN = 16;

class HttpError extends Error {
  constructor(readonly status: number, message: string, readonly type = 'invalid_request_error', readonly param?: string) {
    super(message);
  }
  /** The body was not read to its end: the connection cannot be reused and is closed after the reply. */
  unreadBody = false;
}

function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const data = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data), ...headers });
  res.end(data);
}

function sendError(res: http.ServerResponse, err: HttpError): void {
  const headers: Record<string, string> = err.status === 401 ? { 'www-authenticate': 'Bearer' } : {};
  sendJson(res, err.status, { error: { message: err.message, type: err.type, param: err.param ?? null, code: null } }, headers);
}

function unread(err: HttpError): HttpError {
  err.unreadBody = true;
  return err;
}

/** Reads the JSON body within `limit` bytes and `timeoutMs`. */
async function readBody(req: http.IncomingMessage, limit: number, timeoutMs: number): Promise<Record<string, unknown>> {
  const declared = Number(req.headers['content-length']);
  if (declared > limit) throw unread(new HttpError(413, `request body over ${limit} bytes`));
  const chunks = await new Promise<Buffer[]>((resolve, reject) => {
    const got: Buffer[] = [];
    let size = 0;
    const finish = (err?: HttpError): void => {
      clearTimeout(timer);
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      if (err) reject(unread(err));
      else resolve(got);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) finish(new HttpError(413, `request body over ${limit} bytes`));
      else got.push(chunk);
    };
    const onEnd = (): void => finish();
    const onError = (e: Error): void => finish(new HttpError(400, `request body: ${e.message}`));
    const timer = setTimeout(() => finish(new HttpError(408, `request body not received within ${timeoutMs} ms`)), timeoutMs);
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', onError);
  });
  let value: unknown;
  try {
    value = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (err) {
    throw new HttpError(400, `request body is not valid JSON: ${(err as Error).message}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new HttpError(400, 'request body must be a JSON object');
  return value as Record<string, unknown>;
}

function tokenMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer\s+(.+)$/i.exec(header ?? '');
  if (!m) return false;
  const given = Buffer.from(m[1]!.trim());
  const want = Buffer.from(token);
  return given.length === want.length && crypto.timingSafeEqual(given, want);
}

/** Text of an OpenAI content field: a string or an array of {type: 'text', text} parts. */
function contentText(v: unknown, param: string): string {
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) {
    return v.map((part) => {
      if (part && typeof part === 'object' && (part as { type?: unknown }).type === 'text' && typeof (part as { text?: unknown }).text === 'string') return (part as { text: string }).text;
      throw new HttpError(400, `${param}: only text content parts are supported`, 'invalid_request_error', param);
    }).join('');
  }
  throw new HttpError(400, `${param} must be a string or an array of text parts`, 'invalid_request_error', param);
}

function optNumber(body: Record<string, unknown>, name: string, min: number, max: number): number | undefined {
  const v = body[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) throw new HttpError(400, `${name} must be a number in [${min}, ${max}]`, 'invalid_request_error', name);
  return v;
}

function optInteger(body: Record<string, unknown>, name: string, min: number, max: number): number | undefined {
  const v = optNumber(body, name, min, max);
  if (v !== undefined && !Number.isInteger(v)) throw new HttpError(400, `${name} must be an integer, got ${v}`, 'invalid_request_error', name);
  return v;
}

/** Refuses text that cannot fit the context before it is tokenized (tokenizing megabytes blocks every request). */
function checkTextFits(text: string, maxContext: number, param: string): void {
  const cap = maxContext * MAX_CHARS_PER_TOKEN;
  if (text.length > cap) throw new HttpError(413, `${param} is ${text.length} characters, too long for the model's context of ${maxContext} tokens (at most ${cap} characters are accepted)`, 'invalid_request_error', param);
}

function stopList(v: unknown): string[] {
  if (v === undefined || v === null) return [];
  if (typeof v === 'string') return [v];
  if (Array.isArray(v) && v.every((s) => typeof s === 'string') && v.length <= 16) return v as string[];
  throw new HttpError(400, 'stop must be a string or an array of at most 16 strings', 'invalid_request_error', 'stop');
}

function finishReason(r: Generated): string {
  return r.finishReason === 'length' || r.finishReason === 'time_budget' ? 'length' : 'stop';
}

export function createHttpServer(options: HttpServerOptions): http.Server {
  const { engine, token, modelName } = options;
  const maxBody = options.maxBodyBytes ?? 8 * 1024 * 1024;
  const bodyTimeoutMs = options.bodyTimeoutMs ?? 30_000;
  let counter = 0;

  const generate = async (
    res: http.ServerResponse,
    body: Record<string, unknown>,
    kind: 'completion' | 'chat',
  ): Promise<void> => {
    // The model's context (a no-model error, 503, when nothing can serve).
    const maxContext = engine.contextTokens();
    if (optInteger(body, 'n', 1, 1 << 20) !== undefined && body.n !== 1) throw new HttpError(400, 'only n = 1 is supported', 'invalid_request_error', 'n');
    const stream = body.stream === true;
    const includeUsage = stream && (body.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true;
    const maxTokens = optInteger(body, kind === 'chat' && body.max_completion_tokens !== undefined ? 'max_completion_tokens' : 'max_tokens', 1, 1 << 20) ?? (kind === 'chat' ? 1024 : 256);
    const temperature = optNumber(body, 'temperature', 0, 2) ?? 1;
    const topP = optNumber(body, 'top_p', 0, 1);
    const seed = optInteger(body, 'seed', -(2 ** 53), 2 ** 53);
    const textCap = maxContext * MAX_CHARS_PER_TOKEN;
    const stop = stopList(body.stop);
    let prediction: string | undefined;
    if (body.prediction !== undefined && body.prediction !== null) {
      const pr = body.prediction as { type?: unknown; content?: unknown };
      if (pr.type !== 'content') throw new HttpError(400, "prediction.type must be 'content'", 'invalid_request_error', 'prediction');
      prediction = contentText(pr.content, 'prediction.content');
      checkTextFits(prediction, maxContext, 'prediction.content');
    }
    const requestId = `http-${++counter}`;
    const sampling = { temperature, ...(topP !== undefined ? { topP } : {}), ...(seed !== undefined ? { seed } : {}), stop, maxTokens, ...(prediction !== undefined ? { prediction } : {}) };
    // Everything is checked before the first byte of a stream goes out; the surfaces then run the request.
    let run: (signal: AbortSignal, onDelta: ((d: string) => void) | undefined) => Promise<Generated>;
    if (kind === 'completion') {
      const p = Array.isArray(body.prompt) && body.prompt.length === 1 ? body.prompt[0] : body.prompt;
      if (typeof p !== 'string') throw new HttpError(400, 'prompt must be a string', 'invalid_request_error', 'prompt');
      if (typeof body.suffix === 'string') {
        // Fill-in-the-middle (a suffix, even an empty one): the completion surface, as for the editor over stdio.
        // It keeps the text nearest the cursor: the far ends are cut before tokenizing.
        const prefix = p.slice(-textCap);
        const suffix = body.suffix.slice(0, textCap);
        run = async (signal, onDelta) => (await engine.completion.complete({ requestId, language: '', prefix, suffix, ...sampling }, signal, { cancelStale: false, ...(prediction !== undefined ? { prediction } : {}) }, onDelta)).generated;
      } else {
        checkTextFits(p, maxContext, 'prompt');
        if (p.length === 0) throw new HttpError(400, 'prompt is empty', 'invalid_request_error', 'prompt');
        run = (signal, onDelta) => engine.completion.plain({ requestId, prompt: p, ...sampling }, signal, onDelta);
      }
    } else {
      if (!Array.isArray(body.messages) || body.messages.length === 0) throw new HttpError(400, 'messages must be a non-empty array', 'invalid_request_error', 'messages');
      const messages: PromptMessage[] = body.messages.map((m: unknown, i: number) => {
        const role = (m as { role?: unknown })?.role;
        const r = role === 'developer' ? 'system' : role;
        if (r !== 'system' && r !== 'user' && r !== 'assistant') throw new HttpError(400, `messages[${i}].role must be system, developer, user or assistant`, 'invalid_request_error', 'messages');
        return { role: r, content: contentText((m as { content?: unknown }).content ?? '', `messages[${i}].content`) };
      });
      checkTextFits(messages.map((m) => m.content).join(''), maxContext, 'messages');
      run = (signal, onDelta) => engine.chatting.generate({ requestId, messages, ...sampling }, signal, onDelta);
    }

    const id = `${kind === 'chat' ? 'chatcmpl' : 'cmpl'}-${crypto.randomBytes(12).toString('hex')}`;
    const created = Math.floor(Date.now() / 1000);
    const object = kind === 'chat' ? 'chat.completion' : 'text_completion';
    const chunkObject = kind === 'chat' ? 'chat.completion.chunk' : 'text_completion';
    const controller = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) controller.abort();
    });
    const writeEvent = (data: unknown): void => {
      if (!res.writableEnded) res.write(`data: ${JSON.stringify(data)}\n\n`);
    };
    const chunk = (delta: string | undefined, finish: string | null, first = false): Record<string, unknown> => ({
      id, object: chunkObject, created, model: modelName,
      choices: [kind === 'chat'
        ? { index: 0, delta: finish !== null ? {} : first ? { role: 'assistant', content: delta ?? '' } : { content: delta ?? '' }, finish_reason: finish, logprobs: null }
        : { index: 0, text: delta ?? '', finish_reason: finish, logprobs: null }],
    });
    // A stream starts once the request proved valid: the first delta (or the end) opens it.
    let opened = false;
    const open = (): void => {
      if (opened || !stream) return;
      opened = true;
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
      if (kind === 'chat') writeEvent(chunk('', null, true));
    };
    const result = await run(controller.signal, stream ? (d: string) => {
      open();
      writeEvent(chunk(d, null));
    } : undefined);
    open();
    const promptTokens = result.promptIds?.length ?? 0;
    const completionTokens = result.tokens?.length ?? result.metrics.tokens;
    const usage: Record<string, unknown> = {
      prompt_tokens: promptTokens,
      completion_tokens: completionTokens,
      total_tokens: promptTokens + completionTokens,
    };
    if (result.predictionUsage) {
      const u = result.predictionUsage;
      usage.completion_tokens_details = { accepted_prediction_tokens: u.accepted, rejected_prediction_tokens: u.rejected };
    }
    const presage = { steps: result.metrics.steps, mat: result.metrics.mat, tokens_per_s: result.metrics.tokensPerS, finish_reason: result.finishReason };
    if (stream) {
      writeEvent(chunk(undefined, finishReason(result)));
      if (includeUsage) writeEvent({ id, object: chunkObject, created, model: modelName, choices: [], usage });
      if (!res.writableEnded) res.end('data: [DONE]\n\n');
      return;
    }
    const choice = kind === 'chat'
      ? { index: 0, message: { role: 'assistant', content: result.text }, finish_reason: finishReason(result), logprobs: null }
      : { index: 0, text: result.text, finish_reason: finishReason(result), logprobs: null };
    sendJson(res, 200, { id, object, created, model: modelName, choices: [choice], usage, presage });
  };

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const route = `${req.method} ${url.pathname.replace(/\/+$/, '')}`;
    const handle = async (): Promise<void> => {
      // Checked on the headers alone: an unauthenticated body is never read.
      if (!tokenMatches(req.headers.authorization, token)) throw unread(new HttpError(401, 'missing or invalid bearer token (Authorization: Bearer <token>)', 'authentication_error'));
      switch (route) {
        case 'GET /v1/models':
          // max_model_len as vLLM reports it: clients size their prompts by it.
          sendJson(res, 200, { object: 'list', data: [{ id: modelName, object: 'model', created: 0, owned_by: 'presage', ...(engine.host ? { max_model_len: engine.contextTokens() } : {}) }] });
          return;
        case 'POST /v1/completions':
          return generate(res, await readBody(req, maxBody, bodyTimeoutMs), 'completion');
        case 'POST /v1/chat/completions':
          return generate(res, await readBody(req, maxBody, bodyTimeoutMs), 'chat');
        default:
          if (['/v1/models', '/v1/completions', '/v1/chat/completions'].includes(url.pathname)) throw new HttpError(405, `${req.method} is not allowed on ${url.pathname}`);
          throw new HttpError(404, `no route ${req.method} ${url.pathname}`);
      }
    };
    handle().catch((err: unknown) => {
      const e = err instanceof HttpError ? err
        : err instanceof EngineError && err.code === 'invalid-params' ? new HttpError(400, err.message)
        : err instanceof EngineError && err.code === 'no-model' ? new HttpError(503, err.message, 'server_error')
        : new HttpError(500, err instanceof Error ? err.message : String(err), 'server_error');
      if (e.status >= 500) options.log?.(`${route}: ${e.message}`);
      if (res.headersSent) {
        if (!res.writableEnded) res.end(`data: ${JSON.stringify({ error: { message: e.message, type: e.type } })}\n\n`);
        return;
      }
      const bodyPending = e.unreadBody || !req.complete;
      if (bodyPending) {
        // Whatever the client still sends is not wanted: reply, then close the socket instead of draining it.
        res.setHeader('connection', 'close');
        res.once('finish', () => req.socket.destroy());
      }
      sendError(res, e);
    });
  });
  // Bounds on what an idle or slow client can hold, on top of the per-body timeout.
  server.headersTimeout = Math.min(server.headersTimeout, 20_000);
  server.requestTimeout = bodyTimeoutMs + 5_000;
  return server;
}
