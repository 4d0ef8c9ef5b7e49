// The one secret and ignore policy. The extension applies it before sending a file (indexer, chat context) and the
// engine applies it again when a document arrives, so a client can never make the engine index a secret.
// Pure: no fs, no vscode; both sides must judge a file identically.
import ignore, { type Ignore } from 'ignore';

/**
 * File names that are secrets whatever they hold (gitignore syntax, matched at any depth). Started from gitleaks'
 * default file-name rules and Continue's built-in ignore list.
 */
export const SECRET_FILE_PATTERNS: readonly string[] = [
  // SSH and other private keys (the .pub halves go too: nobody needs them as completion context).
  'id_rsa*', 'id_dsa*', 'id_ecdsa*', 'id_ed25519*', '*.ppk', '*.pem', '*.key', '*.p8', 'secring.*', '*.gpg',
  // Certificate stores and keystores.
  '*.p12', '*.pfx', '*.jks', '*.keystore', '*.kdbx',
  // Environment files.
  '.env*', '*.env',
  // Cloud, cluster and container credentials.
  '**/.aws/credentials', '**/.kube/config', 'kubeconfig', '**/.docker/config.json', '.boto', '.s3cfg',
  'gcloud/credentials.db', 'application_default_credentials.json', 'service-account*.json', 'client_secret*.json',
  // Package-manager, VCS and database credentials (.npmrc is judged by content, see CONTENT_RULES).
  '.git-credentials', '.netrc', '_netrc', '.pgpass', '.my.cnf', '.pypirc', '**/.gem/credentials', '.htpasswd',
  '.vault-token', '.terraformrc', 'terraform.rc',
  // Secret stores by name.
  'secrets.json', 'secrets.yml', 'secrets.yaml', 'secrets.toml', 'credentials.json', 'credentials.yml',
  'credentials.yaml', 'credentials.xml', '*.tfvars', '*.tfvars.json', '*.tfstate', '*.tfstate.backup',
];

/** Version-control internals: never indexed, at any depth (a nested .git/config may hold a token in a URL). */
export const VCS_FOLDERS: readonly string[] = ['.git', '.hg', '.svn'];

interface ContentRule {
  id: string;
  pattern: RegExp;
  /** Only for files with this base name (e.g. the npm token line only means something in .npmrc). */
  fileNames?: readonly string[];
}

/** Secrets recognised by what a file holds, so a key pasted into `notes.txt` stays out too. */
export const CONTENT_RULES: readonly ContentRule[] = [
  { id: 'private-key', pattern: /-----BEGIN[ A-Z0-9]*PRIVATE KEY(?: BLOCK)?-----/ },
  { id: 'github-token', pattern: /\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})/ },
  { id: 'gitlab-token', pattern: /\bglpat-[A-Za-z0-9_-]{20,}/ },
  { id: 'slack-token', pattern: /\bxox[abposr]-[A-Za-z0-9-]{10,}/ },
  { id: 'aws-access-key', pattern: /\b(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b/ },
  { id: 'openai-key', pattern: /\bsk-(?:proj-|ant-|svcacct-)?[A-Za-z0-9_-]{20,}/ },
  { id: 'npm-token', pattern: /\bnpm_[A-Za-z0-9]{36}\b/ },
  { id: 'google-api-key', pattern: /\bAIza[0-9A-Za-z_-]{35}/ },
  { id: 'stripe-key', pattern: /\b[rs]k_live_[0-9A-Za-z]{24,}/ },
  { id: 'huggingface-token', pattern: /\bhf_[A-Za-z0-9]{34,}/ },
  { id: 'npmrc-auth', pattern: /^\s*(?:\/\/[^\n]*:)?_(?:authToken|auth|password)\s*=/m, fileNames: ['.npmrc', '.yarnrc'] },
  { id: 'yarnrc-auth', pattern: /^\s*npmAuthToken\s*:/m, fileNames: ['.yarnrc.yml'] },
];

/** Longest secret a content rule looks for: an edit is checked within this many characters around it. */
export const SECRET_SCAN_MARGIN = 512;

export type SecretVerdict = { by: 'name' | 'content' | 'vcs'; rule: string };

/** Turns any path (relative, absolute, Windows) into the relative posix form the matcher needs. */
export function toMatchPath(p: string): string {
  const s = p.replace(/\\/g, '/').replace(/^[a-zA-Z]:\//, '');
  // Empty, `.` and `..` segments (a path outside the workspace) say nothing about the file: drop them.
  return s.split('/').filter((part) => part !== '' && part !== '.' && part !== '..').join('/');
}

/** The path part of a document uri (`file:///a/b%20c.ts` gives `/a/b c.ts`); the uri itself when it has none. */
export function uriPath(uri: string): string {
  try {
    const url = new URL(uri);
    return decodeURIComponent(url.pathname);
  } catch {
    return uri;
  }
}

function baseName(p: string): string {
  return p.slice(p.lastIndexOf('/') + 1);
}

/** True for a path inside (or naming) a version-control folder, at any depth. */
export function isVcsPath(p: string): boolean {
  return toMatchPath(p).split('/').some((part) => VCS_FOLDERS.includes(part));
}

/** Where each change's new text sits in the final document (later changes shift earlier ranges). */
export function editedRanges(changes: ReadonlyArray<{ rangeOffset: number; rangeLength: number; text: string }>): Array<{ start: number; end: number }> {
  const ranges: Array<{ start: number; end: number }> = [];
  for (const c of changes) {
    const delta = c.text.length - c.rangeLength;
    for (const r of ranges) {
      if (r.start >= c.rangeOffset + c.rangeLength) {
        r.start += delta;
        r.end += delta;
      } else if (r.end > c.rangeOffset) {
        // Overlap: the range grows to cover what the later change wrote over it.
        r.start = Math.min(r.start, c.rangeOffset);
        r.end = Math.max(r.end + delta, c.rangeOffset + c.text.length);
      }
    }
    ranges.push({ start: c.rangeOffset, end: c.rangeOffset + c.text.length });
  }
  return ranges;
}

export class FileSafety {
  private readonly _byName: Ignore;
  private readonly _userPatterns: Ignore | undefined;
  /** User patterns that were not usable (reported, never fatal: the defaults still apply). */
  readonly rejectedPatterns: string[] = [];

  /** `userPatterns`: presage.index.secretPatterns (gitignore syntax), added to the defaults. */
  constructor(userPatterns: readonly unknown[] = []) {
    this._byName = ignore().add([...SECRET_FILE_PATTERNS]);
    const usable: string[] = [];
    for (const p of userPatterns) {
      if (typeof p === 'string' && p.trim().length > 0) usable.push(p);
      else this.rejectedPatterns.push(JSON.stringify(p));
    }
    this._userPatterns = usable.length > 0 ? ignore().add(usable) : undefined;
  }

  /** The pattern a path's name matches, at any depth (absolute paths judged by their own segments). */
  secretName(p: string): string | undefined {
    const rel = toMatchPath(p);
    if (rel.length === 0) return undefined;
    const parts = rel.split('/');
    for (let i = 0; i < parts.length; i++) {
      const tail = parts.slice(i).join('/');
      if (this._byName.ignores(tail)) return this._byName.test(tail).rule?.pattern ?? 'secret file name';
      if (this._userPatterns?.ignores(tail)) return this._userPatterns.test(tail).rule?.pattern ?? 'presage.index.secretPatterns';
    }
    return undefined;
  }

  /** The content rule a text trips, if any. `path` enables the rules that only apply to certain file names. */
  secretContent(text: string, p = ''): string | undefined {
    const name = baseName(toMatchPath(p));
    for (const rule of CONTENT_RULES) {
      if (rule.fileNames && !rule.fileNames.includes(name)) continue;
      if (rule.pattern.test(text)) return rule.id;
    }
    return undefined;
  }

  /** Why a file must never be indexed (its name, its content when given, or a VCS folder); undefined when it may be. */
  check(p: string, text?: string): SecretVerdict | undefined {
    if (isVcsPath(p)) return { by: 'vcs', rule: 'version-control folder' };
    const name = this.secretName(p);
    if (name) return { by: 'name', rule: name };
    const content = text === undefined ? undefined : this.secretContent(text, p);
    return content ? { by: 'content', rule: content } : undefined;
  }

  /**
   * Checks only the text around edits (each `[start, end)` in the new text), so typing in a large document does
   * not rescan all of it. A secret pasted or typed in is found once its last character lands.
   */
  secretInEdits(p: string, text: string, edited: ReadonlyArray<{ start: number; end: number }>): string | undefined {
    for (const { start, end } of edited) {
      const from = Math.max(0, start - SECRET_SCAN_MARGIN);
      const to = Math.min(text.length, end + SECRET_SCAN_MARGIN);
      const found = this.secretContent(text.slice(from, to), p);
      if (found) return found;
    }
    // The name-gated rules are line-anchored: check the whole of those (small) files.
    const name = baseName(toMatchPath(p));
    if (CONTENT_RULES.some((r) => r.fileNames?.includes(name))) return this.secretContent(text, p);
    return undefined;
  }
}
