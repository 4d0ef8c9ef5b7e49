// Feeds the engine's workspace index: open editors (full text on open, incremental changes after) and, in a trusted
// workspace, the workspace files in the background. Secrets (by name or content, also behind symbolic links),
// version-control folders, ignored, excluded, large and binary files never go; links out of the workspace neither.
import fs from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import { ChangeDocument, CloseDocument, IndexedDocuments, OpenDocument, RemoveDocument } from '../../engine/protocol';
import { editedRanges, isVcsPath } from '../../engine/protocol/fileSafety';
import type { IndexerCtx } from '../api';
import { config } from '../config';
import { FileFilter, looksBinary, plainFolderNames, type SkipReason } from '../common/fileFilter';

const INDEXED_SCHEMES = new Set(['file', 'untitled', 'vscode-remote', 'vscode-vfs']);
const MAX_WORKSPACE_FILES = 5000;
export const INDEX_SCHEME = 'presage-index';

function searchExclude(extra: string[]): string {
  const names = [...new Set(['node_modules', '.git', ...extra])];
  return `{${names.map((n) => `**/${n}/**`).join(',')}}`;
}

export class Indexer implements vscode.Disposable {
  private readonly _disposables: vscode.Disposable[] = [];
  private _filter: FileFilter;
  private readonly _workspaceUris = new Set<string>();
  private readonly _editorUris = new Set<string>();
  private _scan: vscode.CancellationTokenSource | undefined;
  private readonly _indexDoc = new vscode.EventEmitter<vscode.Uri>();
  private _indexText = '';
  /** Secrets met while indexing (uri to display path), listed by Show Indexed Files as "skipped: secret". */
  private readonly _skippedSecrets = new Map<string, string>();
  /** Open documents found to hold a secret: never sent, never completed in. */
  private readonly _secretEditors = new Set<string>();
  /** Fires on every change of an indexed open document (the debouncer's keystrokes). */
  private readonly _typing = new vscode.EventEmitter<vscode.TextDocumentChangeEvent>();
  readonly onDidType = this._typing.event;
  /** Workspace indexing progress in files (done === total when the scan is complete, stopped or skipped). */
  private readonly _progress = new vscode.EventEmitter<{ done: number; total: number }>();
  readonly onProgress = this._progress.event;

  constructor(private readonly _ctx: IndexerCtx) {
    this._filter = this._makeFilter();
    const d = this._disposables;
    d.push(this._indexDoc, this._typing, this._progress);
    d.push(vscode.workspace.onDidOpenTextDocument((doc) => this._openEditor(doc)));
    d.push(vscode.workspace.onDidChangeTextDocument((e) => this._change(e)));
    d.push(vscode.workspace.onDidCloseTextDocument((doc) => this._closeEditor(doc)));
    d.push(vscode.window.onDidChangeVisibleTextEditors((editors) => {
      for (const e of editors) if (!this._editorUris.has(e.document.uri.toString())) this._openEditor(e.document);
    }));
    d.push(vscode.workspace.onDidGrantWorkspaceTrust(() => this.scanWorkspace()));
    d.push(vscode.workspace.onDidChangeWorkspaceFolders(() => this.scanWorkspace()));
    d.push(_ctx.onDidChangeConfig((triggers) => {
      if (!triggers.has('reindex')) return;
      this._filter = this._makeFilter();
      this.resync();
    }));
    const watcher = vscode.workspace.createFileSystemWatcher('**/*');
    d.push(watcher);
    d.push(watcher.onDidCreate((uri) => void this._fileChanged(uri)));
    d.push(watcher.onDidChange((uri) => void this._fileChanged(uri)));
    d.push(watcher.onDidDelete((uri) => this._fileDeleted(uri)));
    d.push(_ctx.client.onDidStart(() => this.resync()));
    d.push(vscode.workspace.registerTextDocumentContentProvider(INDEX_SCHEME, { onDidChange: this._indexDoc.event, provideTextDocumentContent: () => this._indexText }));
  }

  private _makeFilter(): FileFilter {
    try {
      return new FileFilter({ secretPatterns: config.secretPatterns(), excludes: config.filesExclude(), maxFileBytes: config.maxFileBytes() });
    } catch (err) {
      this._ctx.log.error(`index settings: ${(err as Error).message}; using the defaults`);
      return new FileFilter();
    }
  }

  private _relative(uri: vscode.Uri): string {
    return vscode.workspace.asRelativePath(uri, false);
  }

  /** Why an editor's document must not be sent, or undefined when it may be. Cheap: called on every keystroke. */
  editorSkipReason(doc: vscode.TextDocument): SkipReason | 'scheme' | undefined {
    if (!INDEXED_SCHEMES.has(doc.uri.scheme)) return 'scheme';
    if (this._secretEditors.has(doc.uri.toString())) return 'secret';
    if (this._filter.isSecret(doc.uri.path) || this._filter.isSecret(this._relative(doc.uri))) return 'secret';
    if (isVcsPath(doc.uri.path)) return 'ignored';
    if (doc.getText().length > this._filter.maxFileBytes) return 'too-large';
    return undefined;
  }

  /** Whether a document may be used for completions at all (secrets never). */
  isAllowed(doc: vscode.TextDocument): boolean {
    return this.editorSkipReason(doc) === undefined;
  }

  private _noteSecret(uri: vscode.Uri): 'secret' {
    this._skippedSecrets.set(uri.toString(), uri.scheme === 'file' ? this._relative(uri) : uri.toString());
    return 'secret';
  }

  /** The full check when an editor's document is first sent: content, and where a symbolic link leads. */
  private _editorSecretOrOutside(doc: vscode.TextDocument): SkipReason | undefined {
    const key = doc.uri.toString();
    if (this._filter.isSecretFile(this._relative(doc.uri), doc.getText()) || this._filter.isSecretFile(doc.uri.path, doc.getText())) {
      this._secretEditors.add(key);
      return this._noteSecret(doc.uri);
    }
    if (doc.uri.scheme === 'file') {
      const real = realPathSync(doc.uri.fsPath);
      if (real && real !== doc.uri.fsPath && this._filter.isSecret(real)) {
        this._secretEditors.add(key);
        return this._noteSecret(doc.uri);
      }
    }
    return undefined;
  }

  /**
   * Documents worth indexing: in a workspace folder, untitled, or shown in an editor. VS Code also opens documents
   * nobody looks at (its own settings files while it writes them); those stay out.
   */
  private _inScope(doc: vscode.TextDocument): boolean {
    if (doc.uri.scheme === 'untitled') return true;
    if (vscode.workspace.getWorkspaceFolder(doc.uri)) return true;
    return (vscode.window.visibleTextEditors ?? []).some((e) => e.document.uri.toString() === doc.uri.toString());
  }

  private _openEditor(doc: vscode.TextDocument): void {
    if (!this._ctx.client.isRunning || this.editorSkipReason(doc) || !this._inScope(doc)) return;
    if (this._editorSecretOrOutside(doc)) return;
    const uri = doc.uri.toString();
    this._editorUris.add(uri);
    this._ctx.client.notify(OpenDocument, { uri, languageId: doc.languageId, version: doc.version, text: doc.getText(), source: 'editor' });
  }

  private _change(e: vscode.TextDocumentChangeEvent): void {
    const uri = e.document.uri.toString();
    if (!this._editorUris.has(uri)) {
      // Became eligible (e.g. shrank below the cap) or opened before the engine ran.
      if (e.contentChanges.length > 0) this._openEditor(e.document);
      return;
    }
    if (e.contentChanges.length === 0) return;
    const text = e.document.getText();
    // A secret typed or pasted in: only the text around the edits is scanned (the whole was checked on open).
    const changes = e.contentChanges.map((c) => ({ rangeOffset: c.rangeOffset, rangeLength: c.rangeLength, text: c.text }));
    if (this._filter.safety.secretInEdits(this._relative(e.document.uri), text, editedRanges(changes))) {
      this._secretEditors.add(uri);
      this._noteSecret(e.document.uri);
    }
    if (this.editorSkipReason(e.document)) {
      this._editorUris.delete(uri);
      this._ctx.client.notify(RemoveDocument, { uri });
      return;
    }
    this._typing.fire(e);
    this._ctx.client.notify(ChangeDocument, { uri, languageId: e.document.languageId, version: e.document.version, changes });
  }

  private _closeEditor(doc: vscode.TextDocument): void {
    const uri = doc.uri.toString();
    this._secretEditors.delete(uri);
    if (!this._editorUris.delete(uri)) return;
    // A workspace file stays indexed (its saved content comes back from the watcher); anything else goes.
    if (this._workspaceUris.has(uri)) this._ctx.client.notify(CloseDocument, { uri });
    else this._ctx.client.notify(RemoveDocument, { uri });
  }

  /** Sends everything again (after an engine restart or a settings change). */
  resync(): void {
    if (!this._ctx.client.isRunning) return;
    for (const uri of this._editorUris) this._ctx.client.notify(RemoveDocument, { uri });
    this._editorUris.clear();
    for (const doc of vscode.workspace.textDocuments) this._openEditor(doc);
    this.scanWorkspace();
  }

  /** Adds the workspace files in the background (trusted workspaces only), with progress in the status bar. */
  scanWorkspace(): void {
    this._scan?.cancel();
    if (!vscode.workspace.isTrusted || !vscode.workspace.workspaceFolders?.length || !this._ctx.client.isRunning) {
      this._progress.fire({ done: 0, total: 0 }); // nothing to index: the status bar need not wait
      return;
    }
    const cts = (this._scan = new vscode.CancellationTokenSource());
    // Unknown total while the files are listed: one pending unit keeps the status bar at "indexing 0%".
    this._progress.fire({ done: 0, total: 1 });
    let last = { done: 0, total: 0 };
    void vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: 'Presage: indexing' }, async (progress) => {
      try {
        await this._scanFiles(cts.token, (done, total) => {
          last = { done, total };
          progress.report({ message: `${done}/${total} files` });
          if (this._scan === cts) this._progress.fire(last);
        });
      } catch (err) {
        this._ctx.log.warn(`workspace indexing stopped: ${(err as Error).message}`);
      } finally {
        // Complete (or given up): the status bar stops saying "indexing"; a newer scan reports for itself.
        if (this._scan === cts) {
          this._scan = undefined;
          this._progress.fire({ done: last.total, total: last.total });
        }
        cts.dispose();
      }
    });
  }

  private async _scanFiles(token: vscode.CancellationToken, report: (done: number, total: number) => void): Promise<void> {
    const t0 = Date.now();
    const rootIgnoredFolders: string[] = [];
    // .gitignore files first (findFiles already leaves out files.exclude).
    const gitignores = await vscode.workspace.findFiles('**/.gitignore', undefined, 1000, token);
    for (const uri of gitignores) {
      const rel = this._relative(uri);
      const text = new TextDecoder().decode(await vscode.workspace.fs.readFile(uri));
      const dir = rel.includes('/') ? rel.slice(0, rel.lastIndexOf('/')) : '';
      this._filter.addGitignore(dir, text);
      if (dir === '') rootIgnoredFolders.push(...plainFolderNames(text));
    }
    // Big ignored folders are left out of the search itself, so they cannot use up its result budget.
    const files = await vscode.workspace.findFiles('**/*', searchExclude(rootIgnoredFolders), MAX_WORKSPACE_FILES * 4, token);
    const skipped: Record<string, number> = {};
    const wanted = files.filter((uri) => {
      const reason = this._filter.skipReason(this._relative(uri));
      if (reason === 'secret') this._noteSecret(uri);
      if (reason) skipped[reason] = (skipped[reason] ?? 0) + 1;
      return !reason;
    }).slice(0, MAX_WORKSPACE_FILES);
    let sent = 0;
    for (let i = 0; i < wanted.length; i++) {
      if (token.isCancellationRequested || !this._ctx.client.isRunning) return;
      const reason = await this._sendFile(wanted[i]!);
      if (reason) skipped[reason] = (skipped[reason] ?? 0) + 1;
      else sent++;
      if (i % 25 === 0 || i === wanted.length - 1) {
        report(i + 1, wanted.length);
        await new Promise((r) => setTimeout(r, 0)); // stay out of the way of typing
      }
    }
    this._ctx.log.info(`indexed ${sent} workspace files in ${Date.now() - t0} ms; skipped ${JSON.stringify(skipped)}`);
  }

  /** Reads and sends one workspace file; returns why it was skipped, if it was. */
  private async _sendFile(uri: vscode.Uri): Promise<SkipReason | undefined> {
    const rel = this._relative(uri);
    let stat: vscode.FileStat;
    try {
      stat = await vscode.workspace.fs.stat(uri);
    } catch {
      return 'ignored';
    }
    if (stat.type & vscode.FileType.Directory) return 'ignored';
    const reason = this._filter.skipReason(rel, stat.size);
    if (reason === 'secret') return this._noteSecret(uri);
    if (reason) return reason;
    // A link is judged by where it leads: out of the workspace, or at a secret, it stays out.
    const linked = await this._linkTarget(uri, stat);
    if (linked === 'outside') return 'outside';
    if (linked !== undefined && this._filter.skipReason(linked, stat.size) === 'secret') return this._noteSecret(uri);
    const key = uri.toString();
    if (this._editorUris.has(key)) {
      this._workspaceUris.add(key);
      return undefined; // the editor's live text is already there
    }
    const bytes = await vscode.workspace.fs.readFile(uri);
    if (looksBinary(bytes)) return 'binary';
    const text = new TextDecoder().decode(bytes);
    if (this._filter.isSecretFile(rel, text)) return this._noteSecret(uri);
    this._workspaceUris.add(key);
    this._ctx.client.notify(OpenDocument, { uri: key, version: 0, text, source: 'workspace' });
    return undefined;
  }

  /**
   * Where a symbolic link leads, workspace-relative; 'outside' when it leaves every workspace folder (or cannot be
   * resolved: a remote file system); undefined for a plain file.
   */
  private async _linkTarget(uri: vscode.Uri, stat: vscode.FileStat): Promise<string | 'outside' | undefined> {
    if (uri.scheme !== 'file') return stat.type & vscode.FileType.SymbolicLink ? 'outside' : undefined;
    const real = await fs.promises.realpath(uri.fsPath).catch(() => undefined);
    if (real === undefined) return 'outside';
    if (real === uri.fsPath && !(stat.type & vscode.FileType.SymbolicLink)) return undefined;
    for (const folder of vscode.workspace.workspaceFolders ?? []) {
      const root = realPathSync(folder.uri.fsPath) ?? folder.uri.fsPath;
      const rel = path.relative(root, real);
      if (rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel)) return rel.split(path.sep).join('/');
    }
    return 'outside';
  }

  private async _fileChanged(uri: vscode.Uri): Promise<void> {
    if (!vscode.workspace.isTrusted || !this._ctx.client.isRunning || uri.scheme !== 'file') return;
    if (vscode.workspace.getWorkspaceFolder(uri) === undefined) return;
    const reason = await this._sendFile(uri).catch(() => 'ignored' as const);
    if (reason && this._workspaceUris.delete(uri.toString()) && !this._editorUris.has(uri.toString())) this._ctx.client.notify(RemoveDocument, { uri: uri.toString() });
  }

  private _fileDeleted(uri: vscode.Uri): void {
    const key = uri.toString();
    if (this._workspaceUris.delete(key) && !this._editorUris.has(key)) this._ctx.client.notify(RemoveDocument, { uri: key });
  }

  /** Opens a read-only document that lists what the engine has indexed. */
  async showIndex(): Promise<string> {
    const { uris } = await this._ctx.client.request0(IndexedDocuments);
    const lines = uris.map((u) => {
      const uri = vscode.Uri.parse(u);
      return uri.scheme === 'file' ? this._relative(uri) : u;
    });
    const secrets = [...new Set(this._skippedSecrets.values())].sort().map((p) => `skipped: secret  ${p}`);
    this._indexText = [`Presage indexed documents: ${uris.length}`, '', ...lines.sort(), '', `Not indexed: ${secrets.length}`, '', ...secrets, ''].join('\n');
    const doc = vscode.Uri.from({ scheme: INDEX_SCHEME, path: '/Indexed Files' });
    this._indexDoc.fire(doc);
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(doc), { preview: true });
    return this._indexText;
  }

  dispose(): void {
    this._scan?.cancel();
    for (const d of this._disposables.splice(0)) d.dispose();
  }
}

function realPathSync(p: string): string | undefined {
  try {
    return fs.realpathSync(p);
  } catch {
    return undefined;
  }
}
