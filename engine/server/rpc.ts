// Binds the Engine to JSON-RPC over a pair of streams (stdio in production) with vscode-jsonrpc.
// Malformed input gets an error reply (parse error / invalid request) and the connection keeps going.
import type { Readable, Writable } from 'node:stream';
import {
  CancellationToken, createMessageConnection, ErrorCodes, NotificationType, ResponseError, StreamMessageReader, StreamMessageWriter,
  type ContentTypeDecoder, type Message, type MessageConnection,
} from 'vscode-jsonrpc/node';
import * as P from '../protocol';
import { Engine, EngineError, type EngineOptions } from './engine';

const MALFORMED = new NotificationType<{ code: number; message: string; id: string | number | null }>('$/presage/malformed');

/** Error code for "no model loaded" (outside the JSON-RPC reserved range). */
export const NO_MODEL_ERROR = -32010;

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

function toResponseError(err: unknown): ResponseError<void> {
  if (err instanceof ResponseError) return err;
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
  const reader = new StreamMessageReader(input, { contentTypeDecoder: tolerantJson });
  const writer = new StreamMessageWriter(output);
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
