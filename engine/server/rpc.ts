// Binds the Engine to JSON-RPC over a pair of streams (stdio in production) with vscode-jsonrpc.
// Malformed input gets an error reply (parse error / invalid request) and the connection keeps going.
import { Transform, type Readable, type TransformCallback, type Writable } from 'node:stream';
import {
  CancellationToken, createMessageConnection, ErrorCodes, NotificationType, ResponseError, StreamMessageReader, StreamMessageWriter,
  type ContentTypeDecoder, type Message, type MessageConnection,
} from 'vscode-jsonrpc/node';
import * as P from '../protocol';
import { Engine, EngineError, type EngineOptions } from './engine';
import { RemoteError } from './generator/openaiClient';

const MALFORMED = new NotificationType<{ code: number; message: string; id: string | number | null }>('$/presage/malformed');

/** Error code for "no model loaded" (outside the JSON-RPC reserved range). */
export const NO_MODEL_ERROR = -32010;
/** Error code for a remote back end's failure; `data` carries its kind (unauthorized, not-found, timeout, …). */
export const REMOTE_ERROR = -32011;

/** JSON decoding that turns bad input into an internal notification instead of a dropped message. */
const tolerantJson: ContentTypeDecoder = {
  name: 'application/json',
  async decode(buffer: Uint8Array, options: { charset: string }): Promise<Message> {
    const text = new TextDecoder(options.charset === 'ascii' ? 'ascii' : 'utf-8').decode(buffer);
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      return { jsonrpc: '2.0', method: MALFORMED.method, params: { code: ErrorCodes.ParseError, message: `Parse error: ${(err as Error).message}`, id: null } } as Message;
    }
    const v = value as Record<string, unknown> | null;
    const isObject = v !== null && typeof v === 'object' && !Array.isArray(v);
    const id = isObject && (typeof v.id === 'string' || typeof v.id === 'number') ? v.id : null;
    const valid = isObject && (typeof v.method === 'string' || (id !== null && ('result' in v || 'error' in v)));
    if (!valid) {
      return { jsonrpc: '2.0', method: MALFORMED.method, params: { code: ErrorCodes.InvalidRequest, message: 'Invalid Request: expected a JSON-RPC request, notification or response object', id } } as Message;
    }
    return v as unknown as Message;
  },
};

/** Largest frame body accepted: a 1 M-character document, JSON-escaped, fits with room to spare. */
export const MAX_FRAME_BYTES = 64 * 1024 * 1024;
const MAX_HEADER_BYTES = 8192;
const HEADER_END = Buffer.from('\r\n\r\n');

/**
 * Checks the framing before vscode-jsonrpc's reader sees it: a header without a valid Content-Length (abc, -5,
 * 1e3, over the cap) is reported through `onBadFrame` and skipped up to the next header, so the frame after it
 * is still answered, and a huge declared length is refused at once instead of buffered. Valid frames pass on.
 */
export class FrameGuard extends Transform {
  private _buf: Buffer = Buffer.alloc(0);
  /** Body bytes of the frame being read; -1 while reading a header. */
  private _need = -1;

  constructor(private readonly _onBadFrame: (message: string) => void, private readonly _maxFrameBytes = MAX_FRAME_BYTES) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this._buf = this._buf.length === 0 ? chunk : Buffer.concat([this._buf, chunk]);
    this._drain();
    done();
  }

  private _drain(): void {
    for (;;) {
      if (this._need >= 0) {
        if (this._buf.length < this._need) return;
        this.push(Buffer.concat([Buffer.from(`Content-Length: ${this._need}\r\n\r\n`, 'ascii'), this._buf.subarray(0, this._need)]));
        this._buf = this._buf.subarray(this._need);
        this._need = -1;
        continue;
      }
      const end = this._buf.indexOf(HEADER_END);
      if (end < 0) {
        if (this._buf.length > MAX_HEADER_BYTES) {
          this._onBadFrame(`header over ${MAX_HEADER_BYTES} bytes without an end`);
          this._resync(1);
          continue;
        }
        return;
      }
      const problem = this._parseHeader(this._buf.subarray(0, end).toString('ascii'));
      if (typeof problem === 'string') {
        this._onBadFrame(problem);
        this._resync(1);
        continue;
      }
      this._need = problem;
      this._buf = this._buf.subarray(end + HEADER_END.length);
    }
  }

  /** The body length, or why the header is unusable. */
  private _parseHeader(header: string): number | string {
    let length: string | undefined;
    for (const line of header.split('\r\n')) {
      const colon = line.indexOf(':');
      if (colon > 0 && line.slice(0, colon).trim().toLowerCase() === 'content-length') length = line.slice(colon + 1).trim();
    }
    if (length === undefined) return 'header without a Content-Length';
    if (!/^\d{1,16}$/.test(length)) return `Content-Length must be a non-negative integer, got ${JSON.stringify(length.slice(0, 40))}`;
    const n = Number(length);
    if (n > this._maxFrameBytes) return `frame of ${n} bytes is over the ${this._maxFrameBytes}-byte cap`;
    return n;
  }

  /** Drops bytes up to the next header (searched from `from`); keeps only a possible partial header when none. */
  private _resync(from: number): void {
    const text = this._buf.toString('latin1');
    const re = /content-(length|type)\s*:/gi;
    re.lastIndex = from;
    const m = re.exec(text);
    if (m) this._buf = this._buf.subarray(m.index);
    else this._buf = this._buf.subarray(Math.max(from, this._buf.length - 20));
  }
}

function toResponseError(err: unknown): ResponseError<void> {
  if (err instanceof ResponseError) return err;
  // The error's data (kind, status) rides along; the request types declare no error data, hence the cast.
  if (err instanceof RemoteError) return new ResponseError(REMOTE_ERROR, err.message, { kind: err.kind, ...(err.status !== undefined ? { status: err.status } : {}) }) as unknown as ResponseError<void>;
  if (err instanceof EngineError) {
    const code = err.code === 'no-model' ? NO_MODEL_ERROR : err.code === 'invalid-params' ? ErrorCodes.InvalidParams : ErrorCodes.InternalError;
    return new ResponseError(code, err.message);
  }
  return new ResponseError(ErrorCodes.InternalError, err instanceof Error ? err.message : String(err));
}

function signalOf(token: CancellationToken): AbortSignal {
  const controller = new AbortController();
  if (token.isCancellationRequested) controller.abort();
  else token.onCancellationRequested(() => controller.abort());
  return controller.signal;
}

export interface RpcServer {
  connection: MessageConnection;
  engine: Engine;
  /** Resolves when the client asked to shut down or the input closed. */
  closed: Promise<void>;
}

export function startRpcServer(input: Readable, output: Writable, options: EngineOptions = {}): RpcServer {
  const writer = new StreamMessageWriter(output);
  const guard = new FrameGuard((message) => {
    void writer.write({ jsonrpc: '2.0', id: null, error: { code: ErrorCodes.ParseError, message: `Parse error: ${message}` } } as Message).catch(() => undefined);
  });
  const reader = new StreamMessageReader(input.pipe(guard), { contentTypeDecoder: tolerantJson });
  const connection = createMessageConnection(reader, writer);
  const engine = new Engine(
    {
      status: (p) => void connection.sendNotification(P.Status, p).catch(() => undefined),
      log: (level, message) => void connection.sendNotification(P.Log, { level, message }).catch(() => undefined),
      loadProgress: (p) => void connection.sendNotification(P.LoadProgress, p).catch(() => undefined),
      partial: (requestId, delta) => void connection.sendNotification(P.PartialResult, { requestId, delta }).catch(() => undefined),
    },
    options,
  );
  const handle = <R>(fn: () => R | Promise<R>): Promise<R | ResponseError<void>> =>
    Promise.resolve()
      .then(fn)
      .catch((err: unknown) => toResponseError(err));

  connection.onNotification(MALFORMED, (p) => {
    void writer.write({ jsonrpc: '2.0', id: p.id, error: { code: p.code, message: p.message } } as Message).catch(() => undefined);
  });
  connection.onError(([err]) => {
    // Framing errors (no Content-Length, …): tell the client; the reader resynchronises on the next header.
    void writer.write({ jsonrpc: '2.0', id: null, error: { code: ErrorCodes.ParseError, message: `Parse error: ${err.message}` } } as Message).catch(() => undefined);
  });

  connection.onRequest(P.Initialize, (p) => handle(() => engine.initialize(p)));
  connection.onRequest(P.LoadModel, (p) => handle(() => engine.loadModel(p)));
  connection.onNotification(P.OpenDocument, (p) => engine.openDocument(p));
  connection.onNotification(P.ChangeDocument, (p) => engine.changeDocument(p));
  connection.onNotification(P.CloseDocument, (p) => engine.closeDocument(p));
  connection.onNotification(P.RemoveDocument, (p) => engine.removeDocument(p));
  connection.onRequest(P.Complete, (p, token) => handle(() => engine.complete(p, signalOf(token))));
  connection.onRequest(P.Rewrite, (p, token) => handle(() => engine.rewrite(p, signalOf(token))));
  connection.onRequest(P.Chat, (p, token) => handle(() => engine.chat(p, signalOf(token))));
  connection.onNotification(P.RecordAcceptance, (p) => engine.recordAcceptance(p));
  connection.onRequest(P.ClearHistory, () => handle(() => engine.clearHistory()));
  connection.onRequest(P.Stats, () => handle(() => engine.stats()));
  connection.onRequest(P.IndexedDocuments, () => handle(() => engine.indexedDocuments()));
  connection.onRequest(P.ConfigureBackend, (p) => handle(() => engine.configureBackend(p)));
  connection.onRequest(P.CheckBackend, () => handle(() => engine.checkBackend()));

  let resolveClosed!: () => void;
  const closed = new Promise<void>((r) => (resolveClosed = r));
  connection.onRequest(P.Shutdown, () =>
    handle(async () => {
      await engine.shutdown();
      setTimeout(resolveClosed, 20);
    }),
  );
  connection.onClose(() => {
    void engine.shutdown().finally(resolveClosed);
  });
  connection.listen();
  return { connection, engine, closed };
}
