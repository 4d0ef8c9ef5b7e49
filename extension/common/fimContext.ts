// The text around the cursor that a completion request carries: a prefix and a suffix, each capped at whole lines.

export interface FimContextOptions {
  maxPrefixChars: number;
  maxSuffixChars: number;
}

export const DEFAULT_FIM_CONTEXT: FimContextOptions = { maxPrefixChars: 8000, maxSuffixChars: 2000 };

export interface FimContext {
  prefix: string;
  suffix: string;
  /** Offset in the document where the prefix starts. */
  prefixStart: number;
}

export function extractFimContext(text: string, offset: number, options: FimContextOptions = DEFAULT_FIM_CONTEXT): FimContext {
  if (!Number.isInteger(offset) || offset < 0 || offset > text.length) throw new RangeError(`cursor offset ${offset} is outside the document (0..${text.length})`);
  let start = 0;
  if (offset > options.maxPrefixChars) {
    const from = offset - options.maxPrefixChars;
    const nl = text.indexOf('\n', from - 1);
    // Start on a whole line when one fits, else take the last characters.
    start = nl >= 0 && nl < offset ? nl + 1 : from;
  }
  let end = text.length;
  if (text.length - offset > options.maxSuffixChars) {
    const to = offset + options.maxSuffixChars;
    const nl = text.lastIndexOf('\n', to);
    end = nl > offset ? nl : to;
  }
  return { prefix: text.slice(start, offset), suffix: text.slice(offset, end), prefixStart: start };
}

/** Whether asking for a completion here makes sense: not in the middle of a word. */
export function worthCompleting(prefix: string, suffix: string): boolean {
  const next = suffix.charAt(0);
  if (/[\p{L}\p{N}_$]/u.test(next)) return false;
  return prefix.length + suffix.length > 0;
}

/** A single-line completion that ends with the rest of the cursor line would duplicate it: drop that ending. */
export function trimOverlapWithLine(completion: string, restOfLine: string): string {
  const rest = restOfLine.trimEnd();
  if (rest.length === 0 || completion.includes('\n') || !completion.endsWith(rest)) return completion;
  return completion.slice(0, completion.length - rest.length);
}
