// A Node client for the engine process (tests, tools): spawns `engine.js stdio` and reports a dying process as a
// clear rejection of every pending request instead of a hang.
import { spawn, type ChildProcess } from 'node:child_process';
import {
  createMessageConnection, StreamMessageReader, StreamMessageWriter, type MessageConnection, type NotificationType, type RequestType, type RequestType0,
  CancellationTokenSource,
} from 'vscode-jsonrpc/node';

export interface EngineExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class EngineProcessError extends Error {
  constructor(message: string, readonly exit: EngineExit) {
    super(message);
  }
}

export interface EngineProcess {
  readonly child: ChildProcess;
  readonly connection: MessageConnection;
  readonly exited: Promise<EngineExit>;
  /** stderr so far (the engine logs there). */
  stderr(): string;
  request<P, R>(type: RequestType<P, R, void>, params: P, cancel?: CancellationTokenSource): Promise<R>;
  request0<R>(type: RequestType0<R, void>): Promise<R>;
  notify<P>(type: NotificationType<P>, params: P): void;
  dispose(): void;
}

export function spawnEngine(enginePath: string, args: string[] = [], env: NodeJS.ProcessEnv = {}): EngineProcess {
  const child = spawn(process.execPath, [enginePath, 'stdio', ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, ORT_DISABLE_TELEMETRY: '1', ...env },
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const connection = createMessageConnection(new StreamMessageReader(child.stdout!), new StreamMessageWriter(child.stdin!));
  connection.onError(() => undefined);
  connection.listen();
  const exited = new Promise<EngineExit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const describe = (e: EngineExit): string => (e.signal ? `killed by ${e.signal}` : `exited with code ${e.code}`);
  const guard = async <R>(method: string, send: () => Promise<R>): Promise<R> => {
    const died = exited.then((e) => {
      throw new EngineProcessError(`the engine process ${describe(e)} during '${method}'`, e);
    });
    died.catch(() => undefined);
    try {
      return await Promise.race([send(), died]);
    } catch (err) {
      // A connection error caused by the exit is reported as the exit.
      if (!(err instanceof EngineProcessError) && child.exitCode === null && child.signalCode === null) throw err;
      const e = await Promise.race([exited, new Promise<EngineExit | undefined>((r) => setTimeout(() => r(undefined), 500))]);
      if (e) throw new EngineProcessError(`the engine process ${describe(e)} during '${method}'`, e);
      throw err;
    }
  };
  return {
    child,
    connection,
    exited,
    stderr: () => stderr,
    request: <P, R>(type: RequestType<P, R, void>, params: P, cancel?: CancellationTokenSource) =>
      guard(type.method, () => (cancel ? connection.sendRequest<R>(type.method, params, cancel.token) : connection.sendRequest<R>(type.method, params))),
    request0: <R>(type: RequestType0<R, void>) => guard(type.method, () => connection.sendRequest<R>(type.method)),
    notify: <P>(type: NotificationType<P>, params: P) => void connection.sendNotification(type.method, params).catch(() => undefined),
    dispose: () => {
      connection.dispose();
      if (child.exitCode === null) child.kill();
    },
  };
}
