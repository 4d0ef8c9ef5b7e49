// Which workspace files may reach the engine: never secrets (the shared policy of engine/protocol/fileSafety.ts,
// which the engine applies again); not version-control folders; not what .gitignore or files.exclude hide; not
// large or binary files. Paths are workspace-relative with forward slashes.
import ignore, { type Ignore } from 'ignore';
import { FileSafety, isVcsPath, toMatchPath } from '../../engine/protocol/fileSafety';

export { toMatchPath };

/** 'outside': a symbolic link that resolves outside the workspace. */
export type SkipReason = 'secret' | 'ignored' | 'excluded' | 'too-large' | 'binary' | 'outside';

export interface FileFilterOptions {
  /** Extra secret patterns (gitignore syntax), added to the defaults. */
  secretPatterns?: readonly string[];
  /** files.exclude: glob to enabled. */
  excludes?: Readonly<Record<string, boolean>>;
  maxFileBytes?: number;
}

/** Expands one level of `{a,b}` alternatives (VS Code globs); the ignore package has no braces. */
export function expandBraces(glob: string): string[] {
  const m = /\{([^{}]*)\}/.exec(glob);
  if (!m) return [glob];
  return m[1]!.split(',').flatMap((alt) => expandBraces(glob.slice(0, m.index) + alt + glob.slice(m.index + m[0].length)));
}

function checkPattern(p: unknown, where: string): string {
  if (typeof p !== 'string' || p.trim().length === 0) throw new Error(`${where}: patterns must be non-empty strings, got ${JSON.stringify(p)}`);
  return p;
}

export class FileFilter {
  readonly safety: FileSafety;
  private readonly _excludes: Ignore;
  /** .gitignore rules by the folder (relative, '' for the root) that holds them. */
  private readonly _gitignores = new Map<string, Ignore>();
  readonly maxFileBytes: number;

  constructor(options: FileFilterOptions = {}) {
    const extra = (options.secretPatterns ?? []).map((p) => checkPattern(p, 'presage.index.secretPatterns'));
    this.safety = new FileSafety(extra);
    const globs = Object.entries(options.excludes ?? {}).filter(([, on]) => on === true).flatMap(([g]) => expandBraces(checkPattern(g, 'files.exclude')));
    this._excludes = ignore().add(globs);
    this.maxFileBytes = options.maxFileBytes ?? 1_000_000;
    if (!(this.maxFileBytes > 0)) throw new Error(`presage.index.maxFileBytes must be positive, got ${options.maxFileBytes}`);
  }

  /** Adds the rules of the .gitignore found in folder `dir` (relative; '' for the workspace root). */
  addGitignore(dir: string, content: string): void {
    const key = toMatchPath(dir).replace(/\/+$/, '');
    const rules = this._gitignores.get(key) ?? ignore();
    rules.add(content);
    this._gitignores.set(key, rules);
  }

  /** A secret by name anywhere in the path (an absolute path of an editor outside the workspace included). */
  isSecret(p: string): boolean {
    return this.safety.secretName(p) !== undefined;
  }

  /** A secret by name or by what the file holds. */
  isSecretFile(p: string, text: string): boolean {
    const verdict = this.safety.check(p, text);
    return verdict !== undefined && verdict.by !== 'vcs';
  }

  private _gitignored(rel: string, isDir: boolean): boolean {
    for (const [dir, rules] of this._gitignores) {
      if (dir !== '' && !(rel === dir || rel.startsWith(dir + '/'))) continue;
      const inner = dir === '' ? rel : rel.slice(dir.length + 1);
      if (inner.length === 0) continue;
      if (rules.ignores(isDir ? inner + '/' : inner)) return true;
    }
    return false;
  }

  /** Why a workspace path must not be indexed, or undefined when it may be. `size` in bytes if known. */
  skipReason(p: string, size?: number, isDir = false): SkipReason | undefined {
    const rel = toMatchPath(p);
    if (rel.length === 0) return undefined;
    if (this.isSecret(rel)) return 'secret';
    if (isVcsPath(rel)) return 'ignored';
    if (this._excludes.ignores(isDir ? rel + '/' : rel)) return 'excluded';
    if (this._gitignored(rel, isDir)) return 'ignored';
    if (!isDir && size !== undefined && size > this.maxFileBytes) return 'too-large';
    return undefined;
  }
}

/** Binary content: a NUL byte, or many control characters, in the first 8 KB. */
export function looksBinary(bytes: Uint8Array): boolean {
  const n = Math.min(bytes.length, 8192);
  let control = 0;
  for (let i = 0; i < n; i++) {
    const b = bytes[i]!;
    if (b === 0) return true;
    if (b < 7 || (b > 13 && b < 32)) control++;
  }
  return n > 0 && control / n > 0.1;
}

/** Folder names a .gitignore ignores outright (`name` or `name/`, no wildcards): safe to leave out of the search. */
export function plainFolderNames(gitignore: string): string[] {
  return gitignore.split(/\r?\n/).map((l) => l.trim()).filter((l) => /^\/?[\w.-]+\/$/.test(l)).map((l) => l.replace(/^\//, '').replace(/\/$/, ''));
}
