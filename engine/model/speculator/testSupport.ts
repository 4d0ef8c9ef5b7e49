// Random speculator checkpoints in the accelerator layout, for tests.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeSafetensors, type TensorToWrite } from '../safetensors';

export interface TinySpeculatorOptions {
  nPredict?: number;
  innerDim?: number;
  embDim?: number;
  vocabSize?: number;
  tieWeights?: boolean;
  scaleInput?: boolean;
  seed?: number;
  dtype?: 'F32' | 'F16';
}

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    return s / 2 ** 32;
  };
}

/** Writes config.json + model.safetensors; tied checkpoints store each shared tensor once (as save_pretrained does). */
export function writeTinySpeculator(dir: string, o: TinySpeculatorOptions = {}): Record<string, unknown> {
  const n = o.nPredict ?? 3;
  const I = o.innerDim ?? 16;
  const E = o.embDim ?? 24;
  const V = o.vocabSize ?? 50;
  const tie = o.tieWeights ?? false;
  const rand = rng(o.seed ?? 1);
  const tensor = (name: string, shape: number[], scale: number, offset = 0): TensorToWrite => ({
    name,
    shape,
    data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => offset + (rand() * 2 - 1) * scale),
  });
  const tensors: TensorToWrite[] = [];
  const stored = tie ? 1 : n;
  for (let i = 0; i < stored; i++) tensors.push(tensor(`emb.${i}.weight`, [V, I], 0.5));
  for (let i = 0; i < (tie ? Math.min(2, n) : n); i++) tensors.push(tensor(`proj.${i}.weight`, [I, i === 0 ? E : I], 1 / Math.sqrt(i === 0 ? E : I)));
  for (let i = 0; i < stored; i++) tensors.push(tensor(`head.${i}.weight`, [V, I], 0.5));
  for (let i = 0; i < stored; i++) {
    tensors.push(tensor(`ln.${i}.weight`, [I], 0.3, 1));
    tensors.push(tensor(`ln.${i}.bias`, [I], 0.2));
  }
  const config = {
    architectures: ['MLPSpeculatorPreTrainedModel'], model_type: 'mlp_speculator',
    n_predict: n, inner_dim: I, emb_dim: E, vocab_size: V, top_k_tokens_per_head: Array.from({ length: n }, (_, i) => [4, 3][i] ?? 2),
    tie_weights: tie, scale_input: o.scaleInput ?? true,
  };
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config, null, 2));
  writeSafetensors(path.join(dir, 'model.safetensors'), tensors, o.dtype ?? 'F32');
  return config;
}

export function tempSpeculatorDir(label: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `presage-spec-${label}-`));
}
