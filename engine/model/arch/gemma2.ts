// Gemma 2 (Gemma2ForCausalLM) and, through the same builder, text-only Gemma 3 (gemma3.ts): (1 + w) RMSNorm,
// embeddings scaled by sqrt(hidden), GeGLU (gelu_pytorch_tanh), norms before and after both attention and the
// feed-forward, scores scaled by query_pre_attn_scalar^-0.5, optional tanh soft-capping of scores and logits,
// sliding-window layers next to global ones (each with its rope base), a tied head.
import type { ModelConfig } from '../config';
import type { DecoderGraph } from './blocks';
import { positiveNumber, slidingWindowField } from './configFields';
import { buildPreNormGraph, preNormReferenceLogits, referenceProjection, referenceRopedQkv, separateProjections } from './preNorm';
import { geluTanh, linear, offsetRmsNorm, referenceInvFreq, windowedAttention } from './referenceBlocks';
import { plainInvFreq, ropeInvFreq } from './rope';
import { layerPrefix, tinyFamilyConfig, tinyHeadDim, type ArchitectureConfigFields, type ArchitectureModule, type WeightLookup, type WeightSpec } from './types';

const MAX_LAYERS = 4096;

/** A positive number, null when config.json says null (e.g. soft-capping off), `fallback` when the key is absent. */
function optionalPositive(raw: Record<string, unknown>, key: string, fallback: number | null, where: string): number | null {
  return key in raw ? positiveNumber(raw, key, where, null, { nullable: true }) : fallback;
}

/** The config fields both Gemma generations share; `family` picks the defaults transformers uses for absent keys. */
export function gemmaConfigFields(raw: Record<string, unknown>, where: string, family: 'gemma2' | 'gemma3'): ArchitectureConfigFields {
  // transformers' Gemma MLP reads hidden_activation; hidden_act is the older key.
  const act = raw.hidden_activation ?? raw.hidden_act ?? 'gelu_pytorch_tanh';
  if (act !== 'gelu_pytorch_tanh') throw new Error(`${where}: unsupported hidden_activation ${JSON.stringify(act)} (supported: gelu_pytorch_tanh)`);
  const layers = raw.num_hidden_layers;
  if (typeof layers !== 'number' || !Number.isInteger(layers) || layers <= 0 || layers > MAX_LAYERS) throw new Error(`${where}: "num_hidden_layers" must be an integer in 1..${MAX_LAYERS}, got ${JSON.stringify(layers)}`);
  const slidingWindow = slidingWindowField({ sliding_window: 'sliding_window' in raw ? raw.sliding_window : 4096 }, where);
  let slidingLayers: boolean[];
  if (Array.isArray(raw.layer_types)) {
    const types = raw.layer_types as unknown[];
    if (types.length !== layers || !types.every((t) => t === 'sliding_attention' || t === 'full_attention')) {
      throw new Error(`${where}: "layer_types" must list ${layers} entries, each "sliding_attention" or "full_attention"`);
    }
    slidingLayers = types.map((t) => t === 'sliding_attention');
  } else {
    // gemma2 alternates (layer 0 slides); gemma3 slides on all but every sliding_window_pattern-th layer.
    const pattern = family === 'gemma2' ? 2 : positiveNumber(raw, 'sliding_window_pattern', where, 6, { integer: true });
    slidingLayers = Array.from({ length: layers }, (_, i) => (i + 1) % pattern !== 0);
  }
  const ropeTheta = optionalPositive(raw, 'rope_theta', 10000, where) ?? 10000;
  const queryPreAttnScalar = optionalPositive(raw, 'query_pre_attn_scalar', 256, where);
  if (queryPreAttnScalar === null) throw new Error(`${where}: "query_pre_attn_scalar" must be a positive number`);
  const bias = raw.attention_bias === true;
  return {
    qkvBias: bias,
    oBias: bias,
    mlpBias: false,
    defaultTieWordEmbeddings: true,
    // The layer types pick the rope base even when sliding_window is null (then no layer is windowed).
    slidingLayers,
    ...slidingWindow,
    gemma: {
      queryPreAttnScalar,
      // transformers' Gemma 3 attention never passes attn_logit_softcapping on (released configs set null anyway).
      attnLogitSoftcap: family === 'gemma2' ? optionalPositive(raw, 'attn_logit_softcapping', 50, where) : null,
      finalLogitSoftcap: optionalPositive(raw, 'final_logit_softcapping', family === 'gemma2' ? 30 : null, where),
      localRopeTheta: family === 'gemma3' ? (optionalPositive(raw, 'rope_local_base_freq', 10000, where) ?? 10000) : ropeTheta,
      qkNorm: family === 'gemma3',
    },
  };
}

export function gemmaWeightSpecs(c: ModelConfig): WeightSpec[] {
  const q = c.numHeads * c.headDim;
  const kv = c.numKvHeads * c.headDim;
  const H = c.hiddenSize;
  const I = c.intermediateSize;
  const specs: WeightSpec[] = [{ name: 'model.embed_tokens.weight', shape: [c.vocabSize, H], kind: 'embedding' }];
  for (let i = 0; i < c.numLayers; i++) {
    const p = layerPrefix(i);
    specs.push({ name: `${p}.input_layernorm.weight`, shape: [H], kind: 'norm' });
    specs.push({ name: `${p}.self_attn.q_proj.weight`, shape: [q, H], kind: 'linear' });
    specs.push({ name: `${p}.self_attn.k_proj.weight`, shape: [kv, H], kind: 'linear' });
    specs.push({ name: `${p}.self_attn.v_proj.weight`, shape: [kv, H], kind: 'linear' });
    specs.push({ name: `${p}.self_attn.o_proj.weight`, shape: [H, q], kind: 'linear' });
    if (c.qkvBias) {
      specs.push({ name: `${p}.self_attn.q_proj.bias`, shape: [q], kind: 'bias' });
      specs.push({ name: `${p}.self_attn.k_proj.bias`, shape: [kv], kind: 'bias' });
      specs.push({ name: `${p}.self_attn.v_proj.bias`, shape: [kv], kind: 'bias' });
      specs.push({ name: `${p}.self_attn.o_proj.bias`, shape: [H], kind: 'bias' });
    }
    if (c.gemma?.qkNorm) {
      specs.push({ name: `${p}.self_attn.q_norm.weight`, shape: [c.headDim], kind: 'norm' });
      specs.push({ name: `${p}.self_attn.k_norm.weight`, shape: [c.headDim], kind: 'norm' });
    }
    specs.push({ name: `${p}.post_attention_layernorm.weight`, shape: [H], kind: 'norm' });
    specs.push({ name: `${p}.pre_feedforward_layernorm.weight`, shape: [H], kind: 'norm' });
    specs.push({ name: `${p}.post_feedforward_layernorm.weight`, shape: [H], kind: 'norm' });
    specs.push({ name: `${p}.mlp.gate_proj.weight`, shape: [I, H], kind: 'linear' });
    specs.push({ name: `${p}.mlp.up_proj.weight`, shape: [I, H], kind: 'linear' });
    specs.push({ name: `${p}.mlp.down_proj.weight`, shape: [H, I], kind: 'linear' });
  }
  specs.push({ name: 'model.norm.weight', shape: [H], kind: 'norm' });
  if (!c.tieWordEmbeddings) specs.push({ name: 'lm_head.weight', shape: [c.vocabSize, H], kind: 'linear' });
  return specs;
}

/** A sliding-type layer (local rope base); it is windowed when the config has a sliding_window. */
const isSlidingLayer = (c: ModelConfig, l: number): boolean => c.slidingLayers?.[l] ?? true;
const windowOf = (c: ModelConfig, l: number): number | null => (isSlidingLayer(c, l) && c.slidingWindow !== undefined ? c.slidingWindow : null);

/** transformers multiplies the embeddings by sqrt(hidden) in the weights' dtype: float32 here. */
const embedScale = (c: ModelConfig): number => Math.fround(Math.sqrt(c.hiddenSize));

export function buildGemmaGraph(b: DecoderGraph, onProgress?: (fraction: number) => void): void {
  const c = b.config;
  const gm = c.gemma!;
  const H = c.hiddenSize;
  const D = c.headDim;
  const norm = b.offsetRmsNorm();
  // Global layers: rope_theta with rope_scaling; sliding layers: the local base, unscaled.
  const globalRope = b.rotaryTable('rope.global', ropeInvFreq(c));
  const anySliding = Array.from({ length: c.numLayers }, (_, l) => isSlidingLayer(c, l)).some(Boolean);
  const localRope = anySliding ? b.rotaryTable('rope.local', plainInvFreq(gm.localRopeTheta, D)) : globalRope;
  const attention = b.windowedTreeAttention({ scale: gm.queryPreAttnScalar ** -0.5, softcap: gm.attnLogitSoftcap });
  buildPreNormGraph(b, {
    norm: (x, prefix) => norm(x, `${prefix}.weight`, H),
    attention: (l, xn, p) => attention(l, separateProjections(b, xn, p), {
      rope: isSlidingLayer(c, l) ? localRope : globalRope,
      window: windowOf(c, l),
      ...(gm.qkNorm ? { beforeRope: (t: string, which: 'q' | 'k') => norm(t, `${p}.self_attn.${which}_norm.weight`, D) } : {}),
    }),
    attentionOutput: (attn, p) => norm(b.linear(attn, `${p}.self_attn.o_proj`, H, c.numHeads * D, c.oBias), `${p}.post_attention_layernorm.weight`, H),
    mlpNorm: 'pre_feedforward_layernorm',
    mlp: (hn, p) => norm(b.gegluMlp(hn, `${p}.mlp`), `${p}.post_feedforward_layernorm.weight`, H),
    embeddingScale: { name: 'model.embed_scale', value: embedScale(c) },
  }, onProgress);
  if (gm.finalLogitSoftcap !== null) b.capLogits(gm.finalLogitSoftcap);
}

export function gemmaReferenceLogits(c: ModelConfig, weight: WeightLookup, tokens: readonly number[]): Float64Array[] {
  const gm = c.gemma!;
  const H = c.hiddenSize;
  const D = c.headDim;
  const eps = c.rmsNormEps;
  const globalInv = referenceInvFreq(c);
  const localInv = plainInvFreq(gm.localRopeTheta, D);
  const proj = referenceProjection(weight);
  const norm = (x: Float64Array, name: string): Float64Array => offsetRmsNorm(x, weight(`${name}.weight`), eps);
  const headNorm = (v: Float64Array, heads: number, w: Float32Array): void => {
    for (let h = 0; h < heads; h++) v.set(offsetRmsNorm(v.subarray(h * D, (h + 1) * D), w, eps), h * D);
  };
  const qkNorm = (q: Float64Array, k: Float64Array, p: string): void => {
    headNorm(q, c.numHeads, weight(`${p}.self_attn.q_norm.weight`));
    headNorm(k, c.numKvHeads, weight(`${p}.self_attn.k_norm.weight`));
  };
  const cap = gm.finalLogitSoftcap;
  return preNormReferenceLogits(c, weight, tokens, {
    norm,
    qkv: referenceRopedQkv(c, weight, (l) => (isSlidingLayer(c, l) ? localInv : globalInv), gm.qkNorm ? qkNorm : undefined),
    attend: (queries, keys, values, pos, l) => windowedAttention(c, queries, keys, values, pos, { scale: gm.queryPreAttnScalar ** -0.5, softcap: gm.attnLogitSoftcap, window: windowOf(c, l) }),
    attentionOutput: (attn, p) => norm(proj(attn, `${p}.self_attn.o_proj`, H, c.oBias), `${p}.post_attention_layernorm`),
    mlpNorm: 'pre_feedforward_layernorm',
    mlp: (hn, p) => {
      const gate = geluTanh(linear(hn, weight(`${p}.mlp.gate_proj.weight`), c.intermediateSize));
      const up = linear(hn, weight(`${p}.mlp.up_proj.weight`), c.intermediateSize);
      for (let i = 0; i < gate.length; i++) gate[i]! *= up[i]!;
      return norm(linear(gate, weight(`${p}.mlp.down_proj.weight`), H), `${p}.post_feedforward_layernorm`);
    },
    embeddingScale: embedScale(c),
    logits: (row) => {
      if (cap !== null) for (let i = 0; i < row.length; i++) row[i] = cap * Math.tanh(row[i]! / cap);
      return row;
    },
  });
}

/** A Gemma generation's module: the shared builder, with `family`'s config defaults and its own tiny-checkpoint keys. */
export function gemmaModule(name: string, modelType: string, family: 'gemma2' | 'gemma3', tinyKeys: Record<string, unknown>): ArchitectureModule {
  return {
    name,
    modelType,
    configFields: (raw, where) => gemmaConfigFields(raw, where, family),
    weightSpecs: gemmaWeightSpecs,
    buildGraph: buildGemmaGraph,
    referenceLogits: gemmaReferenceLogits,
    tinyConfig: (o) =>
      tinyFamilyConfig(o, true, {
        hidden_act: 'gelu_pytorch_tanh',
        hidden_activation: 'gelu_pytorch_tanh',
        attention_bias: o.attentionBias ?? false,
        // Not head_dim, so a scale taken from the wrong key shows.
        query_pre_attn_scalar: 3 * tinyHeadDim(o),
        sliding_window: o.slidingWindow === undefined ? 4 : o.slidingWindow,
        ...tinyKeys,
      }),
  };
}

export const gemma2 = gemmaModule('Gemma2ForCausalLM', 'gemma2', 'gemma2', {
  // Smaller than the released 50 / 30 so that the caps bite on random weights.
  attn_logit_softcapping: 2,
  final_logit_softcapping: 5,
});
