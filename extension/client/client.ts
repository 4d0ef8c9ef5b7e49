// The engine client: spawns the engine with VS Code's own Node (ELECTRON_RUN_AS_NODE) and talks JSON-RPC over
// stdio; restarts it on a crash with backoff and gives up after too many crashes.
import { spawn, type ChildProcess } from 'node:child_process';
import * as vscode from 'vscode';
import {
  createMessageConnection, StreamMessageReader, StreamMessageWriter, Trace,
  type CancellationToken as RpcToken, type MessageConnection, type NotificationType, type RequestType, type RequestType0,
} from 'vscode-jsonrpc/node';
import * as P from '../../engine/protocol';
import type { EngineClientApi } from '../api';
import { RestartPolicy, type RestartPolicyOptions } from '../common/restartPolicy';
import type { StatusEvent } from '../common/statusState';

export interface EngineClientOptions {
  /** The engine bundle to run (dist/engine.js or presage.enginePath). */
  enginePath: () => string;
  storageDir: string;
  clientVersion: string;
  trace: () => 'off' | 'messages' | 'verbose';
  /** presage.index.secretPatterns, passed at initialize so the engine refuses those files too. */
  secretPatterns?: () => string[];
  /** Crash handling (tests shorten the backoff). */
  restart?: RestartPolicyOptions;
}

export class EngineNotRunningError extends Error {
  constructor(reason: string) {
    super(`the Presage engine is not running (${reason})`);
  }
}

interface Running {
  child: ChildProcess;
  connection: MessageConnection;
  /** Rejects when this process exits. */
  died: Promise<never>;
  generation: number;
}

export class EngineClient implements EngineClientApi, vscode.Disposable {
  private readonly _stateEmitter = new vscode.EventEmitter<P.EngineState>();
  private readonly _statusEmitter = new vscode.EventEmitter<StatusEvent>();
  private readonly _startEmitter = new vscode.EventEmitter<P.InitializeResult>();
  private readonly _partials = new Map<string, Set<(delta: string) => void>>();
  private readonly _policy: RestartPolicy;
  private _running: Running | undefined;
  private _state: P.EngineState = 'starting';
  private _generation = 0;
  private _stopping = false;
  private _disposed = false;
  private _restartTimer: NodeJS.Timeout | undefined;
  private _starting: Promise<void> | undefined;

  readonly onDidChangeState = this._stateEmitter.event;
  /** Everything the status bar needs: engine status, process phases, PID, load progress. */
  readonly onStatus = this._statusEmitter.event;
  /** Fires after each (re)start once the engine answered initialize: load the model and resend documents. */
  readonly onDidStart = this._startEmitter.event;

  constructor(private readonly _log: vscode.LogOutputChannel, private readonly _options: EngineClientOptions) {
    this._policy = new RestartPolicy(_options.restart);
  }

  get state(): P.EngineState {
    return this._state;
  }

  get pid(): number | undefined {
    return this._running?.child.pid;
  }

  get isRunning(): boolean {
    return this._running !== undefined;
  }

  private _setState(state: P.EngineState): void {
    if (state === this._state) return;
    this._state = state;
    this._stateEmitter.fire(state);
  }

  /** Starts the engine (no-op while one runs or is starting). */
  start(): Promise<void> {
    if (this._running) return Promise.resolve();
    this._starting ??= this._spawn().finally(() => (this._starting = undefined));
    return this._starting;
  }

  private async _spawn(): Promise<void> {
    this._stopping = false;
    const enginePath = this._options.enginePath();
    const generation = ++this._generation;
    this._statusEmitter.fire({ type: 'phase', phase: generation === 1 ? 'starting' : 'restarting' });
    this._setState('starting');
    this._log.info(`starting the engine: ${process.execPath} ${enginePath} stdio`);
    const child = spawn(process.execPath, [enginePath, 'stdio'], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, ELECTRON_RUN_AS_NODE: '1', ORT_DISABLE_TELEMETRY: '1' },
      windowsHide: true,
    });
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => {
      for (const line of chunk.split('\n')) if (line.trim()) this._log.info(`[engine] ${line}`);
    });
    const connection = createMessageConnection(new StreamMessageReader(child.stdout!), new StreamMessageWriter(child.stdin!));
    let onDeath!: (err: Error) => void;
    const died = new Promise<never>((_, reject) => (onDeath = reject));
    died.catch(() => undefined);
    const running: Running = { child, connection, died, generation };
    this._running = running;
    child.once('error', (err) => this._log.error(`engine process error: ${err.message}`));
    child.once('exit', (code, signal) => {
      onDeath(new EngineNotRunningError(signal ? `killed by ${signal}` : `exited with code ${code}`));
      this._onExit(running, code, signal);
    });
    connection.onError(([err]) => this._log.warn(`engine connection: ${err.message}`));
    connection.onNotification(P.Status, (p) => {
      this._setState(p.state);
      this._statusEmitter.fire({ type: 'status', params: p });
    });
    connection.onNotification(P.LoadProgress, (p) => this._statusEmitter.fire({ type: 'load-progress', fraction: p.fraction, message: p.stage }));
    connection.onNotification(P.Log, (p) => (p.level === 'error' ? this._log.error(p.message) : p.level === 'warn' ? this._log.warn(p.message) : this._log.info(p.message)));
    connection.onNotification(P.PartialResult, (p) => {
      for (const listener of this._partials.get(p.requestId) ?? []) listener(p.delta);
    });
    this.applyTrace(connection);
    connection.listen();
    try {
      const init = await Promise.race([
        connection.sendRequest(P.Initialize, { clientName: 'vscode', clientVersion: this._options.clientVersion, storageDir: this._options.storageDir, secretPatterns: this._options.secretPatterns?.() ?? [] }),
        died,
      ]);
      this._log.info(`engine ${init.version} ready for requests (pid ${init.pid}, protocol ${init.protocolVersion})`);
      if (init.protocolVersion !== P.PROTOCOL_VERSION) this._log.warn(`engine protocol ${init.protocolVersion} differs from the client's ${P.PROTOCOL_VERSION}`);
      this._statusEmitter.fire({ type: 'pid', pid: child.pid });
      this._statusEmitter.fire({ type: 'phase', phase: 'running' });
      if (this._state === 'starting') this._setState('no-model');
      this._startEmitter.fire(init);
    } catch (err) {
      this._log.error(`the engine did not start: ${(err as Error).message}`);
      throw err;
    }
  }

  /** Applies presage.trace.server to the live connection. */
  applyTrace(connection = this._running?.connection): void {
    if (!connection) return;
    const level = this._options.trace();
    // Traces go to the log at info level, so they show without changing the channel's log level.
    void connection.trace(Trace.fromString(level), { log: (message: unknown, data?: string) => this._log.info(`[trace] ${typeof message === 'string' ? `${message}${data ? `\n${data}` : ''}` : JSON.stringify(message)}`) });
  }

  private _onExit(running: Running, code: number | null, signal: NodeJS.Signals | null): void {
    running.connection.dispose();
    if (this._running !== running) return;
    this._running = undefined;
    this._statusEmitter.fire({ type: 'pid', pid: undefined });
    if (this._stopping || this._disposed) {
      this._statusEmitter.fire({ type: 'phase', phase: 'stopped' });
      return;
    }
    const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
    this._log.error(`the engine ${how}`);
    const decision = this._policy.onCrash(Date.now());
    if (decision.action === 'give-up') {
      this._setState('error');
      this._statusEmitter.fire({ type: 'phase', phase: 'gave-up', message: decision.message });
      void vscode.window.showErrorMessage(`${decision.message} See the Presage log for details.`, 'Restart engine', 'Show log').then((choice) => {
        if (choice === 'Restart engine') void this.restart();
        else if (choice === 'Show log') this._log.show();
      });
      return;
    }
    this._setState('starting');
    this._statusEmitter.fire({ type: 'phase', phase: 'restarting', message: `The engine ${how}; restarting (crash ${decision.crashesInWindow}).` });
    this._log.info(`restarting in ${decision.delayMs} ms`);
    this._restartTimer = setTimeout(() => {
      this._restartTimer = undefined;
      if (!this._disposed) this.start().catch(() => undefined);
    }, decision.delayMs);
  }

  /** Stops the engine: asks it to shut down, then kills it if it lingers. */
  async stop(): Promise<void> {
    this._stopping = true;
    if (this._restartTimer) clearTimeout(this._restartTimer);
    this._restartTimer = undefined;
    await this._starting?.catch(() => undefined);
    const running = this._running;
    if (!running) return;
    const exited = new Promise<void>((r) => (running.child.exitCode !== null ? r() : running.child.once('exit', () => r())));
    try {
      await Promise.race([running.connection.sendRequest(P.Shutdown), running.died, new Promise((r) => setTimeout(r, 2000))]);
    } catch {
      // Already gone.
    }
    await Promise.race([exited, new Promise((r) => setTimeout(r, 1000))]);
    if (running.child.exitCode === null && running.child.signalCode === null) running.child.kill();
    await Promise.race([exited, new Promise((r) => setTimeout(r, 1000))]);
  }

  /** A manual restart: the crash count starts afresh. */
  async restart(): Promise<void> {
    this._policy.reset();
    await this.stop();
    await this.start();
  }

  private _connection(): Running {
    if (!this._running) throw new EngineNotRunningError(this._state === 'error' ? 'it stopped after repeated crashes' : 'it is starting');
    return this._running;
  }

  async request<Params, R>(type: RequestType<Params, R, void>, params: Params, token?: vscode.CancellationToken): Promise<R> {
    const r = this._connection();
    const pending = token ? r.connection.sendRequest<R>(type.method, params, token as unknown as RpcToken) : r.connection.sendRequest<R>(type.method, params);
    return Promise.race([pending, r.died]);
  }

  async request0<R>(type: RequestType0<R, void>, token?: vscode.CancellationToken): Promise<R> {
    const r = this._connection();
    const pending = token ? r.connection.sendRequest(type, token as unknown as RpcToken) : r.connection.sendRequest(type);
    return Promise.race([pending, r.died]);
  }

  notify<Params>(type: NotificationType<Params>, params: Params): void {
    const r = this._running;
    if (!r) return;
    r.connection.sendNotification(type.method, params).catch((err: Error) => this._log.warn(`notification ${type.method} failed: ${err.message}`));
  }

  onPartial(requestId: string, listener: (delta: string) => void): vscode.Disposable {
    let set = this._partials.get(requestId);
    if (!set) this._partials.set(requestId, (set = new Set()));
    set.add(listener);
    return new vscode.Disposable(() => {
      set!.delete(listener);
      if (set!.size === 0) this._partials.delete(requestId);
    });
  }

  dispose(): void {
    this._disposed = true;
    void this.stop();
    this._stateEmitter.dispose();
    this._statusEmitter.dispose();
    this._startEmitter.dispose();
  }
}
