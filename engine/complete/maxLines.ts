// A bound on the lines of one suggestion: past it, ghost text is more to read than to accept.
import type { StopRule } from './types';

export const DEFAULT_MAX_LINES = 10;

/** Cuts before the line break that would start line `maxLines + 1`. */
export function maxLinesCut(text: string, maxLines = DEFAULT_MAX_LINES): number {
  let at = -1;
  for (let line = 0; line < maxLines; line++) {
    at = text.indexOf('\n', at + 1);
    if (at < 0) return -1;
  }
  return at;
}

export function maxLinesRule(maxLines = DEFAULT_MAX_LINES): StopRule {
  return (text) => maxLinesCut(text, maxLines);
}
