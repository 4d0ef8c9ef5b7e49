// The one stand-in for the `vscode` module, so the extension's vscode-facing classes run under node:test: events,
// disposables, cancellation, messages, settings, text documents with real edits and change events, an editor with
// selections and decorations, commands, CodeLens and webview view providers, input boxes, progress, and a
// workspace of files on a fake disk (tests may swap workspace members for a real folder).
// `installFakeVscode()` makes `require('vscode')` return it; install it before requiring the module under test.
import Module from 'node:module';

type Listener<T> = (e: T) => unknown;

export class Disposable {
  constructor(private readonly _fn: () => void = () => undefined) {}
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
    const isCancelled = (): boolean => this._cancelled;
    this.token = {
      get isCancellationRequested(): boolean {
        return isCancelled();
      },
      onCancellationRequested: this._emitter.event,
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

export class CancellationError extends Error {}

export class Position {
  constructor(readonly line: number, readonly character: number) {}
  isEqual(other: Position): boolean {
    return other.line === this.line && other.character === this.character;
  }
}

export class Range {
  readonly start: Position;
  readonly end: Position;
  constructor(a: Position | number, b: Position | number, c?: number, d?: number) {
    this.start = typeof a === 'number' ? new Position(a, b as number) : a;
    this.end = typeof a === 'number' ? new Position(c!, d!) : (b as Position);
  }
  get isEmpty(): boolean {
    return this.start.isEqual(this.end);
  }
}

export class Selection extends Range {
  constructor(readonly anchor: Position, readonly active: Position) {
    const forward = anchor.line < active.line || (anchor.line === active.line && anchor.character <= active.character);
    super(forward ? anchor : active, forward ? active : anchor);
  }
}

/** `scheme://authority/path` (file uris: `file:///abs/path`), or `scheme:path` (untitled). */
export class Uri {
  constructor(readonly path: string, readonly scheme = 'file', readonly authority = '') {}
  get fsPath(): string {
    return this.path;
  }
  toString(): string {
    return this.scheme === 'file' || this.authority ? `${this.scheme}://${this.authority}${this.path}` : `${this.scheme}:${this.path}`;
  }
  static parse(text: string): Uri {
    const m = /^([a-z][\w+.-]*):(?:\/\/([^/]*))?(.*)$/i.exec(text);
    if (!m) throw new Error(`fake Uri.parse: unsupported ${text}`);
    return new Uri(m[3]!, m[1]!, m[2] ?? '');
  }
  static file(path: string): Uri {
    return new Uri(path);
  }
  static from(parts: { scheme: string; path: string; authority?: string }): Uri {
    return new Uri(parts.path, parts.scheme, parts.authority ?? '');
  }
  static joinPath(base: Uri, ...segments: string[]): Uri {
    return new Uri([base.path.replace(/\/$/, ''), ...segments].join('/'), base.scheme, base.authority);
  }
}

export class InlineCompletionItem {
  constructor(readonly insertText: string, readonly range?: Range) {}
}

export class CodeLens {
  constructor(readonly range: Range, readonly command?: { title: string; command: string; arguments?: unknown[]; tooltip?: string }) {}
}

export class ThemeColor {
  constructor(readonly id: string) {}
}

export class MarkdownString {
  value = '';
  appendMarkdown(s: string): this {
    this.value += s;
    return this;
  }
  appendCodeblock(s: string): this {
    this.value += `\n\`\`\`\n${s}\n\`\`\`\n`;
    return this;
  }
}

export interface ContentChange {
  rangeOffset: number;
  rangeLength: number;
  text: string;
}

/** A text document over a string; `applyChange` edits it and fires the change event as VS Code does. */
export class FakeDocument {
  isClosed = false;
  constructor(readonly uri: Uri, public text: string, readonly languageId = 'typescript', public version = 1) {}
  get lineCount(): number {
    return this.text.split('\n').length;
  }
  offsetAt(p: Position): number {
    const lines = this.text.split('\n');
    let offset = 0;
    for (let i = 0; i < p.line && i < lines.length; i++) offset += lines[i]!.length + 1;
    return Math.min(this.text.length, offset + p.character);
  }
  positionAt(offset: number): Position {
    const before = this.text.slice(0, Math.max(0, Math.min(offset, this.text.length))).split('\n');
    return new Position(before.length - 1, before.at(-1)!.length);
  }
  getText(range?: Range): string {
    return range ? this.text.slice(this.offsetAt(range.start), this.offsetAt(range.end)) : this.text;
  }
  lineAt(line: number): { text: string; range: Range } {
    const text = this.text.split('\n')[line] ?? '';
    return { text, range: new Range(line, 0, line, text.length) };
  }
}

/** A document for a uri string (`file:///ws/a.ts`, `untitled:Untitled-1`). */
export function fakeDocument(uri: string, text: string, languageId = 'typescript', version = 1): FakeDocument {
  return new FakeDocument(Uri.parse(uri), text, languageId, version);
}

export interface EditRecord {
  text: string;
  undoStopBefore: boolean;
  undoStopAfter: boolean;
}

export const changed = new EventEmitter<{ document: FakeDocument; contentChanges: ContentChange[]; reason?: number }>();
/** vscode.TextDocumentChangeReason */
export const TextDocumentChangeReason = { Undo: 1, Redo: 2 } as const;

/** One undo step: the changes it made, in order (offsets as each was applied). */
type UndoStep = Array<{ offset: number; removed: string; inserted: string }>;
/** Per document: undo and redo stacks, as VS Code keeps them (an edit clears redo). */
const history = new Map<FakeDocument, { undo: UndoStep[]; redo: UndoStep[]; open: boolean }>();
function historyOf(document: FakeDocument): { undo: UndoStep[]; redo: UndoStep[]; open: boolean } {
  let h = history.get(document);
  if (!h) history.set(document, (h = { undo: [], redo: [], open: false }));
  return h;
}

function replay(document: FakeDocument, step: UndoStep, reason: number): UndoStep {
  const inverse: UndoStep = [];
  for (const c of [...step].reverse()) {
    document.text = document.text.slice(0, c.offset) + c.removed + document.text.slice(c.offset + c.inserted.length);
    document.version++;
    inverse.unshift({ offset: c.offset, removed: c.inserted, inserted: c.removed });
    changed.fire({ document, contentChanges: [{ rangeOffset: c.offset, rangeLength: c.inserted.length, text: c.removed }], reason });
  }
  return inverse;
}

/** Ctrl+Z / Ctrl+Shift+Z on a document: the `undo` and `redo` commands of the active editor. */
export function undoRedo(document: FakeDocument, which: 'undo' | 'redo'): boolean {
  const h = historyOf(document);
  h.open = false;
  const step = (which === 'undo' ? h.undo : h.redo).pop();
  if (!step) return false;
  const back = replay(document, step, which === 'undo' ? TextDocumentChangeReason.Undo : TextDocumentChangeReason.Redo);
  (which === 'undo' ? h.redo : h.undo).push(back);
  return true;
}
export const opened = new EventEmitter<unknown>();
export const closedDocuments = new EventEmitter<unknown>();
export const configurationChanged = new EventEmitter<{ affectsConfiguration(section: string): boolean }>();
const selectionChanged = new EventEmitter<{ textEditor: FakeEditor }>();

/** Replaces text and fires the change event, as VS Code does for any edit. */
export function applyChange(document: FakeDocument, offset: number, length: number, text: string, group?: { joinPrevious: boolean; closeAfter: boolean }): void {
  const h = historyOf(document);
  const change = { offset, removed: document.text.slice(offset, offset + length), inserted: text };
  if (group?.joinPrevious && h.open && h.undo.length > 0) h.undo.at(-1)!.push(change);
  else h.undo.push([change]);
  h.open = group ? !group.closeAfter : false;
  h.redo.length = 0;
  document.text = document.text.slice(0, offset) + text + document.text.slice(offset + length);
  document.version++;
  changed.fire({ document, contentChanges: [{ rangeOffset: offset, rangeLength: length, text }] });
}

export class FakeEditor {
  selection: Selection;
  readonly edits: EditRecord[] = [];
  readonly decorations = new Map<string, unknown[]>();
  constructor(readonly document: FakeDocument) {
    this.selection = new Selection(new Position(0, 0), new Position(0, 0));
  }
  async edit(build: (b: { replace(range: Range, text: string): void }) => void, options: { undoStopBefore: boolean; undoStopAfter: boolean }): Promise<boolean> {
    const replacements: Array<{ range: Range; text: string }> = [];
    build({ replace: (range, text) => replacements.push({ range, text }) });
    await Promise.resolve();
    for (const r of replacements) {
      const start = this.document.offsetAt(r.range.start);
      applyChange(this.document, start, this.document.offsetAt(r.range.end) - start, r.text, { joinPrevious: !options.undoStopBefore, closeAfter: options.undoStopAfter });
      this.edits.push({ text: r.text, ...options });
    }
    return true;
  }
  setDecorations(type: { key: string }, ranges: unknown[]): void {
    this.decorations.set(type.key, ranges);
  }
  select(anchorOffset: number, activeOffset: number): void {
    this.selection = new Selection(this.document.positionAt(anchorOffset), this.document.positionAt(activeOffset));
    selectionChanged.fire({ textEditor: this });
  }
}

export interface ShownMessage {
  level: 'error' | 'warning' | 'info';
  message: string;
  actions: string[];
}

/** Every message shown, in order. */
export const shownMessages: ShownMessage[] = [];
/** Settings read through workspace.getConfiguration (keys like 'presage.inlineCompletions.enabled'). */
export const fakeSettings = new Map<string, unknown>();
export const executedCommands: string[] = [];
/** Workspace files on the fake disk (absolute paths under /ws). */
export const files = new Map<string, string>();
export const filesRead: string[] = [];

/** What the fake saw and what tests script. */
export const state = {
  editor: undefined as FakeEditor | undefined,
  commands: new Map<string, (...args: unknown[]) => unknown>(),
  context: new Map<string, unknown>(),
  lensProviders: [] as Array<{ provideCodeLenses(d: FakeDocument): CodeLens[] }>,
  messages: shownMessages,
  /** The next input box answer (a function may edit the document first). */
  inputBox: (_options?: { prompt?: string; title?: string }): Promise<string | undefined> => Promise.resolve(undefined),
  progressCancel: undefined as CancellationTokenSource | undefined,
  progressReports: [] as Array<{ message?: string; increment?: number }>,
  webviewProviders: new Map<string, unknown>(),
  shownDocuments: [] as Array<{ path: string; line: number }>,
  decorationTypes: 0,
};

function globMatches(glob: string, path: string): boolean {
  const ext = /^\*\*\/\*\.\{([^}]*)\}$/.exec(glob);
  if (ext) return ext[1]!.split(',').some((e) => path.endsWith(`.${e}`));
  const names = glob.replace(/^\{|\}$/g, '').split(',').map((g) => g.replace(/^\*\*\//, ''));
  return names.some((n) => path === `/ws/${n}` || path.endsWith(`/${n}`));
}

const show = (level: ShownMessage['level']) => (message: string, ...actions: unknown[]): Promise<string | undefined> => {
  shownMessages.push({ level, message, actions: actions.filter((a): a is string => typeof a === 'string') });
  return Promise.resolve(undefined);
};

const noEvent = (): Disposable => new Disposable();

export const fakeVscode = {
  Disposable,
  EventEmitter,
  CancellationTokenSource,
  CancellationError,
  Position,
  Range,
  Selection,
  Uri,
  InlineCompletionItem,
  CodeLens,
  ThemeColor,
  MarkdownString,
  InlineCompletionTriggerKind: { Invoke: 0, Automatic: 1 },
  TextDocumentChangeReason,
  ConfigurationTarget: { Global: 1, Workspace: 2, WorkspaceFolder: 3 },
  OverviewRulerLane: { Left: 1 },
  ProgressLocation: { SourceControl: 1, Window: 10, Notification: 15 },
  StatusBarAlignment: { Left: 1, Right: 2 },
  FileType: { Unknown: 0, File: 1, Directory: 2, SymbolicLink: 64 },
  ViewColumn: { One: 1 },
  window: {
    get activeTextEditor(): FakeEditor | undefined {
      return state.editor;
    },
    set activeTextEditor(editor: FakeEditor | undefined) {
      state.editor = editor;
    },
    get visibleTextEditors(): FakeEditor[] {
      return state.editor ? [state.editor] : [];
    },
    createTextEditorDecorationType: () => ({ key: `type${++state.decorationTypes}`, dispose: () => undefined }),
    showInputBox: (options?: { prompt?: string; title?: string }) => state.inputBox(options),
    showInformationMessage: show('info'),
    showWarningMessage: show('warning'),
    showErrorMessage: show('error'),
    setStatusBarMessage: () => new Disposable(),
    withProgress: async (_o: unknown, task: (p: { report(v: { message?: string; increment?: number }): void }, t: unknown) => Promise<unknown>) => {
      const cts = (state.progressCancel = new CancellationTokenSource());
      return task({ report: (v) => state.progressReports.push(v) }, cts.token);
    },
    onDidChangeVisibleTextEditors: noEvent as (l: Listener<unknown>) => Disposable,
    onDidChangeActiveTextEditor: noEvent as (l: Listener<unknown>) => Disposable,
    onDidChangeTextEditorSelection: selectionChanged.event,
    registerWebviewViewProvider: (id: string, provider: unknown) => {
      state.webviewProviders.set(id, provider);
      return new Disposable(() => state.webviewProviders.delete(id));
    },
    showTextDocument: (document: FakeDocument, options?: { selection?: Range }) => {
      state.shownDocuments.push({ path: document.uri.path, line: options?.selection?.start.line ?? 0 });
      return Promise.resolve();
    },
  },
  languages: {
    registerInlineCompletionItemProvider: () => new Disposable(),
    registerCodeLensProvider: (_selector: unknown, provider: { provideCodeLenses(d: FakeDocument): CodeLens[] }) => {
      state.lensProviders.push(provider);
      return new Disposable();
    },
  },
  commands: {
    registerCommand: (id: string, fn: (...args: unknown[]) => unknown) => {
      state.commands.set(id, fn);
      return new Disposable(() => state.commands.delete(id));
    },
    executeCommand: (id: string, ...args: unknown[]) => {
      executedCommands.push(id);
      if (id === 'setContext') state.context.set(args[0] as string, args[1]);
      if ((id === 'undo' || id === 'redo') && state.editor) return Promise.resolve(void undoRedo(state.editor.document, id));
      return Promise.resolve(state.commands.get(id)?.(...args));
    },
  },
  workspace: {
    onDidOpenTextDocument: opened.event,
    onDidChangeTextDocument: changed.event,
    onDidCloseTextDocument: closedDocuments.event,
    onDidChangeConfiguration: configurationChanged.event,
    onDidGrantWorkspaceTrust: noEvent as (l: Listener<unknown>) => Disposable,
    onDidChangeWorkspaceFolders: noEvent as (l: Listener<unknown>) => Disposable,
    getConfiguration: (section: string) => ({
      get: <T>(key: string): T | undefined => fakeSettings.get(`${section}.${key}`) as T | undefined,
      update: (key: string, value: unknown) => {
        fakeSettings.set(`${section}.${key}`, value);
        return Promise.resolve();
      },
    }),
    asRelativePath: (uri: Uri | string) => (typeof uri === 'string' ? uri : uri.path).replace(/^\/ws\//, '').replace(/^\//, ''),
    applyEdit: () => Promise.resolve(false),
    isTrusted: true,
    get textDocuments(): FakeDocument[] {
      return state.editor ? [state.editor.document] : [];
    },
    workspaceFolders: [{ uri: new Uri('/ws'), name: 'ws', index: 0 }] as Array<{ uri: Uri; name: string; index: number }> | undefined,
    getWorkspaceFolder: (uri: Uri) => (uri.path.startsWith('/ws/') ? { uri: new Uri('/ws'), name: 'ws', index: 0 } : undefined),
    findFiles: (glob: string, _exclude: unknown, max: number) =>
      Promise.resolve([...files.keys()].filter((p) => globMatches(glob, p)).slice(0, max).map((p) => new Uri(p))),
    createFileSystemWatcher: () => ({ onDidCreate: noEvent, onDidChange: noEvent, onDidDelete: noEvent, dispose: () => undefined }),
    registerTextDocumentContentProvider: () => new Disposable(),
    fs: {
      stat: (uri: Uri) => {
        const text = files.get(uri.path);
        return text === undefined ? Promise.reject(new Error('ENOENT')) : Promise.resolve({ type: 1, size: text.length });
      },
      readFile: (uri: Uri) => {
        filesRead.push(uri.path);
        const text = files.get(uri.path);
        return text === undefined ? Promise.reject(new Error('ENOENT')) : Promise.resolve(new TextEncoder().encode(text));
      },
      createDirectory: () => Promise.resolve(),
    },
    openTextDocument: (uri: Uri) => Promise.resolve(new FakeDocument(uri, files.get(uri.path) ?? '')),
  },
};

/** Makes `require('vscode')` return the fake. */
export function installFakeVscode(): void {
  const m = Module as unknown as { _resolveFilename: (request: string, ...rest: unknown[]) => string };
  const original = m._resolveFilename;
  if ((original as { fake?: boolean }).fake) return;
  const patched = function (this: unknown, request: string, ...rest: unknown[]): string {
    return request === 'vscode' ? 'vscode' : original.call(this, request, ...rest);
  };
  (patched as { fake?: boolean }).fake = true;
  m._resolveFilename = patched;
  (require.cache as Record<string, unknown>).vscode = { id: 'vscode', filename: 'vscode', loaded: true, exports: fakeVscode, children: [], paths: [] };
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
