// Suffix overlap: the code after the cursor is already in the file, so a completion that writes it again would
// duplicate it when accepted (a closing `}` or `)` the editor already has, the next line of a function).
import { cursorLine, type CursorContext, type StopRule } from './types';

/** The first non-blank line of the text after the cursor's line, trimmed. */
function nextCodeLine(suffix: string): string | undefined {
  const nl = suffix.indexOf('\n');
  if (nl < 0) return undefined;
  for (const line of suffix.slice(nl + 1).split('\n')) if (line.trim() !== '') return line.trim();
  return undefined;
}

/**
 * Stop rule: cut before a finished completion line (not the first) that equals the next line of code after the
 * cursor. Once generation ends, also drop a first line's ending that repeats the rest of the cursor line.
 */
export function suffixOverlapRule(ctx: Pick<CursorContext, 'prefix' | 'suffix'>): StopRule {
  const next = nextCodeLine(ctx.suffix);
  const rest = cursorLine(ctx).after.trim();
  return (text, final) => {
    if (next !== undefined) {
      let start = text.indexOf('\n') + 1;
      while (start > 0) {
        const end = text.indexOf('\n', start);
        if (end < 0 && !final) break;
        const line = text.slice(start, end < 0 ? text.length : end);
        if (line.trim() === next) return start - 1;
        start = end + 1;
      }
    }
    if (final && rest !== '' && !text.includes('\n')) {
      const body = text.trimEnd();
      if (body.endsWith(rest) && body.length > rest.length) return body.length - rest.length;
    }
    return -1;
  };
}
