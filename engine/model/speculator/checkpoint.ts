// MLP speculator checkpoints in the layout of the published `*-accelerator` models (IBM fms-extras): config.json
// with n_predict, inner_dim, emb_dim, vocab_size (+ top_k_tokens_per_head, tie_weights, scale_input) and
// model.safetensors with emb.i.weight [vocab, inner], proj.i.weight [inner, in], head.i.weight [vocab, inner],
// ln.i.weight / ln.i.bias [inner]. Everything is checked before any weight is read, so a malformed checkpoint
// fails fast with a message that names the file, the key and what was expected.
import fs from 'node:fs';
import path from 'node:path';
import { readSafetensorsHeader, readTensorF32, type TensorEntry } from '../safetensors';

export interface SpeculatorConfig {
  nPredict: number;
  innerDim: number;
  embDim: number;
  vocabSize: number;
  /** Candidates per head when drafting (config `top_k_tokens_per_head`; defaults to 4, 3, 2, 2, …). */
  topKPerHead: number[];
  /** Heads share emb, head and ln; proj is shared from head 1 on (its input size differs at head 0). */
  tieWeights: boolean;
  /** The base state goes through a plain RMS norm and / sqrt(2) before head 0. */
  scaleInput: boolean;
}

/** One head's float32 weights (row-major, Hugging Face [out, in] layout). */
export interface SpeculatorHeadWeights {
  emb: Float32Array;
  proj: Float32Array;
  /** proj's input size: emb_dim at head 0, inner_dim after. */
  projIn: number;
  head: Float32Array;
  lnWeight: Float32Array;
  lnBias: Float32Array;
}

export interface SpeculatorCheckpoint {
  dir: string;
  config: SpeculatorConfig;
  heads: SpeculatorHeadWeights[];
}

/** fms-extras' LayerNormParameterized epsilon (the accelerator configs do not carry one). */
export const SPECULATOR_LN_EPS = 1e-6;

/** The fixed mixing weights of state and token embedding (fms-extras): w_s and w_e. */
export function mixingWeights(c: Pick<SpeculatorConfig, 'nPredict' | 'innerDim'>): { stateWeight: number; embWeight: number } {
  const stateWeight = 0.5 ** (0.5 / c.nPredict);
  return { stateWeight, embWeight: Math.sqrt((1 - stateWeight ** 2) * (c.innerDim / 2)) };
}

function positiveInt(raw: Record<string, unknown>, key: string, origin: string, max: number): number {
  const v = raw[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max) {
    throw new Error(`${origin}: "${key}" must be an integer in 1..${max}, got ${JSON.stringify(v)}`);
  }
  return v;
}

function optionalBool(raw: Record<string, unknown>, key: string, origin: string, fallback: boolean): boolean {
  const v = raw[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'boolean') throw new Error(`${origin}: "${key}" must be true or false, got ${JSON.stringify(v)}`);
  return v;
}

export function parseSpeculatorConfig(raw: unknown, origin: string): SpeculatorConfig {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new Error(`${origin}: expected a JSON object`);
  const r = raw as Record<string, unknown>;
  if (r.model_type !== undefined && r.model_type !== 'mlp_speculator') {
    throw new Error(`${origin}: model_type is ${JSON.stringify(r.model_type)}, expected "mlp_speculator" (an IBM *-accelerator speculator)`);
  }
  const nPredict = positiveInt(r, 'n_predict', origin, 16);
  const innerDim = positiveInt(r, 'inner_dim', origin, 65536);
  const embDim = positiveInt(r, 'emb_dim', origin, 65536);
  const vocabSize = positiveInt(r, 'vocab_size', origin, 1 << 22);
  const tieWeights = optionalBool(r, 'tie_weights', origin, false);
  const scaleInput = optionalBool(r, 'scale_input', origin, false);
  if (tieWeights && nPredict < 2) throw new Error(`${origin}: tie_weights needs n_predict >= 2 (there is nothing to tie)`);
  let topKPerHead: number[];
  const rawTopK = r.top_k_tokens_per_head;
  if (rawTopK === undefined || rawTopK === null) topKPerHead = Array.from({ length: nPredict }, (_, i) => [4, 3][i] ?? 2);
  else {
    if (!Array.isArray(rawTopK) || rawTopK.length < nPredict || rawTopK.some((k) => typeof k !== 'number' || !Number.isInteger(k) || k < 1 || k > 64)) {
      throw new Error(`${origin}: "top_k_tokens_per_head" must list n_predict (${nPredict}) integers in 1..64, got ${JSON.stringify(rawTopK)}`);
    }
    topKPerHead = (rawTopK as number[]).slice(0, nPredict);
  }
  return { nPredict, innerDim, embDim, vocabSize, topKPerHead, tieWeights, scaleInput };
}

/** The tensor name head i reads for `kind`, given what the file holds (tied checkpoints may store one copy). */
function tensorFor(tensors: Map<string, TensorEntry>, kind: string, suffix: string, i: number, c: SpeculatorConfig): string | undefined {
  const own = `${kind}.${i}.${suffix}`;
  if (tensors.has(own)) return own;
  if (!c.tieWeights) return undefined;
  const shared = kind === 'proj' ? (i >= 1 ? `proj.1.${suffix}` : undefined) : `${kind}.0.${suffix}`;
  return shared !== undefined && tensors.has(shared) ? shared : undefined;
}

/** Reads and checks a speculator folder (config.json + model.safetensors). */
export function loadSpeculatorCheckpoint(dir: string, expect?: { hiddenSize: number; vocabSize: number }): SpeculatorCheckpoint {
  const configFile = path.join(dir, 'config.json');
  if (!fs.existsSync(configFile)) throw new Error(`${dir}: no config.json (not a speculator checkpoint)`);
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(configFile, 'utf8'));
  } catch (err) {
    throw new Error(`${configFile}: not valid JSON (${(err as Error).message})`);
  }
  const config = parseSpeculatorConfig(raw, configFile);
  if (expect && expect.hiddenSize !== config.embDim) {
    throw new Error(`${configFile}: emb_dim ${config.embDim} does not match the base model's hidden size ${expect.hiddenSize}`);
  }
  if (expect && expect.vocabSize !== config.vocabSize) {
    throw new Error(`${configFile}: vocab_size ${config.vocabSize} does not match the base model's vocabulary ${expect.vocabSize}`);
  }
  const weightsFile = path.join(dir, 'model.safetensors');
  if (!fs.existsSync(weightsFile)) throw new Error(`${dir}: no model.safetensors next to config.json`);
  const { tensors } = readSafetensorsHeader(weightsFile);
  const { innerDim: I, embDim: E, vocabSize: V } = config;
  const plan: { name: string; shape: number[] }[][] = [];
  for (let i = 0; i < config.nPredict; i++) {
    const projIn = i === 0 ? E : I;
    const parts = [
      ['emb', 'weight', [V, I]],
      ['proj', 'weight', [I, projIn]],
      ['head', 'weight', [V, I]],
      ['ln', 'weight', [I]],
      ['ln', 'bias', [I]],
    ] as const;
    plan.push(parts.map(([kind, suffix, shape]) => {
      const name = tensorFor(tensors, kind, suffix, i, config);
      if (name === undefined) throw new Error(`${weightsFile}: missing tensor ${kind}.${i}.${suffix} (shape [${shape.join(', ')}])${config.tieWeights ? ' or its tied copy' : ''}`);
      const entry = tensors.get(name)!;
      if (entry.shape.length !== shape.length || entry.shape.some((d, k) => d !== shape[k])) {
        throw new Error(`${weightsFile}: tensor ${name} has shape [${entry.shape.join(', ')}], expected [${shape.join(', ')}] for n_predict ${config.nPredict}, inner_dim ${I}, emb_dim ${E}, vocab_size ${V}`);
      }
      if (!['F32', 'F16', 'BF16'].includes(entry.dtype)) throw new Error(`${weightsFile}: tensor ${name} has dtype ${entry.dtype}, expected F32, F16 or BF16`);
      return { name, shape: [...shape] };
    }));
  }
  const cache = new Map<string, Float32Array>();
  const read = (name: string): Float32Array => {
    let t = cache.get(name);
    if (!t) {
      t = Float32Array.from(readTensorF32(tensors.get(name)!));
      for (const v of t) if (!Number.isFinite(v)) throw new Error(`${weightsFile}: tensor ${name} holds a non-finite value`);
      cache.set(name, t);
    }
    return t;
  };
  const heads = plan.map((parts, i) => ({
    emb: read(parts[0]!.name),
    proj: read(parts[1]!.name),
    projIn: i === 0 ? E : I,
    head: read(parts[2]!.name),
    lnWeight: read(parts[3]!.name),
    lnBias: read(parts[4]!.name),
  }));
  return { dir, config, heads };
}
