// Qwen3 (Qwen3ForCausalLM): the Llama decoder plus an RMSNorm over each query and key head (q_norm / k_norm,
// weight [head_dim]) between the projection and rope. head_dim is its own config key (1024 hidden, 16 heads,
// head_dim 128 in Qwen3-0.6B), q/k/v/o bias follows attention_bias (false in every released checkpoint).
import type { ModelConfig } from '../config';
import type { DecoderGraph } from './blocks';
import { requireActivation } from './configFields';
import { llamaReferenceLayers, llamaWeightSpecs } from './llama';
import { buildPreNormGraph, preNormReferenceLogits, referenceRopedQkv, ropeTreeAttention, separateProjections } from './preNorm';
import { headRmsNorm, referenceInvFreq } from './referenceBlocks';
import { layerPrefix, tinyFamilyConfig, type ArchitectureModule, type WeightLookup, type WeightSpec } from './types';

function qwen3WeightSpecs(c: ModelConfig): WeightSpec[] {
  const specs = llamaWeightSpecs(c);
  // q_norm / k_norm sit after each layer's o_proj in transformers' state dict order; order does not matter here.
  for (let i = 0; i < c.numLayers; i++) {
    const p = layerPrefix(i);
    specs.push({ name: `${p}.self_attn.q_norm.weight`, shape: [c.headDim], kind: 'norm' });
    specs.push({ name: `${p}.self_attn.k_norm.weight`, shape: [c.headDim], kind: 'norm' });
  }
  return specs;
}

function buildQwen3Graph(b: DecoderGraph, onProgress?: (fraction: number) => void): void {
  const c = b.config;
  const rms = b.rmsNorm();
  const headNorm = b.headRmsNorm();
  const attention = ropeTreeAttention(b);
  buildPreNormGraph(b, {
    norm: (x, prefix) => rms(x, `${prefix}.weight`),
    attention: (l, xn, p) => attention(l, separateProjections(b, xn, p, (y, which) => {
      if (which === 'q_proj') return headNorm(y, `${p}.self_attn.q_norm.weight`, c.numHeads);
      if (which === 'k_proj') return headNorm(y, `${p}.self_attn.k_norm.weight`, c.numKvHeads);
      return y;
    })),
    mlp: (hn, p) => b.swigluMlp(hn, `${p}.mlp`, c.mlpBias),
  }, onProgress);
}

function qwen3ReferenceLogits(c: ModelConfig, weight: WeightLookup, tokens: readonly number[]): Float64Array[] {
  const invFreq = referenceInvFreq(c);
  const qkv = referenceRopedQkv(c, weight, () => invFreq, (q, k, p) => {
    headRmsNorm(q, c.numHeads, c.headDim, weight(`${p}.self_attn.q_norm.weight`), c.rmsNormEps);
    headRmsNorm(k, c.numKvHeads, c.headDim, weight(`${p}.self_attn.k_norm.weight`), c.rmsNormEps);
  });
  return preNormReferenceLogits(c, weight, tokens, { ...llamaReferenceLayers(c, weight), qkv });
}

export const qwen3: ArchitectureModule = {
  name: 'Qwen3ForCausalLM',
  modelType: 'qwen3',
  configFields(raw, where) {
    requireActivation(raw, ['silu'], where);
    // Qwen3Config's head_dim default (128) differs from hidden/heads; every released config states it.
    if (raw.head_dim === undefined || raw.head_dim === null) throw new Error(`${where}: qwen3 needs "head_dim" (transformers' default of 128 is not hidden_size / num_attention_heads)`);
    if (raw.use_sliding_window === true) throw new Error(`${where}: qwen3 with use_sliding_window is not supported`);
    const bias = raw.attention_bias === true;
    return { qkvBias: bias, oBias: bias, mlpBias: false };
  },
  weightSpecs: qwen3WeightSpecs,
  buildGraph: buildQwen3Graph,
  referenceLogits: qwen3ReferenceLogits,
  tinyConfig(o) {
    // Random checkpoints decouple head_dim from hidden / heads (twice the quotient) unless --head-dim says otherwise.
    const headDim = o.headDim ?? (o.hidden && o.heads ? 2 * Math.max(1, Math.floor(o.hidden / o.heads / 2)) * 2 : undefined);
    return tinyFamilyConfig(o, true, { head_dim: headDim, attention_bias: o.attentionBias ?? false, use_sliding_window: false });
  },
};
