// A minimal stand-in for the `vscode` module, so the thin vscode-facing classes that need only events,
// disposables and messages can run under node:test. Install it before requiring those modules.
import Module from 'node:module';

type Listener<T> = (e: T) => unknown;

export class Disposable {
  constructor(private readonly _fn: () => void) {}
  dispose(): void {
    this._fn();
  }
}

export class EventEmitter<T> {
  private _listeners = new Set<Listener<T>>();
  readonly event = (listener: Listener<T>): Disposable => {
    this._listeners.add(listener);
    return new Disposable(() => this._listeners.delete(listener));
  };
  fire(e: T): void {
    for (const l of [...this._listeners]) {
      try {
        l(e);
      } catch (err) {
        console.error('listener failed', err);
      }
    }
  }
  dispose(): void {
    this._listeners.clear();
  }
}

export class CancellationTokenSource {
  private readonly _emitter = new EventEmitter<void>();
  private _cancelled = false;
  readonly token: { readonly isCancellationRequested: boolean; onCancellationRequested: (l: Listener<void>) => Disposable };

  constructor() {
    const emitter = this._emitter;
    const isCancelled = (): boolean => this._cancelled;
    this.token = {
      get isCancellationRequested(): boolean {
        return isCancelled();
      },
      onCancellationRequested: emitter.event,
    };
  }

  cancel(): void {
    if (this._cancelled) return;
    this._cancelled = true;
    this._emitter.fire();
  }

  dispose(): void {
    this._emitter.dispose();
  }
}

export interface ShownMessage {
  level: 'error' | 'warning' | 'info';
  message: string;
  actions: string[];
}

export const shownMessages: ShownMessage[] = [];

const show = (level: ShownMessage['level']) => (message: string, ...actions: string[]): Promise<string | undefined> => {
  shownMessages.push({ level, message, actions });
  return Promise.resolve(undefined);
};

export class Position {
  constructor(readonly line: number, readonly character: number) {}
  isEqual(other: Position): boolean {
    return other.line === this.line && other.character === this.character;
  }
}

export class Range {
  constructor(readonly start: Position, readonly end: Position) {}
}

export class InlineCompletionItem {
  constructor(readonly insertText: string, readonly range?: Range) {}
}

/** Settings read through workspace.getConfiguration (keys like 'presage.inlineCompletions.enabled'). */
export const fakeSettings = new Map<string, unknown>();
export const closedDocuments = new EventEmitter<unknown>();
export const executedCommands: string[] = [];

export const fakeVscode = {
  Disposable,
  EventEmitter,
  CancellationTokenSource,
  Position,
  Range,
  InlineCompletionItem,
  InlineCompletionTriggerKind: { Invoke: 0, Automatic: 1 },
  ConfigurationTarget: { Global: 1, Workspace: 2, WorkspaceFolder: 3 },
  window: { showErrorMessage: show('error'), showWarningMessage: show('warning'), showInformationMessage: show('info'), activeTextEditor: undefined },
  languages: { registerInlineCompletionItemProvider: () => new Disposable(() => undefined) },
  commands: {
    executeCommand: (id: string) => {
      executedCommands.push(id);
      return Promise.resolve(undefined);
    },
  },
  workspace: {
    onDidCloseTextDocument: closedDocuments.event,
    getConfiguration: (section: string) => ({
      get: <T>(key: string): T | undefined => fakeSettings.get(`${section}.${key}`) as T | undefined,
      update: (key: string, value: unknown) => {
        fakeSettings.set(`${section}.${key}`, value);
        return Promise.resolve();
      },
    }),
  },
};

/** A text document over a string (one version per instance). */
export function fakeDocument(uri: string, text: string, languageId = 'typescript', version = 1) {
  const lines = text.split('\n');
  return {
    uri: { toString: () => uri, scheme: uri.split(':')[0], path: uri.replace(/^[a-z]+:\/\//, ''), fsPath: uri.replace(/^[a-z]+:\/\//, '') },
    languageId,
    version,
    getText: () => text,
    offsetAt: (p: Position) => lines.slice(0, p.line).reduce((a, l) => a + l.length + 1, 0) + p.character,
    positionAt: (offset: number) => {
      const before = text.slice(0, offset).split('\n');
      return new Position(before.length - 1, before[before.length - 1]!.length);
    },
    lineAt: (line: number) => ({ text: lines[line] ?? '' }),
  };
}

/** Makes `require('vscode')` return the fake. */
export function installFakeVscode(): void {
  const m = Module as unknown as { _resolveFilename: (request: string, ...rest: unknown[]) => string; _cache: Record<string, unknown> };
  const original = m._resolveFilename;
  if ((original as { fake?: boolean }).fake) return;
  const patched = function (this: unknown, request: string, ...rest: unknown[]): string {
    return request === 'vscode' ? 'vscode' : original.call(this, request, ...rest);
  };
  (patched as { fake?: boolean }).fake = true;
  m._resolveFilename = patched;
  const cache = require.cache as Record<string, unknown>;
  cache.vscode = { id: 'vscode', filename: 'vscode', loaded: true, exports: fakeVscode, children: [], paths: [] };
}

/** A log channel that keeps its lines. */
export function memoryLog(): { lines: string[]; info(m: string): void; warn(m: string): void; error(m: string): void; trace(m: string): void; show(): void } {
  const lines: string[] = [];
  return {
    lines,
    info: (m) => lines.push(`info ${m}`),
    warn: (m) => lines.push(`warn ${m}`),
    error: (m) => lines.push(`error ${m}`),
    trace: (m) => lines.push(`trace ${m}`),
    show: () => undefined,
  };
}
