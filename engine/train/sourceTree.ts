// Walks the local source trees the training scripts read (node_modules, Python's, Go's and Rust's standard
// libraries) in a fixed order, so that every run picks the same files, and names the packages the demo model never
// saw (corpus.py's held-out names), so that text it is measured on stays out of every training set.
import fs from 'node:fs';
import path from 'node:path';

/** corpus.py's held-out package names: npm packages and Python standard-library modules. */
export const CORPUS_HELDOUT = new Set(['koa', 'semver', 'marked', 'ws', 'dayjs', 'pino', 'email', 'json', 'tomllib', 'argparse', 'difflib', 'csv', 'textwrap', 'statistics', 'fractions', 'shlex']);

export interface WalkRules {
  /** Folders deeper than this are not entered. */
  maxDepth: number;
  /** Folder names not entered (hidden folders never are). */
  skipDirs: readonly string[];
  /** Whether a file of this name is yielded. */
  accept(name: string): boolean;
}

/** The accepted files below `dir`, depth first, entries in name order; unreadable folders are passed over. */
export function* walkSources(dir: string, rules: WalkRules, depth = 0): Generator<string> {
  if (depth > rules.maxDepth) return;
  let entries: fs.Dirent[];
  try { entries = fs.readdirSync(dir, { withFileTypes: true }); } catch { return; }
  entries.sort((a, b) => a.name.localeCompare(b.name));
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (rules.skipDirs.includes(e.name) || e.name.startsWith('.')) continue;
      yield* walkSources(p, rules, depth + 1);
    } else if (e.isFile() && rules.accept(e.name)) yield p;
  }
}
