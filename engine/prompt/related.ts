// Related workspace files for a repository-level completion prompt ("neighbouring tabs"): files the current one
// imports, recently edited files and open editors, each cut to its window most like the code at the cursor.
import path from 'node:path';
import type { RelatedFile } from './fim';

export interface CandidateDocument {
  uri: string;
  text: string;
  /** Open in an editor (a tab). */
  open: boolean;
}

export interface RelatedOptions {
  /** Files at most (default 4). */
  maxFiles?: number;
  /** Characters per file at most (default 3000); longer files give their best-matching window. */
  maxCharsPerFile?: number;
  /** Recently edited uris, most recent first. */
  recent?: readonly string[];
}

export interface RepoContext {
  /** The current file's path relative to the files' common folder. */
  path: string;
  /** That folder's name. */
  repoName: string;
  /** Most relevant first. */
  related: RelatedFile[];
}

/** A uri's file-system-like path (`file:` uris decoded; other schemes keep their path). */
export function uriPath(uri: string): string {
  const m = /^[a-z][a-z0-9+.-]*:(\/\/[^/]*)?(.*)$/i.exec(uri);
  if (!m) return uri;
  try {
    return decodeURIComponent(m[2]!);
  } catch {
    return m[2]!;
  }
}

const withoutExtension = (p: string): string => {
  const parsed = path.posix.parse(p);
  return path.posix.join(parsed.dir, parsed.name);
};

/** Module specifiers the code imports, as folder paths: `./util` (relative) or `pkg/mod` (Python, Java, C includes). */
export function importedModules(code: string): { relative: string[]; absolute: string[] } {
  const relative: string[] = [];
  const absolute: string[] = [];
  const js = [/\bfrom\s*['"]([^'"\n]+)['"]/g, /\bimport\s*\(\s*['"]([^'"\n]+)['"]\s*\)/g, /\brequire\s*\(\s*['"]([^'"\n]+)['"]\s*\)/g, /^\s*import\s+['"]([^'"\n]+)['"]/gm, /#include\s+"([^"\n]+)"/g];
  for (const re of js) {
    for (const m of code.matchAll(re)) {
      const spec = m[1]!;
      if (spec.startsWith('.')) relative.push(spec);
      else if (re.source.startsWith('#include')) relative.push(`./${spec}`);
    }
  }
  // Python `from .a.b import` / `from a.b import` / `import a.b`, Java `import a.b.C;`.
  for (const m of code.matchAll(/^\s*from\s+(\.*)([\w.]*)\s+import\b/gm)) {
    const dots = m[1]!.length;
    const mod = m[2]!.replace(/\./g, '/');
    if (dots === 0) absolute.push(mod);
    else relative.push(`${dots === 1 ? '.' : Array(dots - 1).fill('..').join('/')}/${mod}`);
  }
  for (const m of code.matchAll(/^\s*import\s+(?:static\s+)?([\w.]+)\s*;?\s*$/gm)) absolute.push(m[1]!.replace(/\./g, '/'));
  return { relative, absolute };
}

const IDENT = /[A-Za-z_$][A-Za-z0-9_$]{2,}/g;
function identifierSet(text: string): Set<string> {
  const out = new Set<string>();
  for (const m of text.matchAll(IDENT)) out.add(m[0]);
  return out;
}

function jaccard(a: ReadonlySet<string>, b: ReadonlySet<string>): number {
  if (a.size === 0 || b.size === 0) return 0;
  let common = 0;
  for (const x of a) if (b.has(x)) common++;
  return common / (a.size + b.size - common);
}

/** The window of `text` (whole lines, at most `maxChars`) that shares the most identifiers with `query`. */
export function bestWindow(text: string, query: ReadonlySet<string>, maxChars: number): { text: string; score: number } {
  if (text.length <= maxChars) return { text, score: jaccard(identifierSet(text), query) };
  const lines = text.split('\n');
  let best = { text: '', score: -1 };
  let start = 0;
  while (start < lines.length) {
    let end = start;
    let size = 0;
    while (end < lines.length && size + lines[end]!.length + 1 <= maxChars) size += lines[end++]!.length + 1;
    if (end === start) end = start + 1;
    const window = lines.slice(start, end).join('\n').slice(0, maxChars);
    const score = jaccard(identifierSet(window), query);
    if (score > best.score) best = { text: window, score };
    if (end >= lines.length) break;
    start += Math.max(1, Math.floor((end - start) / 2));
  }
  return best;
}

function commonFolder(paths: readonly string[]): string {
  const split = paths.map((p) => path.posix.dirname(p).split('/'));
  const first = split[0] ?? [];
  let n = first.length;
  for (const parts of split) {
    let i = 0;
    while (i < n && i < parts.length && parts[i] === first[i]) i++;
    n = i;
  }
  return first.slice(0, n).join('/');
}

/**
 * Picks related files for a completion in `currentUri`: imported files first, then recently edited ones, then open
 * editors, ties broken by how much the file resembles the code around the cursor. Only those candidates are read
 * (never the whole workspace), so the cost is bounded by the open and recent files.
 */
export function gatherRepoContext(currentUri: string, prefix: string, suffix: string, documents: Iterable<CandidateDocument>, options: RelatedOptions = {}): RepoContext {
  const maxFiles = Math.max(0, options.maxFiles ?? 4);
  const maxChars = Math.max(200, options.maxCharsPerFile ?? 3000);
  const currentPath = uriPath(currentUri);
  const currentDir = path.posix.dirname(currentPath);
  const imports = importedModules(prefix + suffix);
  const importTargets = new Set(imports.relative.map((spec) => path.posix.normalize(path.posix.join(currentDir, withoutExtension(spec)))));
  const importSuffixes = imports.absolute.map((m) => `/${m}`);
  const recentRank = new Map((options.recent ?? []).map((uri, i) => [uri, i]));
  const cursor = identifierSet(prefix.slice(-3000) + suffix.slice(0, 1000));

  const scored: { uri: string; path: string; text: string; score: number }[] = [];
  for (const doc of documents) {
    if (doc.uri === currentUri || doc.text.length === 0) continue;
    const p = uriPath(doc.uri);
    const bare = withoutExtension(p);
    // `./util` is util.ts or util/index.ts; `pkg.mod` is …/pkg/mod.py.
    const imported = importTargets.has(bare) || (bare.endsWith('/index') && importTargets.has(bare.slice(0, -'/index'.length)))
      || importSuffixes.some((s) => bare.endsWith(s));
    const rank = recentRank.get(doc.uri);
    if (!imported && rank === undefined && !doc.open) continue;
    const window = bestWindow(doc.text, cursor, maxChars);
    const score = (imported ? 100 : 0) + (rank !== undefined ? Math.max(0, 20 - rank * 2) : 0) + (doc.open ? 5 : 0) + 10 * window.score;
    scored.push({ uri: doc.uri, path: p, text: window.text, score });
  }
  scored.sort((a, b) => b.score - a.score || a.uri.localeCompare(b.uri));
  const chosen = scored.slice(0, maxFiles);
  const root = commonFolder([currentPath, ...chosen.map((c) => c.path)]);
  const relativeTo = (p: string): string => (root ? path.posix.relative(root, p) : p.replace(/^\/+/, ''));
  return {
    path: relativeTo(currentPath),
    repoName: path.posix.basename(root) || 'workspace',
    related: chosen.map((c) => ({ path: relativeTo(c.path), text: c.text })),
  };
}

/** Recently edited uris, most recent first (bounded). */
export class RecentEdits {
  private readonly _uris: string[] = [];
  constructor(private readonly _capacity = 16) {}

  touch(uri: string): void {
    const i = this._uris.indexOf(uri);
    if (i >= 0) this._uris.splice(i, 1);
    this._uris.unshift(uri);
    if (this._uris.length > this._capacity) this._uris.length = this._capacity;
  }

  forget(uri: string): void {
    const i = this._uris.indexOf(uri);
    if (i >= 0) this._uris.splice(i, 1);
  }

  list(): readonly string[] {
    return this._uris;
  }
}
