// Random checkpoints in the Hugging Face layout, deterministic per seed (tests, demos, benchmarks).
import fs from 'node:fs';
import path from 'node:path';
import { loadTokenizer } from '../tokenizer';
import { parseConfig } from './config';
import { architectureByModelType } from './arch/index';
import { writeSafetensors } from './safetensors';
import { weightSpecs } from './weights';
import type { TinyCheckpointOptions } from './index';
import { sfc32 } from '../random';

/** sfc32 seeded from a 32-bit integer: uniform floats in [0, 1). */
export function seededRandom(seed: number): () => number {
  return sfc32((seed ^ 0x9e3779b9) >>> 0 || 1, (seed * 0x85ebca6b + 0x1234567) >>> 0 || 2, 0xdeadbeef ^ seed, 0x41c64e6d, 16);
}

function tokenizerVocabSize(dir: string): number {
  const json = JSON.parse(fs.readFileSync(path.join(dir, 'tokenizer.json'), 'utf8')) as {
    model?: { vocab?: Record<string, number> };
    added_tokens?: { id: number }[];
  };
  let max = -1;
  for (const id of Object.values(json.model?.vocab ?? {})) if (id > max) max = id;
  for (const t of json.added_tokens ?? []) if (t.id > max) max = t.id;
  if (max < 0) throw new Error(`${dir}/tokenizer.json: no vocabulary found`);
  return max + 1;
}

function checkDims(o: TinyCheckpointOptions): void {
  for (const key of ['layers', 'hidden', 'heads', 'kvHeads', 'intermediate'] as const) {
    if (!Number.isInteger(o[key]) || o[key] <= 0) throw new Error(`make-tiny-model: --${key === 'kvHeads' ? 'kv-heads' : key} must be a positive integer, got ${o[key]}`);
  }
  architectureByModelType(o.arch);
  if (!Number.isInteger(o.seed)) throw new Error(`make-tiny-model: --seed must be an integer`);
}

export function tinyConfig(o: TinyCheckpointOptions, vocabSize: number, eosTokenId = vocabSize - 1): Record<string, unknown> {
  const arch = architectureByModelType(o.arch);
  const own = arch.tinyConfig(o);
  const eos = eosTokenId;
  return {
    architectures: [arch.name],
    model_type: o.arch,
    vocab_size: vocabSize,
    hidden_size: o.hidden,
    intermediate_size: o.intermediate,
    num_hidden_layers: o.layers,
    num_attention_heads: o.heads,
    num_key_value_heads: o.kvHeads,
    ...(o.headDim !== undefined ? { head_dim: o.headDim } : {}),
    hidden_act: 'silu',
    max_position_embeddings: o.maxPositionEmbeddings ?? 4096,
    rms_norm_eps: 1e-6,
    rope_theta: o.ropeTheta ?? 10000,
    rope_scaling: o.ropeScaling ?? null,
    tie_word_embeddings: own.tieWordEmbeddings,
    ...own.keys,
    bos_token_id: 0,
    eos_token_id: eos,
    torch_dtype: o.dtype === 'BF16' ? 'bfloat16' : o.dtype === 'F16' ? 'float16' : 'float32',
  };
}

export async function writeTiny(o: TinyCheckpointOptions): Promise<void> {
  checkDims(o);
  const vocabSize = o.vocabSize ?? (o.tokenizerDir ? tokenizerVocabSize(o.tokenizerDir) : 256);
  const eos = o.tokenizerDir ? loadTokenizer(o.tokenizerDir).eosTokenIds[0] : undefined;
  const raw = tinyConfig(o, vocabSize, eos !== undefined && eos < vocabSize ? eos : vocabSize - 1);
  const config = parseConfig(raw, 'make-tiny-model');
  fs.mkdirSync(o.out, { recursive: true });
  const rand = seededRandom(o.seed);
  // Uniform in [-a, a] has std a/sqrt(3); scale linears by 1/sqrt(fan_in) so every layer changes the residual.
  const uniform = (n: number, std: number): Float32Array => {
    const out = new Float32Array(n);
    const a = std * Math.sqrt(3);
    for (let i = 0; i < n; i++) out[i] = (rand() * 2 - 1) * a;
    return out;
  };
  const tensors = weightSpecs(config).map((spec) => ({
    name: spec.name,
    shape: spec.shape,
    data: (): Float32Array => {
      const n = spec.shape.reduce((a, b) => a * b, 1);
      if (spec.kind === 'norm') {
        const w = uniform(n, 0.1);
        for (let i = 0; i < n; i++) w[i]! += 1;
        return w;
      }
      if (spec.kind === 'bias') return uniform(n, 0.1);
      if (spec.kind === 'embedding') return uniform(n, 1);
      return uniform(n, 1.5 / Math.sqrt(spec.shape[1]!));
    },
  }));
  writeSafetensors(path.join(o.out, 'model.safetensors'), tensors, o.dtype ?? 'F32');
  fs.writeFileSync(path.join(o.out, 'config.json'), JSON.stringify(raw, null, 2) + '\n');
  fs.writeFileSync(path.join(o.out, 'generation_config.json'), JSON.stringify({ bos_token_id: 0, eos_token_id: raw.eos_token_id, do_sample: false }, null, 2) + '\n');
  if (o.tokenizerDir) {
    for (const f of ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'vocab.json', 'merges.txt']) {
      const src = path.join(o.tokenizerDir, f);
      const dest = path.join(o.out, f);
      if (fs.existsSync(src)) {
        fs.rmSync(dest, { force: true });
        fs.copyFileSync(src, dest);
        fs.chmodSync(dest, 0o644);
      }
      else if (f === 'tokenizer.json') throw new Error(`make-tiny-model: ${src} not found`);
    }
  }
}
