// On-disk cache of built graphs: <cacheDir>/<key>/{model.onnx, weights.bin, manifest.json}.
// The key hashes the checkpoint and the build options; the manifest holds a SHA-256 of every byte of each file,
// so damage anywhere in an entry is found (an earlier format sampled 1 MB blocks of large files and missed most).
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const MODEL_FILE = 'model.onnx';
export const WEIGHTS_FILE = 'weights.bin';
const MANIFEST = 'manifest.json';
const CHUNK = 8 << 20;
/** Names the digest in the manifest; entries written with another (the old sampled one) are rebuilt. */
const HASH = 'sha256-full';

export function defaultCacheDir(): string {
  if (process.env.PRESAGE_CACHE_DIR) return process.env.PRESAGE_CACHE_DIR;
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'presage', 'graphs');
}

export function cacheKey(parts: unknown): string {
  return crypto.createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 32);
}

/** SHA-256 of every byte, read in 8 MB chunks (streaming: memory stays constant for multi-GB weights). */
function fileDigest(file: string): { size: number; sha256: string } {
  const h = crypto.createHash('sha256');
  const fd = fs.openSync(file, 'r');
  let size = 0;
  try {
    const buf = Buffer.allocUnsafe(CHUNK);
    for (;;) {
      const n = fs.readSync(fd, buf, 0, CHUNK, size);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
      size += n;
    }
  } finally {
    fs.closeSync(fd);
  }
  return { size, sha256: h.digest('hex') };
}

interface Manifest {
  key: string;
  hash?: string;
  files: Record<string, { size: number; sha256: string }>;
}

/** Why the cache entry is unusable, or undefined when it is valid. Missing entries are reported as 'missing'. */
export function verifyEntry(dir: string, key: string): string | undefined {
  const manifestFile = path.join(dir, MANIFEST);
  if (!fs.existsSync(manifestFile)) return fs.existsSync(dir) ? 'manifest.json is missing' : 'missing';
  let manifest: Manifest;
  try {
    manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8')) as Manifest;
  } catch {
    return 'manifest.json is not valid JSON';
  }
  if (manifest.key !== key || !manifest.files) return 'manifest.json does not match this checkpoint';
  if (manifest.hash !== HASH) return 'manifest.json is from an older cache format';
  for (const name of [MODEL_FILE, WEIGHTS_FILE]) {
    const file = path.join(dir, name);
    const want = manifest.files[name];
    if (!want) return `manifest.json does not list ${name}`;
    if (!fs.existsSync(file)) return `${name} is missing`;
    // The size first: a truncated file is reported as such without reading it.
    if (fs.statSync(file).size !== want.size) return `${name} has ${fs.statSync(file).size} bytes, expected ${want.size}`;
    const got = fileDigest(file);
    if (got.size !== want.size) return `${name} has ${got.size} bytes, expected ${want.size}`;
    if (got.sha256 !== want.sha256) return `${name} content does not match its checksum`;
  }
  return undefined;
}

/** Builds into a temporary folder next to the entry, writes the manifest, then renames it into place. */
export function writeEntry(dir: string, key: string, build: (tmpDir: string) => void): void {
  const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
  fs.mkdirSync(tmp, { recursive: true });
  try {
    build(tmp);
    const manifest: Manifest = { key, hash: HASH, files: {} };
    for (const name of [MODEL_FILE, WEIGHTS_FILE]) manifest.files[name] = fileDigest(path.join(tmp, name));
    fs.writeFileSync(path.join(tmp, MANIFEST), JSON.stringify(manifest, null, 2));
    fs.rmSync(dir, { recursive: true, force: true });
    fs.renameSync(tmp, dir);
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
}

/** Whether files can be created in `dir` (created if needed). Root ignores permission bits, so this tries. */
function canWriteIn(dir: string): string | undefined {
  try {
    fs.mkdirSync(dir, { recursive: true });
    const probe = path.join(dir, `.probe-${process.pid}-${Date.now()}`);
    fs.writeFileSync(probe, '');
    fs.rmSync(probe, { force: true });
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/**
 * Where to build the entry `dir` (named `key`): its own folder when the cache folder is writable; otherwise, with a
 * warning, the same key under a temporary folder (which may already hold a valid entry). A read-only cache
 * never stops a model from loading.
 */
export function writableEntry(dir: string, key: string, warn?: (message: string) => void): { dir: string; cached: boolean } {
  const root = path.dirname(dir);
  const problem = canWriteIn(root);
  if (problem === undefined) return { dir, cached: false };
  let fallback = path.join(os.tmpdir(), `presage-graphs-${process.getuid?.() ?? 'user'}`);
  if (canWriteIn(fallback) !== undefined) fallback = fs.mkdtempSync(path.join(os.tmpdir(), 'presage-graphs-'));
  warn?.(`graph cache folder ${root} is not writable (${problem}); using the temporary folder ${fallback}`);
  const entry = path.join(fallback, key);
  return { dir: entry, cached: verifyEntry(entry, key) === undefined };
}
