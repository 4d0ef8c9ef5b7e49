// A small stand-in for the parts of `vscode` the rewrite command and the chat panel use: one text document with
// real edits and change events, an editor with decorations, commands, CodeLens providers, input boxes, progress,
// webview view providers and a workspace of files on a fake disk.
// For tests only: `installFakeEditorVscode()` makes `require('vscode')` return it.
import Module from 'node:module';

type Listener<T> = (e: T) => unknown;

export class Disposable {
  constructor(private readonly fn: () => void = () => undefined) {}
  dispose(): void {
    this.fn();
  }
}

export class EventEmitter<T> {
  private listeners = new Set<Listener<T>>();
  readonly event = (listener: Listener<T>): Disposable => {
    this.listeners.add(listener);
    return new Disposable(() => this.listeners.delete(listener));
  };
  fire(e: T): void {
    for (const l of [...this.listeners]) l(e);
  }
  dispose(): void {
    this.listeners.clear();
  }
}

export class CancellationTokenSource {
  private readonly emitter = new EventEmitter<void>();
  private cancelled = false;
  readonly token = {
    isCancellationRequested: false,
    onCancellationRequested: this.emitter.event,
  };
  cancel(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    this.token.isCancellationRequested = true;
    this.emitter.fire();
  }
  dispose(): void {}
}

export class Position {
  constructor(
    readonly line: number,
    readonly character: number,
  ) {}
}

export class Range {
  readonly start: Position;
  readonly end: Position;
  constructor(a: Position | number, b: Position | number, c?: number, d?: number) {
    this.start = typeof a === 'number' ? new Position(a, b as number) : a;
    this.end = typeof a === 'number' ? new Position(c!, d!) : (b as Position);
  }
  get isEmpty(): boolean {
    return this.start.line === this.end.line && this.start.character === this.end.character;
  }
}

export class Selection extends Range {
  constructor(
    readonly anchor: Position,
    readonly active: Position,
  ) {
    const forward = anchor.line < active.line || (anchor.line === active.line && anchor.character <= active.character);
    super(forward ? anchor : active, forward ? active : anchor);
  }
}

export class Uri {
  constructor(readonly path: string) {}
  readonly scheme = 'file';
  toString(): string {
    return `file://${this.path}`;
  }
  static parse(text: string): Uri {
    const m = /^file:\/\/(\/.*)$/.exec(text);
    if (!m) throw new Error(`fake Uri.parse: unsupported ${text}`);
    return new Uri(m[1]!);
  }
  static file(path: string): Uri {
    return new Uri(path);
  }
  static joinPath(base: Uri, ...segments: string[]): Uri {
    return new Uri([base.path.replace(/\/$/, ''), ...segments].join('/'));
  }
}

/** Workspace files on the fake disk (absolute paths under /ws), for the chat's context search. */
export const files = new Map<string, string>();
export const filesRead: string[] = [];

function globMatches(glob: string, path: string): boolean {
  const ext = /^\*\*\/\*\.\{([^}]*)\}$/.exec(glob);
  if (ext) return ext[1]!.split(',').some((e) => path.endsWith(`.${e}`));
  const names = glob.replace(/^\{|\}$/g, '').split(',').map((g) => g.replace(/^\*\*\//, ''));
  return names.some((n) => path === `/ws/${n}` || path.endsWith(`/${n}`));
}

export class CodeLens {
  constructor(
    readonly range: Range,
    readonly command?: { title: string; command: string; arguments?: unknown[] },
  ) {}
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

export class CancellationError extends Error {}

export interface ContentChange {
  rangeOffset: number;
  rangeLength: number;
  text: string;
}

export class FakeDocument {
  version = 1;
  isClosed = false;
  constructor(
    readonly uri: Uri,
    public text: string,
    readonly languageId = 'typescript',
  ) {}
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

export interface EditRecord {
  text: string;
  undoStopBefore: boolean;
  undoStopAfter: boolean;
}

export const changed = new EventEmitter<{ document: FakeDocument; contentChanges: ContentChange[] }>();
const closed = new EventEmitter<FakeDocument>();
const selectionChanged = new EventEmitter<{ textEditor: FakeEditor }>();

/** Replaces text and fires the change event, as VS Code does for any edit. */
export function applyChange(document: FakeDocument, offset: number, length: number, text: string): void {
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
      applyChange(this.document, start, this.document.offsetAt(r.range.end) - start, r.text);
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

export interface Shown {
  level: 'info' | 'warning' | 'error';
  message: string;
}

/** What the fake saw and what tests script. */
export const state = {
  editor: undefined as FakeEditor | undefined,
  commands: new Map<string, (...args: unknown[]) => unknown>(),
  context: new Map<string, unknown>(),
  lensProviders: [] as Array<{ provideCodeLenses(d: FakeDocument): CodeLens[] }>,
  messages: [] as Shown[],
  /** The next input box answer (a function may edit the document first). */
  inputBox: (): Promise<string | undefined> => Promise.resolve(undefined),
  progressCancel: undefined as CancellationTokenSource | undefined,
  webviewProviders: new Map<string, unknown>(),
  shownDocuments: [] as Array<{ path: string; line: number }>,
  decorationTypes: 0,
};

const show = (level: Shown['level']) => (message: string): Promise<undefined> => {
  state.messages.push({ level, message });
  return Promise.resolve(undefined);
};

export const fakeEditorVscode = {
  Disposable,
  EventEmitter,
  CancellationTokenSource,
  CancellationError,
  Position,
  Range,
  Selection,
  Uri,
  CodeLens,
  ThemeColor,
  MarkdownString,
  OverviewRulerLane: { Left: 1 },
  ProgressLocation: { Notification: 15 },
  window: {
    get activeTextEditor() {
      return state.editor;
    },
    get visibleTextEditors() {
      return state.editor ? [state.editor] : [];
    },
    createTextEditorDecorationType: () => ({ key: `type${++state.decorationTypes}`, dispose: () => undefined }),
    showInputBox: () => state.inputBox(),
    showInformationMessage: show('info'),
    showWarningMessage: show('warning'),
    showErrorMessage: show('error'),
    withProgress: async (_o: unknown, task: (p: { report(v: unknown): void }, t: unknown) => Promise<unknown>) => {
      state.progressCancel = new CancellationTokenSource();
      return task({ report: () => undefined }, state.progressCancel.token);
    },
    onDidChangeVisibleTextEditors: new EventEmitter<unknown>().event,
    onDidChangeActiveTextEditor: new EventEmitter<unknown>().event,
    onDidChangeTextEditorSelection: selectionChanged.event,
    registerWebviewViewProvider: (id: string, provider: unknown) => {
      state.webviewProviders.set(id, provider);
      return new Disposable();
    },
    showTextDocument: (document: FakeDocument, options: { selection: Range }) => {
      state.shownDocuments.push({ path: document.uri.path, line: options.selection.start.line });
      return Promise.resolve();
    },
  },
  ViewColumn: { One: 1 },
  workspace: {
    onDidChangeTextDocument: changed.event,
    onDidCloseTextDocument: closed.event,
    asRelativePath: (uri: Uri) => uri.path.replace(/^\/ws\//, '').replace(/^\//, ''),
    applyEdit: () => Promise.resolve(false),
    isTrusted: true,
    get textDocuments() {
      return state.editor ? [state.editor.document] : [];
    },
    workspaceFolders: [{ uri: new Uri('/ws') }],
    getConfiguration: () => ({ get: () => undefined }),
    findFiles: (glob: string, _exclude: string, max: number) => Promise.resolve([...files.keys()].filter((p) => globMatches(glob, p)).slice(0, max).map((p) => new Uri(p))),
    fs: {
      stat: (uri: Uri) => Promise.resolve({ size: (files.get(uri.path) ?? '').length }),
      readFile: (uri: Uri) => {
        filesRead.push(uri.path);
        const text = files.get(uri.path);
        return text === undefined ? Promise.reject(new Error('ENOENT')) : Promise.resolve(new TextEncoder().encode(text));
      },
    },
    openTextDocument: (uri: Uri) => Promise.resolve(new FakeDocument(uri, files.get(uri.path) ?? '')),
  },
  commands: {
    registerCommand: (id: string, fn: (...args: unknown[]) => unknown) => {
      state.commands.set(id, fn);
      return new Disposable(() => state.commands.delete(id));
    },
    executeCommand: (id: string, ...args: unknown[]) => {
      if (id === 'setContext') state.context.set(args[0] as string, args[1]);
      return Promise.resolve(state.commands.get(id)?.(...args));
    },
  },
  languages: {
    registerCodeLensProvider: (_selector: unknown, provider: { provideCodeLenses(d: FakeDocument): CodeLens[] }) => {
      state.lensProviders.push(provider);
      return new Disposable();
    },
  },
};

/** Makes `require('vscode')` return the fake. */
export function installFakeEditorVscode(): void {
  const m = Module as unknown as { _resolveFilename: (request: string, ...rest: unknown[]) => string };
  const original = m._resolveFilename;
  if ((original as { fakeEditor?: boolean }).fakeEditor) return;
  const patched = function (this: unknown, request: string, ...rest: unknown[]): string {
    return request === 'vscode' ? 'vscode' : original.call(this, request, ...rest);
  };
  (patched as { fakeEditor?: boolean }).fakeEditor = true;
  m._resolveFilename = patched;
  (require.cache as Record<string, unknown>).vscode = { id: 'vscode', filename: 'vscode', loaded: true, exports: fakeEditorVscode, children: [], paths: [] };
}
