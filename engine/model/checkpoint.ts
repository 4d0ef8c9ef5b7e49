// A checkpoint folder on disk: config.json plus one or more safetensors files (sharded via model.safetensors.index.json).
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { parseConfig, tokenIdList, type ModelConfig } from './config';
import { readSafetensorsHeader, readTensorF32, type TensorEntry } from './safetensors';
import { readJsonFile } from '../jsonFile';
import { checkConfigBounds, checkRegularFile, checkShardPath, checkTensorHeaders, MAX_JSON_FILE_BYTES } from './validate';
import { weightSpecs } from './weights';

export interface Checkpoint {
  dir: string;
  config: ModelConfig;
  rawConfig: Record<string, unknown>;
  tensors: Map<string, TensorEntry>;
  files: string[];
  /** eos ids from generation_config.json then config.json. */
  eosTokenIds: number[];
}

function weightFiles(dir: string): string[] {
  const index = path.join(dir, 'model.safetensors.index.json');
  if (fs.existsSync(index)) {
    checkRegularFile(index, MAX_JSON_FILE_BYTES);
    const map = readJsonFile(index).weight_map;
    if (!map || typeof map !== 'object') throw new Error(`${index}: missing "weight_map"`);
    const files = [...new Set(Object.values(map as Record<string, unknown>))].map(String).sort();
    return files.map((f) => checkShardPath(dir, f, index));
  }
  const single = path.join(dir, 'model.safetensors');
  if (fs.existsSync(single)) {
    checkRegularFile(single);
    return [single];
  }
  const any = fs.readdirSync(dir).filter((f) => f.endsWith('.safetensors')).sort();
  if (any.length === 0) throw new Error(`${dir}: no *.safetensors weights found (pytorch .bin checkpoints are not supported)`);
  return any.map((f) => checkShardPath(dir, f, dir));
}

export function openCheckpoint(dir: string): Checkpoint {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new Error(`checkpoint folder not found: ${dir}`);
  const configFile = path.join(dir, 'config.json');
  checkRegularFile(configFile, MAX_JSON_FILE_BYTES);
  const rawConfig = readJsonFile(configFile);
  const config = parseConfig(rawConfig, configFile);
  // The architecture's own checks first (their messages), then the shared bounds, before anything is sized by them.
  checkConfigBounds(rawConfig, configFile);
  const files = weightFiles(dir);
  const tensors = new Map<string, TensorEntry>();
  for (const f of files) for (const [name, e] of readSafetensorsHeader(f).tensors) tensors.set(name, e);
  checkTensorHeaders(dir, weightSpecs(config), tensors);
  const genFile = path.join(dir, 'generation_config.json');
  if (fs.existsSync(genFile)) checkRegularFile(genFile, MAX_JSON_FILE_BYTES);
  const gen = fs.existsSync(genFile) ? readJsonFile(genFile) : {};
  const eosTokenIds = [...new Set([...tokenIdList(gen.eos_token_id), ...config.eosTokenIds])];
  return { dir, config, rawConfig, tensors, files, eosTokenIds };
}

/** Reads a float tensor, checking that it exists and has the expected shape. */
export function readWeight(ckpt: Checkpoint, name: string, shape: readonly number[]): Float32Array {
  const entry = ckpt.tensors.get(name);
  if (!entry) throw new Error(`${ckpt.dir}: missing tensor ${name}`);
  if (entry.shape.length !== shape.length || entry.shape.some((d, i) => d !== shape[i])) {
    throw new Error(`${ckpt.dir}: tensor ${name} has shape [${entry.shape.join(', ')}], expected [${shape.join(', ')}]`);
  }
  return readTensorF32(entry);
}

const SAMPLE = 1 << 20;

/**
 * A content hash of the checkpoint: config, every safetensors header, file sizes and sampled data blocks
 * (whole files when small). Cheap for multi-GB checkpoints, sensitive to any re-export.
 */
export function checkpointHash(ckpt: Checkpoint): string {
  const h = crypto.createHash('sha256');
  h.update(JSON.stringify(ckpt.rawConfig));
  for (const file of ckpt.files) {
    const header = readSafetensorsHeader(file);
    h.update(path.basename(file));
    h.update(String(header.fileSize));
    h.update(header.headerBytes);
    const fd = fs.openSync(file, 'r');
    try {
      const buf = Buffer.alloc(SAMPLE);
      const stride = header.fileSize <= 64 * SAMPLE ? SAMPLE : Math.floor(header.fileSize / 64);
      for (let pos = header.dataStart; pos < header.fileSize; pos += stride) {
        const n = fs.readSync(fd, buf, 0, Math.min(SAMPLE, header.fileSize - pos), pos);
        h.update(buf.subarray(0, n));
      }
    } finally {
      fs.closeSync(fd);
    }
  }
  return h.digest('hex');
}
