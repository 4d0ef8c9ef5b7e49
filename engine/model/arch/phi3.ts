// Phi-3 (Phi3ForCausalLM; Phi-3/3.5-mini, Phi-4-mini): the Llama decoder with fused projections
// (self_attn.qkv_proj = [q; k; v], mlp.gate_up_proj = [gate; up]), optional partial rotary
// (partial_rotary_factor: the first head_dim · f dims rotate), longrope ("su") scaling with short/long factors
// around original_max_position_embeddings, and a sliding window on every layer when `sliding_window` is set.
import type { ModelConfig } from '../config';
import type { DecoderGraph } from './blocks';
import { requireActivation, slidingWindowField } from './configFields';
import { buildPreNormGraph, preNormReferenceLogits, ropeTreeAttention } from './preNorm';
import { applyRotary, linear, rmsNorm, swiglu, windowedAttention } from './referenceBlocks';
import { plainInvFreq, ropeInvFreq } from './rope';
import { layerPrefix, tinyFamilyConfig, tinyHeadDim, type ArchitectureModule, type WeightLookup, type WeightSpec } from './types';

function phi3ConfigFields(raw: Record<string, unknown>, where: string) {
  requireActivation(raw, ['silu'], where);
  const hidden = raw.hidden_size;
  const heads = raw.num_attention_heads;
  const headDim = typeof raw.head_dim === 'number' ? raw.head_dim : typeof hidden === 'number' && typeof heads === 'number' && heads > 0 ? hidden / heads : NaN;
  const factor = raw.partial_rotary_factor ?? 1;
  if (typeof factor !== 'number' || !(factor > 0 && factor <= 1)) throw new Error(`${where}: "partial_rotary_factor" must be in (0, 1], got ${JSON.stringify(factor)}`);
  const rotaryDim = Math.floor(headDim * factor);
  if (Number.isFinite(headDim) && (rotaryDim < 2 || rotaryDim % 2 !== 0)) throw new Error(`${where}: head_dim ${headDim} · partial_rotary_factor ${factor} = ${rotaryDim} rotary dims, which must be even and positive`);
  const scaling = raw.rope_scaling as Record<string, unknown> | null | undefined;
  if (scaling && typeof scaling === 'object' && Array.isArray(scaling.short_factor) && Number.isFinite(rotaryDim) && scaling.short_factor.length !== rotaryDim / 2) {
    throw new Error(`${where}: rope_scaling short_factor has ${scaling.short_factor.length} entries, expected ${rotaryDim / 2} (rotary dims / 2)`);
  }
  return {
    qkvBias: false,
    oBias: false,
    mlpBias: false,
    ...slidingWindowField(raw, where),
    ...(rotaryDim < headDim ? { rotaryDim } : {}),
  };
}

function phi3WeightSpecs(c: ModelConfig): WeightSpec[] {
  const q = c.numHeads * c.headDim;
  const kv = c.numKvHeads * c.headDim;
  const H = c.hiddenSize;
  const specs: WeightSpec[] = [{ name: 'model.embed_tokens.weight', shape: [c.vocabSize, H], kind: 'embedding' }];
  for (let i = 0; i < c.numLayers; i++) {
    const p = layerPrefix(i);
    specs.push({ name: `${p}.input_layernorm.weight`, shape: [H], kind: 'norm' });
    specs.push({ name: `${p}.self_attn.qkv_proj.weight`, shape: [q + 2 * kv, H], kind: 'linear' });
    specs.push({ name: `${p}.self_attn.o_proj.weight`, shape: [H, q], kind: 'linear' });
    specs.push({ name: `${p}.post_attention_layernorm.weight`, shape: [H], kind: 'norm' });
    specs.push({ name: `${p}.mlp.gate_up_proj.weight`, shape: [2 * c.intermediateSize, H], kind: 'linear' });
    specs.push({ name: `${p}.mlp.down_proj.weight`, shape: [H, c.intermediateSize], kind: 'linear' });
  }
  specs.push({ name: 'model.norm.weight', shape: [H], kind: 'norm' });
  if (!c.tieWordEmbeddings) specs.push({ name: 'lm_head.weight', shape: [c.vocabSize, H], kind: 'linear' });
  return specs;
}

/** The rope tables: longrope's short and long ones (the long from originalMaxPosition on), else the plain one. */
export function phi3Rope(c: ModelConfig): { invFreq: Float64Array; long?: { invFreq: Float64Array; from: number }; attentionFactor: number } {
  const R = c.rotaryDim ?? c.headDim;
  const s = c.ropeScaling;
  if (s.type === 'longrope') {
    if (s.shortFactor.length !== R / 2) throw new Error(`${c.architecture}: longrope factors have ${s.shortFactor.length} entries, expected ${R / 2}`);
    return {
      invFreq: plainInvFreq(c.ropeTheta, R, s.shortFactor),
      long: { invFreq: plainInvFreq(c.ropeTheta, R, s.longFactor), from: s.originalMaxPosition },
      attentionFactor: s.attentionFactor,
    };
  }
  if (R === c.headDim) return { invFreq: Float64Array.from(new Float32Array(ropeInvFreq(c))), attentionFactor: 1 };
  if (s.type !== 'none') throw new Error(`${c.architecture}: rope_scaling ${s.type} with partial_rotary_factor is not supported`);
  return { invFreq: plainInvFreq(c.ropeTheta, R), attentionFactor: 1 };
}

function buildPhi3Graph(b: DecoderGraph, onProgress?: (fraction: number) => void): void {
  const c = b.config;
  const q = c.numHeads * c.headDim;
  const kv = c.numKvHeads * c.headDim;
  const rms = b.rmsNorm();
  const table = phi3Rope(c);
  const attention = ropeTreeAttention(b, b.rotaryTable('rope.phi3', table.invFreq, { attentionFactor: table.attentionFactor, ...(table.long ? { long: table.long } : {}) }));
  buildPreNormGraph(b, {
    norm: (x, prefix) => rms(x, `${prefix}.weight`),
    attention: (l, xn, p) => {
      let parts: string[] | undefined;
      return attention(l, (which) => {
        parts ??= b.splitLast(b.linear(xn, `${p}.self_attn.qkv_proj`, q + 2 * kv, c.hiddenSize, false), [q, kv, kv]);
        return parts[which === 'q_proj' ? 0 : which === 'k_proj' ? 1 : 2]!;
      });
    },
    mlp: (hn, p) => b.fusedSwigluMlp(hn, `${p}.mlp`),
  }, onProgress);
}

function phi3ReferenceLogits(c: ModelConfig, weight: WeightLookup, tokens: readonly number[]): Float64Array[] {
  const D = c.headDim;
  const I = c.intermediateSize;
  const q = c.numHeads * D;
  const kv = c.numKvHeads * D;
  const table = phi3Rope(c);
  // transformers picks the long table when the sequence (max position + 1) exceeds original_max_position_embeddings.
  const inv = table.long && tokens.length > table.long.from ? table.long.invFreq : table.invFreq;
  return preNormReferenceLogits(c, weight, tokens, {
    norm: (x, prefix) => rmsNorm(x, weight(`${prefix}.weight`), c.rmsNormEps),
    qkv: (xn, p, pos) => {
      const qkv = linear(xn, weight(`${p}.self_attn.qkv_proj.weight`), q + 2 * kv);
      const qh = qkv.slice(0, q);
      const kh = qkv.slice(q, q + kv);
      applyRotary(qh, c.numHeads, D, pos, inv, table.attentionFactor);
      applyRotary(kh, c.numKvHeads, D, pos, inv, table.attentionFactor);
      return { q: qh, k: kh, v: qkv.slice(q + kv) };
    },
    attend: (queries, keys, values, pos) => windowedAttention(c, queries, keys, values, pos, { scale: 1 / Math.sqrt(D), softcap: null, window: c.slidingWindow ?? null }),
    mlp: (hn, p) => {
      const gateUp = linear(hn, weight(`${p}.mlp.gate_up_proj.weight`), 2 * I);
      return linear(swiglu(gateUp.slice(0, I), gateUp.slice(I)), weight(`${p}.mlp.down_proj.weight`), c.hiddenSize);
    },
  });
}

export const phi3: ArchitectureModule = {
  name: 'Phi3ForCausalLM',
  modelType: 'phi3',
  configFields: phi3ConfigFields,
  weightSpecs: phi3WeightSpecs,
  buildGraph: buildPhi3Graph,
  referenceLogits: phi3ReferenceLogits,
  tinyConfig(o) {
    if (o.attentionBias) throw new Error('make-tiny-model: phi3 has no attention bias');
    const headDim = tinyHeadDim(o);
    // Half the head rotates when it can (as partial_rotary_factor does in Phi-4-mini), with longrope factors.
    const partial = headDim % 4 === 0 ? 0.5 : 1;
    const half = Math.floor(headDim * partial) / 2;
    return tinyFamilyConfig(o, false, {
      partial_rotary_factor: partial,
      original_max_position_embeddings: 2048,
      rope_scaling: {
        type: 'longrope',
        short_factor: Array.from({ length: half }, (_, i) => 1 + 0.25 * i),
        long_factor: Array.from({ length: half }, (_, i) => 2 + i),
      },
      sliding_window: o.slidingWindow === undefined ? 5 : o.slidingWindow,
    });
  },
};
