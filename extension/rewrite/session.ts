// One rewrite proposal living in a document: edits the proposal in (one undo step), shows the line diff as
// decorations, follows edits around it, and restores the original text on reject.
import * as vscode from 'vscode';
import { layoutProposal } from './proposal';
import { TrackedRange } from './trackedRange';

export type SessionState = 'streaming' | 'review' | 'ended';

export interface DiffDecorationTypes {
  inserted: vscode.TextEditorDecorationType;
  removed: vscode.TextEditorDecorationType;
  pending: vscode.TextEditorDecorationType;
}

export function createDecorationTypes(): DiffDecorationTypes {
  return {
    inserted: vscode.window.createTextEditorDecorationType({
      isWholeLine: true,
      backgroundColor: new vscode.ThemeColor('diffEditor.insertedLineBackground'),
      overviewRulerColor: new vscode.ThemeColor('editorOverviewRuler.addedForeground'),
      overviewRulerLane: vscode.OverviewRulerLane.Left,
    }),
    removed: vscode.window.createTextEditorDecorationType({
      after: {
        color: new vscode.ThemeColor('editorGhostText.foreground'),
        backgroundColor: new vscode.ThemeColor('diffEditor.removedTextBackground'),
        textDecoration: 'line-through',
        margin: '0 0 0 2em',
      },
      overviewRulerColor: new vscode.ThemeColor('editorOverviewRuler.deletedForeground'),
      overviewRulerLane: vscode.OverviewRulerLane.Left,
    }),
    // The original text while the new one streams in above it.
    pending: vscode.window.createTextEditorDecorationType({ isWholeLine: true, opacity: '0.45', textDecoration: 'line-through' }),
  };
}

const MAX_GHOST_CHARS = 160;

export class RewriteSession {
  state: SessionState = 'streaming';
  /** The proposal (or, while streaming, the streamed lines followed by the original). */
  readonly range: TrackedRange;
  private shown: string;
  private streamedLines = 0;
  private streamed = '';
  private editing = 0;
  private firstEdit = true;
  private queue: Promise<void> = Promise.resolve();

  constructor(
    readonly document: vscode.TextDocument,
    readonly original: string,
    start: number,
    private readonly types: DiffDecorationTypes,
  ) {
    this.range = new TrackedRange(start, original.length);
    this.shown = original;
  }

  get text(): string {
    return this.shown;
  }

  startLine(): number {
    return this.document.positionAt(this.range.start).line;
  }

  /** Our own edits are in flight: change events for the document are ours. */
  get isEditing(): boolean {
    return this.editing > 0;
  }

  /**
   * Shows streamed text: the complete lines received so far, then the original still to be replaced. Only whole
   * lines: fewer edits keep the editor calm (and its CodeLens visible) while the answer streams.
   */
  showStreaming(partial: string): Promise<void> {
    const complete = partial.slice(0, partial.lastIndexOf('\n') + 1);
    if (complete === this.streamed) return this.queue;
    this.streamed = complete;
    this.streamedLines = complete.split('\n').length - 1;
    return this.replace(complete + this.original, false);
  }

  /** Shows the final proposal with its diff decorations. */
  async showProposal(proposal: string): Promise<void> {
    await this.replace(proposal, true);
    this.state = 'review';
    this.decorate();
  }

  /** Puts the original text back exactly. */
  restore(): Promise<void> {
    return this.replace(this.original, true);
  }

  private replace(text: string, last: boolean): Promise<void> {
    const run = async (): Promise<void> => {
      if (this.document.isClosed) return;
      const range = new vscode.Range(this.document.positionAt(this.range.start), this.document.positionAt(this.range.end));
      const editor = vscode.window.visibleTextEditors.find((e) => e.document === this.document);
      this.editing++;
      try {
        let ok: boolean;
        if (editor) {
          // No undo stops between the streamed edits: the whole rewrite is one undo step.
          ok = await editor.edit((b) => b.replace(range, text), { undoStopBefore: this.firstEdit, undoStopAfter: last });
        } else {
          const edit = new vscode.WorkspaceEdit();
          edit.replace(this.document.uri, range, text);
          ok = await vscode.workspace.applyEdit(edit);
        }
        if (!ok) throw new Error('the editor refused the edit');
        this.firstEdit = false;
        this.range.length = text.length;
        this.shown = text;
      } finally {
        this.editing--;
      }
      if (this.state === 'streaming') this.decorateStreaming();
    };
    this.queue = this.queue.then(run, run);
    return this.queue;
  }

  private editors(): vscode.TextEditor[] {
    return vscode.window.visibleTextEditors.filter((e) => e.document === this.document);
  }

  private decorateStreaming(): void {
    const startLine = this.startLine();
    const streamedLines = this.streamedLines;
    const endLine = this.document.positionAt(this.range.end).line;
    const inserted: vscode.Range[] = [];
    for (let i = 0; i < streamedLines; i++) inserted.push(new vscode.Range(startLine + i, 0, startLine + i, 0));
    const pending = new vscode.Range(startLine + streamedLines, 0, Math.max(startLine + streamedLines, endLine), 0);
    for (const editor of this.editors()) {
      editor.setDecorations(this.types.inserted, inserted);
      editor.setDecorations(this.types.pending, [pending]);
      editor.setDecorations(this.types.removed, []);
    }
  }

  /** (Re)applies the diff decorations to every editor showing the document. */
  decorate(): void {
    if (this.state === 'streaming') return this.decorateStreaming();
    if (this.state !== 'review') return this.clearDecorations();
    const layout = layoutProposal(this.original, this.shown);
    const startLine = this.startLine();
    const inserted = layout.insertedLines.map((l) => new vscode.Range(startLine + l, 0, startLine + l, 0));
    const removed: vscode.DecorationOptions[] = layout.removed.map((block) => {
      const line = Math.min(startLine + block.anchorLine, this.document.lineCount - 1);
      const end = this.document.lineAt(line).range.end;
      const summary = block.lines.map((l) => l.trim()).join(' ⏎ ');
      const hover = new vscode.MarkdownString();
      hover.appendMarkdown(`**Removed by the rewrite** (${block.placement === 'before' ? 'above this line' : 'below this line'}):`);
      hover.appendCodeblock(block.lines.join('\n'), this.document.languageId);
      return {
        range: new vscode.Range(end, end),
        hoverMessage: hover,
        renderOptions: { after: { contentText: `− ${summary.length > MAX_GHOST_CHARS ? `${summary.slice(0, MAX_GHOST_CHARS)}…` : summary}` } },
      };
    });
    for (const editor of this.editors()) {
      editor.setDecorations(this.types.inserted, inserted);
      editor.setDecorations(this.types.removed, removed);
      editor.setDecorations(this.types.pending, []);
    }
  }

  clearDecorations(): void {
    for (const editor of this.editors()) {
      editor.setDecorations(this.types.inserted, []);
      editor.setDecorations(this.types.removed, []);
      editor.setDecorations(this.types.pending, []);
    }
  }

  /** Waits for queued edits. */
  settled(): Promise<void> {
    return this.queue;
  }
}
