// Contracts between the extension's modules: the engine client, and the narrow context each feature receives
// (only what it uses, so a feature's test builds just that, with the one fake client of extension/testing).
import type * as vscode from 'vscode';
import type { NotificationType, RequestType, RequestType0 } from 'vscode-jsonrpc';
import type { EngineState, InitializeResult } from '../engine/protocol';
import type { StatusEvent } from './common/statusState';
import type { ConfigTrigger } from './config';

export interface EngineClientApi {
  readonly state: EngineState;
  readonly onDidChangeState: vscode.Event<EngineState>;
  /** True while an engine process runs (notifications are dropped otherwise). */
  readonly isRunning: boolean;
  /** Fires after each (re)start once the engine answered initialize: load the model and resend documents. */
  readonly onDidStart: vscode.Event<InitializeResult>;
  /** Everything the status bar needs: engine status, process phases, PID, load progress. */
  readonly onStatus: vscode.Event<StatusEvent>;
  /** Sends a request; the cancellation token is wired to `$/cancelRequest`. */
  request<P, R>(type: RequestType<P, R, void>, params: P, token?: vscode.CancellationToken): Promise<R>;
  request0<R>(type: RequestType0<R, void>, token?: vscode.CancellationToken): Promise<R>;
  notify<P>(type: NotificationType<P>, params: P): void;
  /** Streams `presage/partial` deltas of one request. */
  onPartial(requestId: string, listener: (delta: string) => void): vscode.Disposable;
  /** PID of the running engine process, if any. */
  readonly pid: number | undefined;
}

/** The whole context (ctx.ts implements it); features take the slices below. */
export interface Ctx {
  readonly extensionContext: vscode.ExtensionContext;
  readonly client: EngineClientApi;
  readonly log: vscode.LogOutputChannel;
  /** Fires once per settings change with what it triggers (config.ts declares it per setting). */
  readonly onDidChangeConfig: vscode.Event<ReadonlySet<ConfigTrigger>>;
  /** Registers a disposable that lives as long as the extension. */
  pushCleanup(disposable: vscode.Disposable): void;
  /** A fresh id for `requestId` fields. */
  nextRequestId(prefix: string): string;
}

type Log = Pick<vscode.LogOutputChannel, 'info' | 'warn' | 'error' | 'show'>;

/** The indexer: sends documents, lists what the engine holds. */
export interface IndexerCtx {
  readonly client: Pick<EngineClientApi, 'isRunning' | 'onDidStart' | 'notify' | 'request0'>;
  readonly log: Log;
  readonly onDidChangeConfig: vscode.Event<ReadonlySet<ConfigTrigger>>;
}

/** Inline completions: one request per suggestion, streamed. */
export interface InlineCtx {
  readonly client: Pick<EngineClientApi, 'state' | 'onDidStart' | 'request' | 'notify' | 'onPartial'>;
  readonly log: Log;
  nextRequestId(prefix: string): string;
}

/** Model setup: resolves presage.model, downloads, loads. */
export interface ModelCtx {
  readonly client: Pick<EngineClientApi, 'isRunning' | 'onDidStart' | 'onStatus' | 'request'>;
  readonly log: Log;
  /** globalState: whether a model was ever chosen (first-run picker) and the device the last model ran on. */
  readonly extensionContext: Pick<vscode.ExtensionContext, 'extensionPath' | 'globalStorageUri'> & Partial<Pick<vscode.ExtensionContext, 'globalState'>>;
  readonly onDidChangeConfig: vscode.Event<ReadonlySet<ConfigTrigger>>;
}

/** The status bar: renders engine events and the inline on/off setting. */
export interface StatusCtx {
  readonly client: Pick<EngineClientApi, 'onStatus'>;
  readonly onDidChangeConfig: vscode.Event<ReadonlySet<ConfigTrigger>>;
}

/** Rewrite Selection and the chat panel: requests with streamed answers, their own commands and views. */
export interface SurfaceCtx {
  readonly client: Pick<EngineClientApi, 'state' | 'request' | 'notify' | 'onPartial'>;
  readonly log: Log;
  readonly extensionContext: Pick<vscode.ExtensionContext, 'extensionUri'>;
  pushCleanup(disposable: vscode.Disposable): void;
  nextRequestId(prefix: string): string;
}
