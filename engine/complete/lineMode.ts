// Single-line or multi-line, from the cursor's context (as Copilot decides): a block is offered only where one is
// expected to start, i.e. on an empty line after a block opener or right after an opener at the end of a line.
// Everywhere else the suggestion ends with the cursor's line.
import { cursorLine, type CursorContext, type StopRule } from './types';

export type LineMode = 'single' | 'multi';

/** A line that opens a block: `{`, `(`, `[`, Python's `:`, `=>`, Ruby/shell `do`/`then`. */
const OPENER = /(?:[{([:]|=>|\bdo|\bthen)\s*$/;

export function lineMode(ctx: Pick<CursorContext, 'prefix' | 'suffix'>): LineMode {
  const { before, after } = cursorLine(ctx);
  if (after.trim() !== '') return 'single';
  if (before.trim() !== '') return OPENER.test(before) ? 'multi' : 'single';
  const above = ctx.prefix.slice(0, ctx.prefix.length - before.length).split('\n');
  for (let i = above.length - 1; i >= 0; i--) {
    const line = above[i]!;
    if (line.trim() !== '') return OPENER.test(line) && !line.trimStart().startsWith('//') && !line.trimStart().startsWith('#') ? 'multi' : 'single';
  }
  return 'single';
}

/** In single-line mode the completion ends at its first line break. */
export function lineModeRule(ctx: Pick<CursorContext, 'prefix' | 'suffix'>): StopRule | undefined {
  if (lineMode(ctx) === 'multi') return undefined;
  return (text) => text.indexOf('\n');
}
