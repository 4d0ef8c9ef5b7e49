// "Presage: Rewrite Selection": asks for an instruction, streams the engine's rewrite into the editor (the
// selection is the draft source), shows the line diff, and lets the user Accept or Reject (CodeLens, commands).
import * as vscode from 'vscode';
import { RecordAcceptance, Rewrite } from '../../engine/protocol';
import type { SurfaceCtx } from '../api';
import { cleanRewriteOutput } from './proposal';
import { createDecorationTypes, RewriteSession, type DiffDecorationTypes } from './session';
import { TrackedRange } from './trackedRange';

/** The model the engine has loaded (extension/model/setup.ts): the demo model is labelled where its output shows. */
export interface ModelInfo {
  readonly current: { label: string; demo?: boolean } | undefined;
}

const PENDING_KEY = 'presage.rewritePending';
const RUNNING_KEY = 'presage.rewriteRunning';
const CONTEXT_CHARS = 2000;
const STREAM_REPAINT_MS = 80;

class RewriteController implements vscode.CodeLensProvider, vscode.Disposable {
  private readonly sessions = new Map<string, { session: RewriteSession; cts: vscode.CancellationTokenSource }>();
  private readonly types: DiffDecorationTypes = createDecorationTypes();
  private readonly lensesChanged = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.lensesChanged.event;
  private readonly disposables: vscode.Disposable[] = [];
  /**
   * Rejected proposals per document: where the original was put back, and the proposal's text. The undo stack still
   * holds the proposal and its restore; an undo or redo that brings the proposal back is stepped over at once.
   */
  private readonly rejected = new Map<string, { range: TrackedRange; proposal: string; original: string }>();

  constructor(private readonly ctx: SurfaceCtx, private readonly model?: ModelInfo) {
    this.disposables.push(
      this.lensesChanged,
      this.types.inserted,
      this.types.removed,
      this.types.pending,
      vscode.workspace.onDidChangeTextDocument((e) => this.onDocumentChanged(e)),
      vscode.workspace.onDidCloseTextDocument((doc) => {
        this.rejected.delete(doc.uri.toString());
        this.end(doc.uri.toString(), 'closed');
      }),
      vscode.window.onDidChangeVisibleTextEditors(() => this.sessions.forEach(({ session }) => session.decorate())),
      vscode.window.onDidChangeActiveTextEditor(() => this.updateContextKeys()),
    );
  }

  private key(doc: vscode.TextDocument): string {
    return doc.uri.toString();
  }

  /** The session the user means: the active editor's, else the most recent one. */
  private target(uri?: unknown): { session: RewriteSession; cts: vscode.CancellationTokenSource } | undefined {
    if (uri instanceof vscode.Uri) return this.sessions.get(uri.toString());
    if (typeof uri === 'string') return this.sessions.get(uri);
    const active = vscode.window.activeTextEditor;
    if (active) {
      const own = this.sessions.get(this.key(active.document));
      if (own) return own;
    }
    return [...this.sessions.values()].at(-1);
  }

  private updateContextKeys(): void {
    const all = [...this.sessions.values()].map((s) => s.session.state);
    void vscode.commands.executeCommand('setContext', PENDING_KEY, all.includes('review'));
    void vscode.commands.executeCommand('setContext', RUNNING_KEY, all.includes('streaming'));
    this.lensesChanged.fire();
  }

  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    const entry = this.sessions.get(this.key(document));
    if (!entry || entry.session.state === 'ended') return [];
    const line = entry.session.startLine();
    const at = new vscode.Range(line, 0, line, 0);
    const uri = document.uri;
    if (entry.session.state === 'streaming') {
      return [new vscode.CodeLens(at, { title: 'Rewriting…', command: '' }), new vscode.CodeLens(at, { title: 'Cancel', command: 'presage.rejectRewrite', arguments: [uri] })];
    }
    return [
      new vscode.CodeLens(at, { title: 'Accept', command: 'presage.acceptRewrite', arguments: [uri], tooltip: 'Keep the rewritten code' }),
      new vscode.CodeLens(at, { title: 'Reject', command: 'presage.rejectRewrite', arguments: [uri], tooltip: 'Restore the original code' }),
    ];
  }

  private onDocumentChanged(e: vscode.TextDocumentChangeEvent): void {
    this.guardRejected(e);
    const entry = this.sessions.get(this.key(e.document));
    if (!entry || entry.session.isEditing || e.contentChanges.length === 0) return;
    const result = entry.session.range.apply(e.contentChanges);
    if (result === 'overlap') {
      // The user edited the proposal itself: it is theirs now.
      this.ctx.log.info('rewrite: the proposal was edited; keeping the text as it is');
      this.end(this.key(e.document), 'edited');
    } else if (result === 'shifted') {
      entry.session.decorate();
      this.lensesChanged.fire();
    }
  }

  /**
   * Undo never brings back a rejected proposal: the undo stack holds the proposal's edit and the restore after it,
   * so an undo (or redo) that puts the proposal's text back is followed at once by one more in the same direction.
   */
  private guardRejected(e: vscode.TextDocumentChangeEvent): void {
    const key = this.key(e.document);
    const tomb = this.rejected.get(key);
    if (!tomb || e.contentChanges.length === 0) return;
    const { range } = tomb;
    const history = e.reason === vscode.TextDocumentChangeReason.Undo ? 'undo' : e.reason === vscode.TextDocumentChangeReason.Redo ? 'redo' : undefined;
    const touches = e.contentChanges.some((c) => c.rangeOffset <= range.end && c.rangeOffset + c.rangeLength >= range.start);
    if (history && touches) {
      const text = e.document.getText();
      if (text.startsWith(tomb.proposal, range.start)) {
        range.length = tomb.proposal.length;
        this.ctx.log.info(`rewrite: ${history} brought back a rejected proposal; stepping over it`);
        // After this change event, in the editor the user is undoing in.
        setTimeout(() => void vscode.commands.executeCommand(history), 0);
        return;
      }
      if (text.startsWith(tomb.original, range.start)) {
        range.length = tomb.original.length;
        return;
      }
    }
    // Anything else inside the region makes its history the user's own.
    if (range.apply(e.contentChanges) === 'overlap') this.rejected.delete(key);
  }

  private end(key: string, why: 'accepted' | 'rejected' | 'closed' | 'edited' | 'failed'): void {
    const entry = this.sessions.get(key);
    if (!entry) return;
    this.sessions.delete(key);
    if (entry.session.state === 'streaming') entry.cts.cancel();
    entry.session.state = 'ended';
    entry.session.clearDecorations();
    this.ctx.log.info(`rewrite: ${why}`);
    this.updateContextKeys();
  }

  async rewriteSelection(): Promise<void> {
    const editor = vscode.window.activeTextEditor;
    if (!editor) {
      void vscode.window.showInformationMessage('Presage: open a file and select the code to rewrite.');
      return;
    }
    if (editor.selection.isEmpty && !(await selectionArrives(editor))) {
      this.ctx.log.info(`rewrite: no selection in ${editor.document.uri.toString()} at ${editor.selection.active.line}:${editor.selection.active.character}`);
      void vscode.window.showInformationMessage('Presage: select the code to rewrite first.');
      return;
    }
    const existing = this.sessions.get(this.key(editor.document));
    if (existing) {
      this.ctx.log.info('rewrite: a proposal is already pending in this file');
      const choice = await vscode.window.showWarningMessage('Presage: this file already has a rewrite proposal. Accept or reject it first.', 'Accept', 'Reject');
      if (choice === 'Accept') this.accept(editor.document.uri);
      else if (choice === 'Reject') await this.reject(editor.document.uri);
      return;
    }
    if (!this.engineUsable()) return;
    // The selection is taken now; edits while the instruction is typed move it, or cancel if they touch it.
    const doc = editor.document;
    const original = doc.getText(editor.selection);
    const tracked = new TrackedRange(doc.offsetAt(editor.selection.start), original.length);
    let touched = false;
    const watch = vscode.workspace.onDidChangeTextDocument((e) => {
      if (e.document === doc && e.contentChanges.length > 0 && tracked.apply(e.contentChanges) === 'overlap') touched = true;
    });
    let instruction: string | undefined;
    try {
      instruction = await vscode.window.showInputBox({
        title: 'Presage: Rewrite Selection',
        prompt: this.model?.current?.demo
          ? 'How should the selected code change? Demo model: it shows the mechanics only and does not follow instructions; run "Presage: Select Model" for a real one.'
          : 'How should the selected code change?',
        placeHolder: 'e.g. use Math.hypot, add error handling, convert to async/await',
        ignoreFocusOut: true,
        validateInput: (v) => (v.trim() === '' ? 'Describe the change' : undefined),
      });
    } finally {
      watch.dispose();
    }
    if (!instruction?.trim()) return;
    if (touched || doc.isClosed) {
      void vscode.window.showWarningMessage('Presage: the selected code changed while the instruction was typed; select it again.');
      return;
    }
    if (this.sessions.has(this.key(doc))) return;
    const startOffset = tracked.start;
    const endOffset = tracked.end;
    const selection = new vscode.Selection(doc.positionAt(startOffset), doc.positionAt(endOffset));
    this.ctx.log.info(`rewrite: lines ${selection.start.line + 1}-${selection.end.line + 1} of ${vscode.workspace.asRelativePath(doc.uri, false)}: ${JSON.stringify(instruction.trim()).slice(0, 200)}`);
    const full = doc.getText();
    this.rejected.delete(this.key(doc)); // one rewrite's history at a time: the newest
    const session = new RewriteSession(doc, original, startOffset, this.types);
    const cts = new vscode.CancellationTokenSource();
    this.sessions.set(this.key(doc), { session, cts });
    this.updateContextKeys();
    const shown = vscode.window.visibleTextEditors.find((e) => e.document === doc);
    if (shown) shown.selection = new vscode.Selection(selection.start, selection.start);
    const requestId = this.ctx.nextRequestId('rewrite');
    await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'Presage: rewriting the selection', cancellable: true },
      async (progress, progressToken) => {
        const cancelOnProgress = progressToken.onCancellationRequested(() => cts.cancel());
        let raw = '';
        let repaint: ReturnType<typeof setTimeout> | undefined;
        const partials = this.ctx.client.onPartial(requestId, (delta) => {
          raw += delta;
          if (repaint === undefined) {
            repaint = setTimeout(() => {
              repaint = undefined;
              if (session.state !== 'streaming' || cts.token.isCancellationRequested) return;
              const lines = raw.split('\n').length - 1;
              progress.report({ message: lines > 0 ? `${lines} line${lines === 1 ? '' : 's'} so far` : `${raw.length} characters so far` });
              session.showStreaming(cleanRewriteOutput(raw, original, false)).catch((error) => this.ctx.log.warn(`rewrite: preview edit failed: ${String(error)}`));
            }, STREAM_REPAINT_MS);
          }
        });
        try {
          // Reject and Esc restore at once, without waiting for the engine to acknowledge the cancellation.
          const cancelled = new Promise<never>((_, reject) => {
            const sub = cts.token.onCancellationRequested(() => {
              sub.dispose();
              reject(new vscode.CancellationError());
            });
          });
          const request = this.ctx.client.request(
            Rewrite,
            {
              requestId,
              uri: doc.uri.toString(),
              language: doc.languageId,
              instruction: instruction.trim(),
              selection: original,
              prefix: full.slice(Math.max(0, startOffset - CONTEXT_CHARS), startOffset),
              suffix: full.slice(endOffset, endOffset + CONTEXT_CHARS),
            },
            cts.token,
          );
          request.catch(() => {}); // settled through the race below
          cancelled.catch(() => {});
          const result = await Promise.race([request, cancelled]);
          if (repaint !== undefined) clearTimeout(repaint);
          if (session.state !== 'streaming') return; // ended meanwhile (edited, closed)
          if (cts.token.isCancellationRequested || result.finishReason === 'cancelled') {
            await this.restoreAndEnd(session, 'rejected');
            return;
          }
          const proposal = cleanRewriteOutput(result.text || raw, original, true);
          if (proposal === original) {
            await this.restoreAndEnd(session, 'rejected');
            void vscode.window.showInformationMessage('Presage: the rewrite left the selection unchanged.');
            return;
          }
          await session.showProposal(proposal);
          this.ctx.log.info(`rewrite: proposal of ${proposal.length} chars shown (${result.finishReason}, ${result.metrics?.tokens ?? '?'} tokens, MAT ${result.metrics?.mat?.toFixed?.(2) ?? '?'})`);
          this.updateContextKeys();
        } catch (error) {
          if (repaint !== undefined) clearTimeout(repaint);
          const cancelled = cts.token.isCancellationRequested;
          if (session.state === 'streaming') await this.restoreAndEnd(session, cancelled ? 'rejected' : 'failed');
          if (!cancelled) {
            const message = error instanceof Error ? error.message : String(error);
            this.ctx.log.error(`rewrite: ${message}`);
            void vscode.window.showErrorMessage(`Presage: the rewrite failed: ${message}`);
          }
        } finally {
          partials.dispose();
          cancelOnProgress.dispose();
        }
      },
    );
  }

  /** Says why no rewrite can run now; true when the engine can take one. */
  private engineUsable(): boolean {
    const state = this.ctx.client.state;
    if (state === 'no-model') {
      void vscode.window.showErrorMessage('Presage: no model is loaded, so nothing can rewrite the selection. Set "presage.model" or pick one.', 'Select Model').then((c) => {
        if (c) void vscode.commands.executeCommand('presage.selectModel');
      });
      return false;
    }
    if (state === 'error') {
      void vscode.window.showErrorMessage('Presage: the engine is not running.', 'Restart Engine').then((c) => {
        if (c) void vscode.commands.executeCommand('presage.restartEngine');
      });
      return false;
    }
    if (state === 'starting' || state === 'loading') {
      void vscode.window.showInformationMessage('Presage: the model is still loading; try again in a moment.');
      return false;
    }
    return true;
  }

  private async restoreAndEnd(session: RewriteSession, why: 'rejected' | 'failed'): Promise<void> {
    const key = this.key(session.document);
    try {
      await session.settled().catch(() => {});
      const shown = session.text;
      await session.restore();
      if (shown !== session.original) this.rejected.set(key, { range: new TrackedRange(session.range.start, session.original.length), proposal: shown, original: session.original });
    } catch (error) {
      this.ctx.log.error(`rewrite: could not restore the original text: ${String(error)}`);
      void vscode.window.showErrorMessage('Presage: could not restore the original text; use Undo.');
    }
    if (this.sessions.get(key)?.session === session) this.end(key, why);
  }

  accept(uri?: unknown): void {
    this.ctx.log.info(`rewrite: accept requested${uri === undefined ? '' : ` for ${String(uri)}`}`);
    const entry = this.target(uri);
    if (!entry) {
      void vscode.window.showInformationMessage('Presage: there is no rewrite to accept.');
      return;
    }
    if (entry.session.state !== 'review') {
      void vscode.window.showInformationMessage('Presage: the rewrite is still running.');
      return;
    }
    const { session } = entry;
    try {
      this.ctx.client.notify(RecordAcceptance, { uri: session.document.uri.toString(), language: session.document.languageId, text: session.text });
    } catch (error) {
      this.ctx.log.warn(`rewrite: could not record the acceptance: ${String(error)}`);
    }
    this.end(this.key(session.document), 'accepted');
  }

  async reject(uri?: unknown): Promise<void> {
    this.ctx.log.info(`rewrite: reject requested${uri === undefined ? '' : ` for ${String(uri)}`}`);
    const entry = this.target(uri);
    if (!entry) {
      void vscode.window.showInformationMessage('Presage: there is no rewrite to reject.');
      return;
    }
    if (entry.session.state === 'streaming') {
      // The request's handler restores the original once the engine stops.
      entry.cts.cancel();
      return;
    }
    await this.restoreAndEnd(entry.session, 'rejected');
  }

  dispose(): void {
    for (const key of [...this.sessions.keys()]) this.end(key, 'closed');
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}

/** Selection changes reach the extension host asynchronously: give a just-made selection a moment to arrive. */
function selectionArrives(editor: vscode.TextEditor, waitMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const done = (value: boolean): void => {
      clearTimeout(timer);
      sub.dispose();
      resolve(value);
    };
    const sub = vscode.window.onDidChangeTextEditorSelection((e) => {
      if (e.textEditor === editor && !editor.selection.isEmpty) done(true);
    });
    const timer = setTimeout(() => done(!editor.selection.isEmpty), waitMs);
  });
}

export function registerRewrite(ctx: SurfaceCtx, model?: ModelInfo): void {
  const controller = new RewriteController(ctx, model);
  ctx.pushCleanup(controller);
  ctx.pushCleanup(vscode.languages.registerCodeLensProvider('*', controller));
  ctx.pushCleanup(vscode.commands.registerCommand('presage.rewriteSelection', () => controller.rewriteSelection()));
  ctx.pushCleanup(vscode.commands.registerCommand('presage.acceptRewrite', (uri?: unknown) => controller.accept(uri)));
  ctx.pushCleanup(vscode.commands.registerCommand('presage.rejectRewrite', (uri?: unknown) => controller.reject(uri)));
}
