// The one scripted engine client for tests (implements EngineClientApi), and a context around it: requests wait
// until the test answers them (or a handler does), notifications are recorded, partial results are pushed by hand.
/* eslint-disable @typescript-eslint/no-explicit-any -- a scripted stand-in: params and results are whatever each test sends and asserts on */
import type { EngineState, InitializeResult } from '../../engine/protocol';
import type { ConfigTrigger } from '../config';
import type { StatusEvent } from '../common/statusState';
import { EventEmitter, memoryLog } from './fakeVscode';

interface CancelToken {
  readonly isCancellationRequested: boolean;
  onCancellationRequested(listener: () => void): unknown;
}

export interface FakeRequest {
  method: string;
  params: any;
  token: CancelToken | undefined;
  /** Set when the request's token was cancelled. */
  cancelled: boolean;
  resolve(result: unknown): void;
  reject(error: unknown): void;
}

export class FakeEngineClient {
  state: EngineState = 'ready';
  isRunning = true;
  pid: number | undefined = 4242;
  readonly requests: FakeRequest[] = [];
  readonly notifications: Array<{ method: string; params: any }> = [];
  /** Answers for methods, given at once (a throw rejects). Methods without one wait for the test. */
  readonly handlers = new Map<string, (params: any) => unknown>();
  /** Called when a request's token is cancelled (e.g. to resolve it as the engine would); default: nothing. */
  onCancel: ((request: FakeRequest) => void) | undefined;
  private readonly _partials = new Map<string, Set<(delta: string) => void>>();
  private readonly _start = new EventEmitter<InitializeResult>();
  private readonly _status = new EventEmitter<StatusEvent>();
  private readonly _stateChanged = new EventEmitter<EngineState>();
  readonly onDidStart = this._start.event;
  readonly onStatus = this._status.event;
  readonly onDidChangeState = this._stateChanged.event;

  request(type: { method: string }, params: unknown, token?: CancelToken): Promise<any> {
    return new Promise((resolve, reject) => {
      const request: FakeRequest = { method: type.method, params, token, cancelled: false, resolve, reject };
      this.requests.push(request);
      token?.onCancellationRequested(() => {
        request.cancelled = true;
        this.onCancel?.(request);
      });
      const handler = this.handlers.get(type.method);
      if (handler) {
        try {
          resolve(handler(params));
        } catch (err) {
          reject(err);
        }
      }
    });
  }

  request0(type: { method: string }, token?: CancelToken): Promise<any> {
    return this.request(type, undefined, token);
  }

  notify(type: { method: string }, params: unknown): void {
    this.notifications.push({ method: type.method, params });
  }

  onPartial(requestId: string, listener: (delta: string) => void): { dispose(): void } {
    let set = this._partials.get(requestId);
    if (!set) this._partials.set(requestId, (set = new Set()));
    set.add(listener);
    return {
      dispose: () => {
        set!.delete(listener);
        if (set!.size === 0) this._partials.delete(requestId);
      },
    };
  }

  /** Streams a delta to the listeners of a request. */
  partial(requestId: string, delta: string): void {
    for (const l of this._partials.get(requestId) ?? []) l(delta);
  }

  /** How many requests have partial-result listeners. */
  partialListeners(): number {
    return this._partials.size;
  }

  /** The params of every notification of one method. */
  sent(method: string): any[] {
    return this.notifications.filter((n) => n.method === method).map((n) => n.params);
  }

  /** The engine (re)started. */
  start(init: Partial<InitializeResult> = {}): void {
    this._start.fire({ version: '0', protocolVersion: 1, pid: this.pid ?? 0, capabilities: { methods: [], devices: [], drafters: [] }, ...init });
  }

  status(event: StatusEvent): void {
    this._status.fire(event);
  }

  setState(state: EngineState): void {
    this.state = state;
    this._stateChanged.fire(state);
  }
}

/** A context with the fake client: every narrow Ctx of extension/api.ts is a slice of it. */
export function fakeCtx(client = new FakeEngineClient(), extensionContext: Record<string, unknown> = {}) {
  const configChanged = new EventEmitter<ReadonlySet<ConfigTrigger>>();
  let counter = 0;
  const cleanups: Array<{ dispose(): void }> = [];
  return {
    client,
    log: memoryLog(),
    extensionContext: extensionContext as any,
    onDidChangeConfig: configChanged.event,
    /** Fires a settings change with these triggers. */
    changeConfig: (...triggers: ConfigTrigger[]) => configChanged.fire(new Set(triggers)),
    cleanups,
    pushCleanup: (d: { dispose(): void }) => void cleanups.push(d),
    nextRequestId: (prefix: string) => `${prefix}-${++counter}`,
  };
}
