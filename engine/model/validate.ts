// Checkpoint validation before any allocation. A checkpoint may come from anyone (presage.model takes Hugging Face
// repo ids), so its config values, file names and tensor headers are checked before they size any work:
// - config values within bounds that every real model fits (rope_theta > 0, finite scaling factors);
// - every file opened is a regular file of bounded size (a FIFO named config.json would block the read forever);
// - shard names stay inside the model folder (no ../, no absolute path, no symlink out of it);
// - every tensor the architecture needs is present, floating point, and of the shape the config implies.
// Architectures with their own keys add bounds through CONFIG_BOUNDS; tensor specs come from weightSpecs().
import fs from 'node:fs';
import path from 'node:path';
import type { TensorEntry } from './safetensors';

/** Inclusive upper bounds of config.json's size keys. Real models sit well inside (405B: hidden 16384). */
export const CONFIG_BOUNDS: Record<string, number> = {
  hidden_size: 65_536,
  intermediate_size: 262_144,
  num_hidden_layers: 1024,
  num_attention_heads: 1024,
  num_key_value_heads: 1024,
  head_dim: 1024,
  vocab_size: 4_194_304,
  max_position_embeddings: 16_777_216,
  original_max_position_embeddings: 16_777_216,
  sliding_window: 16_777_216,
};

/** config.json, the shard index and generation_config.json are small; a bigger one is not a config. */
export const MAX_JSON_FILE_BYTES = 16 * 1024 * 1024;
const MAX_ROPE_THETA = 1e12;
const MAX_ROPE_FACTOR = 1024;

/**
 * Throws unless `file` is a regular file (symlinks followed) of at most maxBytes. Checked with stat before the
 * file is opened: opening a FIFO for reading blocks until a writer appears.
 */
export function checkRegularFile(file: string, maxBytes = Infinity): void {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch (err) {
    throw new Error(`cannot read ${file}: ${(err as Error).message}`);
  }
  if (!st.isFile()) {
    const kind = st.isFIFO() ? 'a FIFO' : st.isDirectory() ? 'a folder' : st.isSocket() ? 'a socket' : 'not a regular file';
    throw new Error(`${file} is ${kind}; a checkpoint holds only regular files`);
  }
  if (st.size > maxBytes) throw new Error(`${file} is ${st.size} bytes, over the ${maxBytes}-byte limit for this file`);
}

function inside(root: string, target: string): boolean {
  const rel = path.relative(root, target);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/**
 * The absolute path of a shard named in model.safetensors.index.json, which must stay inside the model folder:
 * relative, without '..', and (symlinks resolved) inside the folder or, for a Hugging Face cache snapshot
 * (<repo>/snapshots/<rev>/ with links into <repo>/blobs/), inside that repository's cache folder.
 */
export function checkShardPath(dir: string, name: unknown, indexFile: string): string {
  if (typeof name !== 'string' || name.length === 0) throw new Error(`${indexFile}: a shard name must be a non-empty string, got ${JSON.stringify(name)}`);
  if (path.isAbsolute(name) || path.win32.isAbsolute(name) || name.split(/[\\/]/).includes('..')) {
    throw new Error(`${indexFile} names shard ${JSON.stringify(name)}, outside the model folder`);
  }
  const file = path.join(dir, name);
  if (!fs.existsSync(file)) throw new Error(`${indexFile} names shard ${name}, which is missing`);
  const realDir = fs.realpathSync(dir);
  const realFile = fs.realpathSync(file);
  const parent = path.dirname(realDir);
  const cacheRepo = path.basename(parent) === 'snapshots' ? path.dirname(parent) : undefined;
  if (!inside(realDir, realFile) && !(cacheRepo && inside(cacheRepo, realFile))) {
    throw new Error(`${indexFile} names shard ${name}, which resolves to ${realFile}, outside the model folder`);
  }
  checkRegularFile(file);
  return file;
}

function checkBoundedInteger(raw: Record<string, unknown>, key: string, max: number, where: string): void {
  const v = raw[key];
  if (v === undefined || v === null) return;
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0 || v > max) {
    throw new Error(`${where}: "${key}" must be an integer in [1, ${max}], got ${JSON.stringify(v)}`);
  }
}

function checkPositiveNumber(v: unknown, key: string, max: number, where: string): void {
  if (v === undefined || v === null) return;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0 || v > max) throw new Error(`${where}: "${key}" must be a number in (0, ${max}], got ${JSON.stringify(v)}`);
}

/** Bounds of the size keys and RoPE settings of a raw config.json (absent keys are parseConfig's to report). */
export function checkConfigBounds(raw: Record<string, unknown>, where: string): void {
  for (const [key, max] of Object.entries(CONFIG_BOUNDS)) checkBoundedInteger(raw, key, max, where);
  checkPositiveNumber(raw.rope_theta, 'rope_theta', MAX_ROPE_THETA, where);
  if (raw.rms_norm_eps !== undefined && raw.rms_norm_eps !== null) checkPositiveNumber(raw.rms_norm_eps, 'rms_norm_eps', 1, where);
  for (const key of ['rope_scaling', 'rope_parameters']) {
    const r = raw[key];
    if (!r || typeof r !== 'object') continue;
    const rope = r as Record<string, unknown>;
    checkPositiveNumber(rope.rope_theta, `${key}.rope_theta`, MAX_ROPE_THETA, where);
    for (const f of ['factor', 'low_freq_factor', 'high_freq_factor', 'beta_fast', 'beta_slow']) checkPositiveNumber(rope[f], `${key}.${f}`, MAX_ROPE_FACTOR, where);
    checkBoundedInteger(rope, 'original_max_position_embeddings', CONFIG_BOUNDS.original_max_position_embeddings!, `${where} (${key})`);
    for (const list of ['short_factor', 'long_factor']) {
      const v = rope[list];
      if (v === undefined || v === null) continue;
      if (!Array.isArray(v) || v.length > (CONFIG_BOUNDS.head_dim! / 2) || !v.every((x) => typeof x === 'number' && Number.isFinite(x) && x > 0 && x <= MAX_ROPE_FACTOR)) {
        throw new Error(`${where}: "${key}.${list}" must be at most ${CONFIG_BOUNDS.head_dim! / 2} numbers in (0, ${MAX_ROPE_FACTOR}]`);
      }
    }
  }
}

const FLOAT_DTYPES = new Set(['F32', 'F16', 'BF16', 'F64']);

/**
 * Every tensor the architecture needs (`specs`, from weightSpecs) is present, floating point, and of the
 * configured shape; the error names the file, the tensor and the expected shape.
 */
export function checkTensorHeaders(dir: string, specs: readonly { name: string; shape: readonly number[] }[], tensors: ReadonlyMap<string, TensorEntry>): void {
  for (const spec of specs) {
    const entry = tensors.get(spec.name);
    if (!entry) throw new Error(`${dir}: missing tensor ${spec.name} (expected shape [${spec.shape.join(', ')}])`);
    if (!FLOAT_DTYPES.has(entry.dtype)) throw new Error(`${entry.file}: tensor ${spec.name}: expected a floating-point dtype, got ${entry.dtype}`);
    if (entry.shape.length !== spec.shape.length || entry.shape.some((d, i) => d !== spec.shape[i])) {
      throw new Error(`${entry.file}: tensor ${spec.name} has shape [${entry.shape.join(', ')}], expected [${spec.shape.join(', ')}]`);
    }
  }
}

