// Contracts between the extension's modules: the context that owns every disposable, and the engine client.
import type * as vscode from 'vscode';
import type { NotificationType, RequestType, RequestType0 } from 'vscode-jsonrpc';
import type { EngineState } from '../engine/protocol';

export interface EngineClientApi {
  readonly state: EngineState;
  readonly onDidChangeState: vscode.Event<EngineState>;
  /** Sends a request; the cancellation token is wired to `$/cancelRequest`. */
  request<P, R>(type: RequestType<P, R, void>, params: P, token?: vscode.CancellationToken): Promise<R>;
  request0<R>(type: RequestType0<R, void>, token?: vscode.CancellationToken): Promise<R>;
  notify<P>(type: NotificationType<P>, params: P): void;
  /** Streams `presage/partial` deltas of one request. */
  onPartial(requestId: string, listener: (delta: string) => void): vscode.Disposable;
  /** PID of the running engine process, if any. */
  readonly pid: number | undefined;
}

export interface Ctx {
  readonly extensionContext: vscode.ExtensionContext;
  readonly client: EngineClientApi;
  readonly log: vscode.LogOutputChannel;
  /** Registers a disposable that lives as long as the extension. */
  pushCleanup(disposable: vscode.Disposable): void;
  /** A fresh id for `requestId` fields. */
  nextRequestId(prefix: string): string;
}
