// Parse damage: a suggestion that leaves the file parsing worse than it does without it (more tree-sitter errors
// or missing nodes) is dropped, where the language has a grammar. Judged once, on the finished suggestion.
import { parserFor } from '../syntax/blockEnd';

/** The parse looks at this much text around the cursor (whole lines where possible). */
const WINDOW_CHARS = 20_000;

/**
 * ERROR and MISSING nodes in a parse of `text` (undefined without a grammar); `inSpan` counts those that touch
 * [spanStart, spanEnd) (a MISSING node at spanEnd, e.g. a block the truncated file never closes, does not).
 */
export async function parseErrors(language: string, text: string, spanStart = 0, spanEnd = 0): Promise<{ count: number; inSpan: number } | undefined> {
  const parser = await parserFor(language).catch(() => undefined);
  const tree = parser?.parse(text);
  if (!tree) return undefined;
  try {
    let count = 0;
    let inSpan = 0;
    const cursor = tree.walk();
    for (let more = true; more;) {
      const node = cursor.currentNode;
      if (node.isError || node.isMissing) {
        count++;
        if (node.isMissing ? node.startIndex >= spanStart && node.startIndex < spanEnd : node.startIndex < spanEnd && node.endIndex > spanStart) inSpan++;
      }
      // Only subtrees that hold an error are worth entering.
      if (node.hasError && !node.isError && cursor.gotoFirstChild()) continue;
      while (!cursor.gotoNextSibling()) if (!cursor.gotoParent()) { more = false; break; }
    }
    cursor.delete();
    return { count, inSpan };
  } finally {
    tree.delete();
  }
}

export async function parseErrorCount(language: string, text: string): Promise<number | undefined> {
  return (await parseErrors(language, text))?.count;
}

/**
 * Whether inserting `completion` between prefix and suffix adds parse errors, one of them in the inserted text
 * (false without a grammar): a file cut short keeps its unclosed blocks, which are not the completion's doing.
 */
export async function damagesParse(language: string, prefix: string, completion: string, suffix: string): Promise<boolean> {
  if (completion.trim() === '') return false;
  const head = prefix.length > WINDOW_CHARS ? prefix.slice(prefix.indexOf('\n', prefix.length - WINDOW_CHARS) + 1) : prefix;
  const tail = suffix.length > WINDOW_CHARS ? suffix.slice(0, suffix.lastIndexOf('\n', WINDOW_CHARS) + 1) : suffix;
  const before = await parseErrors(language, head + tail);
  if (before === undefined) return false;
  const after = await parseErrors(language, head + completion + tail, head.length, head.length + completion.length);
  return after !== undefined && after.count > before.count && after.inSpan > 0;
}
