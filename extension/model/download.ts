// Downloads a Hugging Face model repo (config, tokenizer, safetensors weights) into a local folder with
// @huggingface/hub. Cancellable; reports progress in bytes; a finished download is marked and reused.
import fs from 'node:fs';
import path from 'node:path';
import { downloadFile, listFiles } from '@huggingface/hub';

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

const REPO_ID = /^[A-Za-z0-9][\w.-]*\/[\w.-]+$/;
const MARKER = '.presage-download.json';

/** Whether the setting names a Hugging Face repo ("owner/name") rather than a local folder. */
export function isRepoId(value: string): boolean {
  return REPO_ID.test(value) && !value.includes('..') && !fs.existsSync(value);
}

/** The files a checkpoint needs: configs, tokenizer files and safetensors weights (no duplicate weight formats). */
export function wantedFile(p: string): boolean {
  const name = p.split('/').pop() ?? p;
  if (p.includes('/') && !p.startsWith('tokenizer/')) return false;
  if (name.endsWith('.safetensors') || name === 'model.safetensors.index.json') return true;
  return /^(config|generation_config|tokenizer|tokenizer_config|special_tokens_map|added_tokens|vocab)\.json$/.test(name) || name === 'merges.txt' || name === 'tokenizer.model';
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

/** Downloads `repoId` into `dir` (created); returns `dir`. Files are written as *.part and renamed when complete. */
export async function downloadModel(repoId: string, dir: string, options: DownloadOptions = {}): Promise<string> {
  if (!REPO_ID.test(repoId)) throw new Error(`'${repoId}' is not a Hugging Face repo id (owner/name)`);
  if (isDownloaded(dir)) return dir;
  const { signal } = options;
  const baseFetch = options.fetch ?? fetch;
  const fetchWithSignal: typeof fetch = (input, init) => baseFetch(input, { ...init, ...(signal ? { signal } : {}) });
  const common = {
    repo: { type: 'model' as const, name: repoId },
    ...(options.hubUrl ? { hubUrl: options.hubUrl } : {}),
    ...(options.revision ? { revision: options.revision } : {}),
    ...(options.accessToken ? { accessToken: options.accessToken } : {}),
    fetch: fetchWithSignal,
  };
  throwIfCancelled(signal);
  const files: Array<{ path: string; size: number }> = [];
  try {
    for await (const entry of listFiles({ ...common, recursive: true })) {
      if (entry.type === 'file' && wantedFile(entry.path)) files.push({ path: entry.path, size: entry.lfs?.size ?? entry.size });
    }
  } catch (err) {
    if (signal?.aborted) throw new DownloadCancelled();
    throw new Error(`listing ${repoId} failed: ${(err as Error).message}`);
  }
  if (!files.some((f) => f.path === 'config.json')) throw new Error(`${repoId} has no config.json: not a model checkpoint`);
  if (!files.some((f) => f.path.endsWith('.safetensors'))) throw new Error(`${repoId} has no .safetensors weights`);
  const totalBytes = files.reduce((a, f) => a + f.size, 0);
  let bytes = 0;
  fs.mkdirSync(dir, { recursive: true });
  for (const file of files) {
    throwIfCancelled(signal);
    const target = path.join(dir, ...file.path.split('/'));
    if (!target.startsWith(dir + path.sep)) throw new Error(`refusing the path ${file.path}`);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    const part = `${target}.part`;
    try {
      const blob = await downloadFile({ ...common, path: file.path, xet: false });
      if (!blob) throw new Error('not found');
      const out = fs.createWriteStream(part);
      try {
        const reader = blob.stream().getReader();
        for (;;) {
          throwIfCancelled(signal);
          const { done, value } = await reader.read();
          if (done) break;
          if (!out.write(value)) await new Promise<void>((r) => out.once('drain', () => r()));
          bytes += value.byteLength;
          options.onProgress?.({ file: file.path, bytes, totalBytes });
        }
      } finally {
        await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
      }
      fs.renameSync(part, target);
    } catch (err) {
      fs.rmSync(part, { force: true });
      if (err instanceof DownloadCancelled || signal?.aborted) throw new DownloadCancelled();
      throw new Error(`downloading ${repoId}/${file.path} failed: ${(err as Error).message}`);
    }
  }
  fs.writeFileSync(path.join(dir, MARKER), JSON.stringify({ repoId, revision: options.revision ?? 'main', files: files.map((f) => f.path), totalBytes }));
  return dir;
}
