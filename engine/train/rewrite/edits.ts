// Text and list edits shared by the rewrite generators (Go, Rust; Python for the line helpers): edits at absolute source offsets applied to a
// selection, line and indentation lookups, and appending to a parenthesised list without changing its layout.
import type { Node } from 'web-tree-sitter';
import type { Rng } from './types';

export interface Edit {
  start: number;
  end: number;
  text: string;
}

export interface Selection {
  start: number;
  end: number;
  text: string;
}

/** The selection's text with edits (absolute source offsets inside it) applied. */
export function edited(selection: Selection, edits: readonly Edit[]): string {
  let out = selection.text;
  for (const e of [...edits].sort((a, b) => b.start - a.start)) {
    out = out.slice(0, e.start - selection.start) + e.text + out.slice(e.end - selection.start);
  }
  return out;
}

export function occurrences(haystack: string, needle: string): number {
  let count = 0;
  for (let i = haystack.indexOf(needle); i >= 0; i = haystack.indexOf(needle, i + 1)) count++;
  return count;
}

export function shuffled<T>(items: readonly T[], rng: Rng): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

export function lineStart(source: string, index: number): number {
  return source.lastIndexOf('\n', index - 1) + 1;
}

export function lineEnd(source: string, index: number): number {
  const nl = source.indexOf('\n', index);
  return nl < 0 ? source.length : nl;
}

export function indentationAt(source: string, index: number): string {
  const start = lineStart(source, index);
  return /^[ \t]*/.exec(source.slice(start, lineEnd(source, start)))![0];
}

/** Comment nodes of the C-family grammars (Go's `comment`, Rust's line and block comments). */
export function isComment(node: Node): boolean {
  return node.type === 'comment' || node.type === 'line_comment' || node.type === 'block_comment';
}

/** Ordinal string order, the order the sort-imports outputs use. */
export function ordinal(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Appends an item to a parenthesised list (parameters or arguments), keeping its layout: `()` → `(x)`,
 * `(a)` → `(a, x)`, and a multi-line list with a trailing comma gets the item on a line of its own.
 * Undefined when the layout is one we cannot extend canonically, or the last item's type is in `unextendable`.
 */
export function appendToList(source: string, list: Node, item: string, unextendable: ReadonlySet<string> = new Set()): Edit | undefined {
  const children = list.children.filter((c): c is Node => c !== null);
  const open = children[0];
  const close = children[children.length - 1];
  if (open?.type !== '(' || close?.type !== ')') return undefined;
  const items = children.filter((c) => c.isNamed && !isComment(c));
  const last = items[items.length - 1];
  if (!last) {
    if (close.startIndex !== open.endIndex) return undefined;
    return { start: close.startIndex, end: close.startIndex, text: item };
  }
  if (unextendable.has(last.type)) return undefined;
  const after = children[children.indexOf(last) + 1];
  if (after?.type === ',') {
    if (close.startPosition.row > last.endPosition.row) {
      const indent = indentationAt(source, last.startIndex);
      return { start: after.endIndex, end: after.endIndex, text: `\n${indent}${item},` };
    }
    return { start: after.endIndex, end: after.endIndex, text: ` ${item},` };
  }
  return { start: last.endIndex, end: last.endIndex, text: `, ${item}` };
}
