// Downloads a Hugging Face model repo (config, tokenizer, safetensors weights) into a local folder. The file list
// comes from @huggingface/hub; each file is fetched with HTTP Range onto a kept `*.part`, so a cancelled or killed
// download continues where it stopped, and is checked against the hub's metadata (sha256 of LFS files, the git blob
// id of small ones) before it is renamed into place. A finished download is marked and reused.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { HubApiError, listFiles } from '@huggingface/hub';

export interface DownloadOptions {
  /** Hub base URL (tests point it at a loopback server). */
  hubUrl?: string;
  fetch?: typeof fetch;
  revision?: string;
  accessToken?: string;
  signal?: AbortSignal;
  onProgress?: (p: { file: string; bytes: number; totalBytes: number }) => void;
}

export class DownloadCancelled extends Error {
  constructor() {
    super('the model download was cancelled');
  }
}

/** Why a model choice cannot be used, in words a user can act on. */
export type ChoiceProblem = 'not-a-repo-id' | 'repository not found' | 'offline' | 'needs a token' | 'no config.json' | 'no safetensors' | 'hub error';

export class ModelChoiceError extends Error {
  constructor(readonly problem: ChoiceProblem, message: string) {
    super(message);
  }
}

/** One file of the repo to fetch, with what the hub says it must hash to. */
export interface RepoFile {
  path: string;
  size: number;
  /** sha256 of the content (LFS files: the LFS oid). */
  sha256?: string;
  /** git blob sha1 (files stored in git itself). */
  gitOid?: string;
}

const REPO_ID = /^[A-Za-z0-9][\w.-]*\/[\w.-]+$/;
const MARKER = '.presage-download.json';
const DEFAULT_HUB = 'https://huggingface.co';

/** Whether the setting names a Hugging Face repo ("owner/name") rather than a local folder. */
export function isRepoId(value: string): boolean {
  return REPO_ID.test(value) && !value.includes('..') && !fs.existsSync(value);
}

/** The files a checkpoint needs: configs, tokenizer files and safetensors weights (no duplicate weight formats). */
export function wantedFile(p: string): boolean {
  const name = p.split('/').pop() ?? p;
  if (p.includes('/') && !p.startsWith('tokenizer/')) return false;
  if (name.endsWith('.safetensors') || name === 'model.safetensors.index.json') return true;
  return /^(config|generation_config|tokenizer|tokenizer_config|special_tokens_map|added_tokens|vocab)\.json$/.test(name) || name === 'merges.txt' || name === 'tokenizer.model' || name === 'chat_template.jinja';
}

/** Folder for a repo inside the storage root. */
export function modelFolder(storageRoot: string, repoId: string, revision = 'main'): string {
  if (!REPO_ID.test(repoId)) throw new Error(`'${repoId}' is not a Hugging Face repo id (owner/name)`);
  return path.join(storageRoot, 'models', `${repoId.replace('/', '--')}${revision === 'main' ? '' : `@${revision.replace(/[^\w.-]/g, '_')}`}`);
}

/** Whether `dir` holds a finished download. */
export function isDownloaded(dir: string): boolean {
  return fs.existsSync(path.join(dir, MARKER));
}

function throwIfCancelled(signal?: AbortSignal): void {
  if (signal?.aborted) throw new DownloadCancelled();
}

const OFFLINE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'ECONNRESET', 'ENETUNREACH', 'EHOSTUNREACH', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_SOCKET']);

/** A network failure (no connection, no DNS), as opposed to an answer from the hub. */
export function isOfflineError(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && OFFLINE_CODES.has(code)) return true;
  }
  return err instanceof TypeError && /fetch failed/.test(err.message);
}

function hubName(options: DownloadOptions): string {
  return options.hubUrl ? new URL(options.hubUrl).host : 'huggingface.co';
}

/**
 * Asks the hub what `repoId` holds, without downloading: the checkpoint files with their sizes and checksums.
 * Every problem is a ModelChoiceError that says what is wrong ("repository not found", "offline", "no safetensors").
 */
export async function probeRepo(repoId: string, options: DownloadOptions = {}): Promise<{ files: RepoFile[]; totalBytes: number }> {
  if (!REPO_ID.test(repoId) || repoId.includes('..')) throw new ModelChoiceError('not-a-repo-id', `'${repoId}' is not a Hugging Face repo id (owner/name)`);
  const { signal } = options;
  throwIfCancelled(signal);
  const files: RepoFile[] = [];
  try {
    for await (const entry of listFiles({ ...hubParams(repoId, options), recursive: true })) {
      if (entry.type !== 'file' || !wantedFile(entry.path)) continue;
      const gitOid = !entry.lfs && entry.oid && /^[0-9a-f]{40}$/.test(entry.oid) ? entry.oid : undefined;
      files.push({ path: entry.path, size: entry.lfs?.size ?? entry.size, ...(entry.lfs?.oid ? { sha256: entry.lfs.oid } : {}), ...(gitOid ? { gitOid } : {}) });
    }
  } catch (err) {
    if (signal?.aborted) throw new DownloadCancelled();
    if (err instanceof HubApiError) {
      if (err.statusCode === 404) throw new ModelChoiceError('repository not found', `repository not found: ${repoId} is not on ${hubName(options)} (check the spelling)`);
      if (err.statusCode === 401 || err.statusCode === 403) throw new ModelChoiceError('needs a token', `${repoId} is gated or private: accept its licence on the hub and set HF_TOKEN`);
      throw new ModelChoiceError('hub error', `the hub answered ${err.statusCode} for ${repoId}: ${err.message}`);
    }
    if (isOfflineError(err)) throw new ModelChoiceError('offline', `offline: cannot reach ${hubName(options)} (${(err as Error).message}${causeCode(err)})`);
    throw new ModelChoiceError('hub error', `listing ${repoId} failed: ${(err as Error).message}`);
  }
  if (!files.some((f) => f.path === 'config.json')) throw new ModelChoiceError('no config.json', `${repoId} has no config.json: not a model checkpoint`);
  if (!files.some((f) => f.path.endsWith('.safetensors'))) throw new ModelChoiceError('no safetensors', `${repoId} has no .safetensors weights (Presage reads safetensors only)`);
  return { files, totalBytes: files.reduce((a, f) => a + f.size, 0) };
}

function causeCode(err: unknown): string {
  const code = (err as { cause?: { code?: unknown } }).cause?.code;
  return typeof code === 'string' ? `: ${code}` : '';
}

function hubParams(repoId: string, options: DownloadOptions) {
  const { signal } = options;
  const baseFetch = options.fetch ?? fetch;
  const fetchWithSignal: typeof fetch = (input, init) => baseFetch(input, { ...init, ...(signal ? { signal } : {}) });
  return {
    repo: { type: 'model' as const, name: repoId },
    ...(options.hubUrl ? { hubUrl: options.hubUrl } : {}),
    ...(options.revision ? { revision: options.revision } : {}),
    ...(options.accessToken ? { accessToken: options.accessToken } : {}),
    fetch: fetchWithSignal,
  };
}

/** The hash a file must have, started over the bytes already on disk (a resumed file is checked whole). */
function makeChecker(file: RepoFile): { update(b: Uint8Array): void; check(): string | undefined } | undefined {
  if (file.sha256) {
    const h = crypto.createHash('sha256');
    return { update: (b) => void h.update(b), check: () => ((d) => (d === file.sha256 ? undefined : `sha256 ${d}, the hub says ${file.sha256}`))(h.digest('hex')) };
  }
  if (file.gitOid) {
    const h = crypto.createHash('sha1').update(`blob ${file.size}\0`);
    return { update: (b) => void h.update(b), check: () => ((d) => (d === file.gitOid ? undefined : `git blob ${d}, the hub says ${file.gitOid}`))(h.digest('hex')) };
  }
  return undefined;
}

async function hashExisting(part: string, bytes: number, checker: { update(b: Uint8Array): void } | undefined): Promise<void> {
  if (!checker || bytes === 0) return;
  for await (const chunk of fs.createReadStream(part)) checker.update(chunk as Buffer);
}

/**
 * Downloads `repoId` into `dir` (created); returns `dir`. Each file goes to `*.part` first: a cancel, a crash or a
 * kill keeps it, and the next call continues it with an HTTP Range request. A file whose checksum does not match
 * the hub's metadata is removed and the download fails with the file named.
 */
export async function downloadModel(repoId: string, dir: string, options: DownloadOptions = {}): Promise<string> {
  if (!REPO_ID.test(repoId)) throw new Error(`'${repoId}' is not a Hugging Face repo id (owner/name)`);
  if (isDownloaded(dir)) return dir;
  const { signal } = options;
  const { files, totalBytes } = await probeRepo(repoId, options);
  const baseFetch = options.fetch ?? fetch;
  const hub = (options.hubUrl ?? DEFAULT_HUB).replace(/\/$/, '');
  const revision = encodeURIComponent(options.revision ?? 'main');
  let bytes = 0;
  fs.mkdirSync(dir, { recursive: true });
  for (const file of files) {
    throwIfCancelled(signal);
    const target = path.join(dir, ...file.path.split('/'));
    if (!target.startsWith(dir + path.sep)) throw new Error(`refusing the path ${file.path}`);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    // A file renamed into place was checked when it finished.
    if (fs.existsSync(target) && fs.statSync(target).size === file.size) {
      bytes += file.size;
      options.onProgress?.({ file: file.path, bytes, totalBytes });
      continue;
    }
    const part = `${target}.part`;
    let start = fs.existsSync(part) ? fs.statSync(part).size : 0;
    if (start > file.size) {
      fs.rmSync(part, { force: true });
      start = 0;
    }
    let checker = makeChecker(file);
    await hashExisting(part, start, checker);
    bytes += start;
    const url = `${hub}/${repoId}/resolve/${revision}/${file.path.split('/').map(encodeURIComponent).join('/')}`;
    try {
      if (start < file.size || file.size === 0) {
        const headers: Record<string, string> = {};
        if (options.accessToken) headers.Authorization = `Bearer ${options.accessToken}`;
        if (start > 0) headers.Range = `bytes=${start}-`;
        const response = await baseFetch(url, { headers, ...(signal ? { signal } : {}) });
        if (response.status === 404) throw new Error('not found on the hub');
        if (response.status === 401 || response.status === 403) throw new Error(`the hub refused access (${response.status}): set HF_TOKEN`);
        if (!response.ok || !response.body) throw new Error(`the hub answered ${response.status}`);
        if (start > 0 && response.status !== 206) {
          // The server ignored the range: start this file over.
          bytes -= start;
          start = 0;
          checker = makeChecker(file);
        }
        const out = fs.createWriteStream(part, { flags: start > 0 ? 'a' : 'w' });
        try {
          const reader = response.body.getReader();
          for (;;) {
            throwIfCancelled(signal);
            const { done, value } = await reader.read();
            if (done) break;
            checker?.update(value);
            if (!out.write(value)) await new Promise<void>((r) => out.once('drain', () => r()));
            bytes += value.byteLength;
            options.onProgress?.({ file: file.path, bytes, totalBytes });
          }
        } finally {
          await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
        }
      }
      const size = fs.statSync(part).size;
      if (size !== file.size) throw new Error(`got ${size} bytes, the hub says ${file.size}`);
      const mismatch = checker?.check();
      if (mismatch) {
        fs.rmSync(part, { force: true });
        throw new ChecksumMismatch(`checksum mismatch for ${repoId}/${file.path}: ${mismatch}; the partial file was removed, try again`);
      }
      fs.renameSync(part, target);
    } catch (err) {
      // The partial file stays for the next attempt (HTTP Range), except when its content is wrong.
      if (err instanceof ChecksumMismatch) throw err;
      if (err instanceof DownloadCancelled || signal?.aborted) throw new DownloadCancelled();
      if (isOfflineError(err)) throw new ModelChoiceError('offline', `offline: downloading ${repoId}/${file.path} stopped (${(err as Error).message}${causeCode(err)}); it continues where it stopped next time`);
      throw new Error(`downloading ${repoId}/${file.path} failed: ${(err as Error).message}`);
    }
  }
  fs.writeFileSync(path.join(dir, MARKER), JSON.stringify({ repoId, revision: options.revision ?? 'main', files: files.map((f) => f.path), totalBytes }));
  return dir;
}

export class ChecksumMismatch extends Error {}
