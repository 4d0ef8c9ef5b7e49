// Chat context retrieval: windows of indexed documents ranked by the identifiers they share with the question
// (rarer identifiers weigh more).

export interface Snippet {
  uri: string;
  text: string;
  /** 0-based line of the window's first line. */
  startLine: number;
  score: number;
}

const STOP = new Set([
  'the', 'and', 'for', 'this', 'that', 'with', 'from', 'what', 'how', 'does', 'why', 'are', 'not', 'you', 'can', 'use',
  'function', 'return', 'const', 'let', 'var', 'def', 'class', 'import', 'export', 'self', 'true', 'false', 'none', 'null',
  'undefined', 'new', 'else', 'elif', 'async', 'await', 'public', 'private', 'static', 'void', 'int', 'string',
]);

/** Identifiers of at least 3 characters, lower-cased, without common keywords and English filler. */
export function identifiers(text: string): Set<string> {
  const out = new Set<string>();
  for (const m of text.matchAll(/[A-Za-z_$][A-Za-z0-9_$]{2,}/g)) {
    const id = m[0].toLowerCase();
    if (!STOP.has(id)) out.add(id);
  }
  return out;
}

export interface RetrieveOptions {
  maxSnippets?: number;
  windowLines?: number;
  /** Characters of documents scanned at most (larger workspaces are sampled in order). */
  maxScanChars?: number;
  /** Uris to skip (already given as context). */
  exclude?: ReadonlySet<string>;
}

export function retrieveSnippets(docs: Iterable<{ uri: string; text: string }>, query: string, options: RetrieveOptions = {}): Snippet[] {
  const wanted = identifiers(query);
  if (wanted.size === 0) return [];
  const windowLines = Math.max(4, options.windowLines ?? 30);
  const step = Math.max(1, Math.floor(windowLines / 2));
  const maxScan = options.maxScanChars ?? 8_000_000;
  const windows: { uri: string; lines: string[]; start: number; ids: Set<string> }[] = [];
  let scanned = 0;
  for (const doc of docs) {
    if (options.exclude?.has(doc.uri)) continue;
    if (scanned + doc.text.length > maxScan) break;
    scanned += doc.text.length;
    const lines = doc.text.split('\n');
    for (let start = 0; start < lines.length; start += step) {
      const slice = lines.slice(start, start + windowLines);
      const ids = identifiers(slice.join('\n'));
      let hit = false;
      for (const w of wanted) if (ids.has(w)) hit = true;
      if (hit) windows.push({ uri: doc.uri, lines: slice, start, ids });
      if (start + windowLines >= lines.length) break;
    }
  }
  if (windows.length === 0) return [];
  const df = new Map<string, number>();
  for (const w of wanted) df.set(w, windows.reduce((n, win) => n + (win.ids.has(w) ? 1 : 0), 0));
  const scored = windows.map((win) => {
    let score = 0;
    for (const w of wanted) if (win.ids.has(w)) score += Math.log(1 + windows.length / df.get(w)!);
    return { win, score };
  });
  scored.sort((a, b) => b.score - a.score || a.win.uri.localeCompare(b.win.uri) || a.win.start - b.win.start);
  // At most one window per overlapping region of a file.
  const out: Snippet[] = [];
  for (const { win, score } of scored) {
    if (out.length >= (options.maxSnippets ?? 3)) break;
    if (out.some((s) => s.uri === win.uri && Math.abs(s.startLine - win.start) < windowLines)) continue;
    out.push({ uri: win.uri, text: win.lines.join('\n'), startLine: win.start, score });
  }
  return out;
}
