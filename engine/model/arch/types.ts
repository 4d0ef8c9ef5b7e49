// The contract every architecture module fills in; the registry (index.ts) maps config.json names to modules.
import type { ModelConfig } from '../config';
import type { DecoderGraph } from './blocks';

/** One tensor the checkpoint must hold. `kind` picks the random initialisation of tiny checkpoints. */
export interface WeightSpec {
  name: string;
  shape: number[];
  kind: 'embedding' | 'norm' | 'linear' | 'bias';
}

/** Reads a weight, checking its shape (graph building). */
export type WeightSource = (name: string, shape: readonly number[]) => Float32Array;
/** Reads a weight by name (the reference forward pass). */
export type WeightLookup = (name: string) => Float32Array;

/** The config fields that differ between architectures; the common ones are parsed once in config.ts. */
export interface ArchitectureConfigFields {
  /** q/k/v projection bias. */
  qkvBias: boolean;
  /** o_proj bias. */
  oBias: boolean;
  /** gate/up/down bias. */
  mlpBias: boolean;
  /** The norm epsilon when the family names it otherwise (starcoder2 `norm_epsilon`); overrides rms_norm_eps. */
  rmsNormEps?: number;
  /** The family's default when config.json has no `tie_word_embeddings` (starcoder2 ties by default). */
  defaultTieWordEmbeddings?: boolean;
  /** granite: the scalars that replace Llama's implicit ones. */
  granite?: GraniteMultipliers;
  /** Sliding-window attention span: a query sees itself and the window - 1 positions before it (mistral, phi3, gemma). */
  slidingWindow?: number;
  /** Per layer, whether it attends through the sliding window (gemma); absent = every layer when slidingWindow is set. */
  slidingLayers?: boolean[];
  /** gemma2 / gemma3: the family's scalars and switches. */
  gemma?: GemmaFields;
  /** Rotated leading dims of each head when fewer than head_dim (phi3 `partial_rotary_factor`). */
  rotaryDim?: number;
}

/** Gemma 2 / 3 config values (query_pre_attn_scalar, soft-capping, the local rope base, per-head q/k norm). */
export interface GemmaFields {
  /** Attention scores are scaled by query_pre_attn_scalar^-0.5 instead of head_dim^-0.5. */
  queryPreAttnScalar: number;
  /** cap · tanh(score / cap) before the mask (`attn_logit_softcapping`), null when off. */
  attnLogitSoftcap: number | null;
  /** cap · tanh(logit / cap) on the output (`final_logit_softcapping`), null when off. */
  finalLogitSoftcap: number | null;
  /** RoPE base of the sliding layers (gemma3 `rope_local_base_freq`; gemma2 uses rope_theta everywhere). */
  localRopeTheta: number;
  /** gemma3: (1+w) RMSNorm over each q and k head (`self_attn.q_norm` / `k_norm`) before rope. */
  qkNorm: boolean;
}

/** Granite's config multipliers (all 1 except attention, whose Llama value is 1/sqrt(head_dim)). */
export interface GraniteMultipliers {
  /** Scales the token embeddings (`embedding_multiplier`). */
  embedding: number;
  /** Attention score scale replacing 1/sqrt(head_dim) (`attention_multiplier`). */
  attention: number;
  /** Scales each block's output before it joins the residual stream (`residual_multiplier`). */
  residual: number;
  /** Logits are divided by it (`logits_scaling`). */
  logitsScaling: number;
}

/** Shape options of `make-tiny-model` that an architecture may read for its own config keys. */
export interface TinyArchitectureOptions {
  tieEmbeddings?: boolean;
  attentionBias?: boolean;
  /** The common shape, for families whose own keys derive from it (qwen3's head_dim). */
  hidden?: number;
  heads?: number;
  headDim?: number;
  /** `sliding_window` of families that have one (null: full attention); each picks a small default. */
  slidingWindow?: number | null;
  /** config.json keys written over the family's tiny defaults (gemma3's real sliding pattern, rope bases, scalars). */
  configOverrides?: Record<string, unknown>;
}

export interface ArchitectureModule {
  /** config.json `architectures[0]`, e.g. 'LlamaForCausalLM'. */
  readonly name: string;
  /** config.json `model_type`, used when `architectures` is absent and as `make-tiny-model --arch`. */
  readonly modelType: string;
  /** Validates and returns this architecture's own config fields; `where` names the file in errors. */
  configFields(raw: Record<string, unknown>, where: string): ArchitectureConfigFields;
  /** Every tensor the checkpoint must hold, with its shape. */
  weightSpecs(c: ModelConfig): WeightSpec[];
  /** Adds the decoder from `input_ids` to `logits` (and the KV outputs) to the graph, from the shared blocks. */
  buildGraph(graph: DecoderGraph, onProgress?: (fraction: number) => void): void;
  /** Naive float64 forward pass (the tests' oracle): logits for a linear sequence decoded from scratch. */
  referenceLogits(c: ModelConfig, weight: WeightLookup, tokens: readonly number[]): Float64Array[];
  /** Architecture-specific config.json keys of a random tiny checkpoint; the common keys are written by tiny.ts. */
  tinyConfig(o: TinyArchitectureOptions): { tieWordEmbeddings: boolean; keys: Record<string, unknown> };
}

/** Hugging Face decoder layer prefix. */
export const layerPrefix = (i: number): string => `model.layers.${i}`;

/** A family's `tinyConfig` result: its keys with `configOverrides` written over them; tied unless the options say. */
export function tinyFamilyConfig(o: TinyArchitectureOptions, tiedByDefault: boolean, keys: Record<string, unknown>): ReturnType<ArchitectureModule['tinyConfig']> {
  return { tieWordEmbeddings: o.tieEmbeddings ?? tiedByDefault, keys: { ...keys, ...o.configOverrides } };
}

/** The head size a tiny checkpoint of these options gets when head_dim is left to hidden / heads (8 without them). */
export const tinyHeadDim = (o: TinyArchitectureOptions): number => o.headDim ?? (o.hidden && o.heads ? o.hidden / o.heads : 8);
