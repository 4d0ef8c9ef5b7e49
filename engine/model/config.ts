// Parses a Hugging Face config.json into the few numbers the graph builder and the reference need.
// The keys every architecture shares are parsed here; the registry (arch/) adds each family's own fields.
import { findArchitecture, SUPPORTED_ARCHITECTURES, unsupportedArchitectureMessage } from './arch/index';
import type { ArchitectureConfigFields } from './arch/types';

export { SUPPORTED_ARCHITECTURES };
export { ropeInvFreq } from './arch/rope';
/** A registered `architectures[0]` name (see arch/index.ts). */
export type Architecture = string;

export type RopeScaling =
  | { type: 'none' }
  | { type: 'linear'; factor: number }
  | { type: 'llama3'; factor: number; lowFreqFactor: number; highFreqFactor: number; originalMaxPosition: number }
  /** Phi-3's longrope ("su"): per-frequency divisors, short below originalMaxPosition, long beyond; cos/sin scaled by attentionFactor. */
  | { type: 'longrope'; shortFactor: number[]; longFactor: number[]; originalMaxPosition: number; attentionFactor: number };

export interface ModelConfig extends ArchitectureConfigFields {
  architecture: Architecture;
  modelType: string;
  vocabSize: number;
  hiddenSize: number;
  intermediateSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  rmsNormEps: number;
  ropeTheta: number;
  ropeScaling: RopeScaling;
  maxPositionEmbeddings: number;
  tieWordEmbeddings: boolean;
  /** q/k/v projection bias. */
  qkvBias: boolean;
  /** o_proj bias (llama attention_bias). */
  oBias: boolean;
  /** gate/up/down bias (llama mlp_bias). */
  mlpBias: boolean;
  eosTokenIds: number[];
}

function positiveInt(raw: Record<string, unknown>, key: string, where: string): number {
  const v = raw[key];
  if (v === undefined || v === null) throw new Error(`${where}: missing required key "${key}"`);
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) throw new Error(`${where}: "${key}" must be a positive integer, got ${JSON.stringify(v)}`);
  return v;
}

function optionalNumber(raw: Record<string, unknown>, key: string, fallback: number, where: string): number {
  const v = raw[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`${where}: "${key}" must be a number, got ${JSON.stringify(v)}`);
  return v;
}

export function tokenIdList(v: unknown): number[] {
  if (typeof v === 'number' && Number.isInteger(v)) return [v];
  if (Array.isArray(v)) return v.filter((x): x is number => typeof x === 'number' && Number.isInteger(x));
  return [];
}

function parseRopeScaling(v: unknown, where: string, top: Record<string, unknown> = {}): RopeScaling {
  if (v === undefined || v === null) return { type: 'none' };
  if (typeof v !== 'object') throw new Error(`${where}: "rope_scaling" must be an object or null`);
  const r = v as Record<string, unknown>;
  const type = (r.rope_type ?? r.type) as unknown;
  if (type === 'default' || (type === undefined && r.rope_theta !== undefined)) return { type: 'none' };
  if (type === 'linear') {
    const factor = optionalNumber(r, 'factor', NaN, where);
    if (!(factor > 0)) throw new Error(`${where}: rope_scaling type linear needs a positive "factor"`);
    return { type: 'linear', factor };
  }
  if (type === 'llama3') {
    const factor = optionalNumber(r, 'factor', NaN, where);
    const lowFreqFactor = optionalNumber(r, 'low_freq_factor', NaN, where);
    const highFreqFactor = optionalNumber(r, 'high_freq_factor', NaN, where);
    const originalMaxPosition = optionalNumber(r, 'original_max_position_embeddings', NaN, where);
    if (![factor, lowFreqFactor, highFreqFactor, originalMaxPosition].every((x) => x > 0) || highFreqFactor === lowFreqFactor) {
      throw new Error(`${where}: rope_scaling type llama3 needs factor, low_freq_factor, high_freq_factor (distinct) and original_max_position_embeddings`);
    }
    return { type: 'llama3', factor, lowFreqFactor, highFreqFactor, originalMaxPosition };
  }
  if (type === 'longrope' || type === 'su') return parseLongrope(r, top, where);
  throw new Error(`${where}: unsupported rope_scaling type ${JSON.stringify(type)} (supported: default, linear, llama3, longrope)`);
}

/** As transformers: original_max_position_embeddings (top level or in rope_scaling) and max_position_embeddings give the attention factor. */
function parseLongrope(r: Record<string, unknown>, top: Record<string, unknown>, where: string): RopeScaling {
  const factors = (key: string): number[] => {
    const f = r[key];
    if (!Array.isArray(f) || f.length === 0 || f.length > 4096 || !f.every((x) => typeof x === 'number' && Number.isFinite(x) && x > 0)) {
      throw new Error(`${where}: rope_scaling type longrope needs "${key}", a list of positive numbers`);
    }
    return f as number[];
  };
  const shortFactor = factors('short_factor');
  const longFactor = factors('long_factor');
  if (shortFactor.length !== longFactor.length) throw new Error(`${where}: rope_scaling short_factor and long_factor differ in length (${shortFactor.length} vs ${longFactor.length})`);
  const maxPosition = optionalNumber(top, 'max_position_embeddings', 4096, where);
  const original = optionalNumber(top, 'original_max_position_embeddings', optionalNumber(r, 'original_max_position_embeddings', NaN, where), where);
  const originalMaxPosition = original > 0 ? original : maxPosition;
  const factor = original > 0 ? maxPosition / original : optionalNumber(r, 'factor', 1, where);
  const given = r.attention_factor;
  const attentionFactor = typeof given === 'number' && Number.isFinite(given) && given > 0
    ? given
    : factor <= 1 ? 1 : Math.sqrt(1 + Math.log(factor) / Math.log(originalMaxPosition));
  return { type: 'longrope', shortFactor, longFactor, originalMaxPosition, attentionFactor };
}

function withoutUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Validates and normalises a parsed config.json; `where` names the file in error messages. */
export function parseConfig(raw: Record<string, unknown>, where = 'config.json'): ModelConfig {
  const archs = raw.architectures;
  const arch = Array.isArray(archs) && typeof archs[0] === 'string' ? (archs[0] as string) : undefined;
  const modelType = typeof raw.model_type === 'string' ? raw.model_type : undefined;
  const family = findArchitecture(arch, modelType);
  if (!family) throw new Error(`${where}: ${unsupportedArchitectureMessage(arch ?? modelType ?? null)}`);
  const hiddenSize = positiveInt(raw, 'hidden_size', where);
  const numHeads = positiveInt(raw, 'num_attention_heads', where);
  const numKvHeads = raw.num_key_value_heads === undefined || raw.num_key_value_heads === null ? numHeads : positiveInt(raw, 'num_key_value_heads', where);
  if (numHeads % numKvHeads !== 0) throw new Error(`${where}: num_attention_heads (${numHeads}) must be a multiple of num_key_value_heads (${numKvHeads})`);
  const headDim = raw.head_dim === undefined || raw.head_dim === null ? hiddenSize / numHeads : positiveInt(raw, 'head_dim', where);
  if (!Number.isInteger(headDim) || headDim % 2 !== 0) throw new Error(`${where}: head size ${headDim} must be an even integer`);
  const fields = family.configFields(raw, where);
  // transformers 5 writes rope settings as rope_parameters {rope_type, rope_theta, factor, ...}.
  const ropeParams = raw.rope_parameters && typeof raw.rope_parameters === 'object' ? (raw.rope_parameters as Record<string, unknown>) : undefined;
  const ropeTheta = raw.rope_theta ?? ropeParams?.rope_theta;
  const ropeScaling = raw.rope_scaling ?? ropeParams;
  return {
    architecture: family.name,
    modelType: modelType ?? family.modelType,
    vocabSize: positiveInt(raw, 'vocab_size', where),
    hiddenSize,
    intermediateSize: positiveInt(raw, 'intermediate_size', where),
    numLayers: positiveInt(raw, 'num_hidden_layers', where),
    numHeads,
    numKvHeads,
    headDim,
    rmsNormEps: optionalNumber(raw, 'rms_norm_eps', 1e-6, where),
    ropeTheta: optionalNumber({ rope_theta: ropeTheta }, 'rope_theta', 10000, where),
    ropeScaling: parseRopeScaling(ropeScaling, where, raw),
    maxPositionEmbeddings: raw.max_position_embeddings === undefined ? 4096 : positiveInt(raw, 'max_position_embeddings', where),
    tieWordEmbeddings: raw.tie_word_embeddings === undefined ? (fields.defaultTieWordEmbeddings ?? false) : raw.tie_word_embeddings === true,
    qkvBias: fields.qkvBias,
    oBias: fields.oBias,
    mlpBias: fields.mlpBias,
    eosTokenIds: tokenIdList(raw.eos_token_id),
    // The family's own fields last: they may override a common default (starcoder2's norm_epsilon, tied head).
    ...withoutUndefined(fields),
  };
}
