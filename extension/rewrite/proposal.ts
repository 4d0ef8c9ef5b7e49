// What the editor shows for a rewrite proposal: which proposal lines are new, and where the removed
// original lines are displayed as ghosts. Pure: no vscode import.
import { diffLines, splitLines } from './lineDiff';

export interface RemovedBlock {
  /** Proposal line (0-based, relative to the proposal's first line) the ghost text is attached to. */
  anchorLine: number;
  /** 'before': the removed lines stood above the anchor line; 'after': below it (end of the proposal). */
  placement: 'before' | 'after';
  lines: string[];
}

export interface ProposalLayout {
  /** Proposal lines (0-based, relative) that are new or changed. */
  insertedLines: number[];
  removed: RemovedBlock[];
  /** Number of lines of the proposal. */
  lineCount: number;
  unchanged: boolean;
}

export function layoutProposal(original: string, proposal: string): ProposalLayout {
  const oldLines = splitLines(original);
  const newLines = splitLines(proposal);
  const ops = diffLines(oldLines, newLines);
  const insertedLines: number[] = [];
  const removed: RemovedBlock[] = [];
  let pending: string[] = [];
  let nextNewLine = 0;
  const flushBefore = (anchor: number): void => {
    if (pending.length === 0) return;
    removed.push({ anchorLine: anchor, placement: 'before', lines: pending });
    pending = [];
  };
  for (const op of ops) {
    if (op.kind === 'delete') {
      pending.push(op.line);
      continue;
    }
    flushBefore(op.newIndex);
    if (op.kind === 'insert') insertedLines.push(op.newIndex);
    nextNewLine = op.newIndex + 1;
  }
  if (pending.length > 0) {
    // Removed at the very end: shown after the last proposal line (or on line 0 when it is empty).
    removed.push({ anchorLine: Math.max(0, Math.min(nextNewLine, newLines.length) - 1), placement: 'after', lines: pending });
  }
  return { insertedLines, removed, lineCount: newLines.length, unchanged: insertedLines.length === 0 && removed.length === 0 };
}

/**
 * Cleans model output into replacement text for the selection: drops a wrapping code fence, and keeps the
 * selection's trailing newline. `final` false is for streamed partial text (an unfinished fence line is held back).
 */
export function cleanRewriteOutput(output: string, selection: string, final: boolean): string {
  let text = output.replace(/\r\n/g, '\n');
  // An opening fence line (``` or ~~~ with an optional language) at the very start.
  const open = /^\s*(```|~~~)[^\n`]*(\n|$)/.exec(text);
  if (open) {
    if (!open[2] && !final) return '';
    text = text.slice(open[0].length);
    const close = text.indexOf(`\n${open[1]}`);
    if (close >= 0) text = text.slice(0, close + 1);
    else if (text.startsWith(open[1]!)) text = '';
  }
  if (!final) {
    // Hold back a trailing partial fence so it never flashes in the editor.
    const tail = /(^|\n)(`{1,3}|~{1,3})$/.exec(text);
    if (tail) text = text.slice(0, tail.index + tail[1]!.length);
  }
  if (final) {
    const wantsNewline = /\r?\n$/.test(selection);
    if (wantsNewline && !text.endsWith('\n')) text += '\n';
    if (!wantsNewline && text.endsWith('\n')) text = text.replace(/\n+$/, '');
  }
  if (selection.includes('\r\n')) text = text.replace(/\n/g, '\r\n');
  return text;
}
