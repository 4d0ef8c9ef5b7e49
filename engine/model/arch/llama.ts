// Llama (LlamaForCausalLM): pre-norm decoder with RMSNorm, rotary grouped-query attention and a SwiGLU MLP.
// Optional attention_bias (q/k/v/o) and mlp_bias. Other Llama-shaped architectures reuse its pieces.
import type { ModelConfig } from '../config';
import type { DecoderGraph } from './blocks';
import { requireActivation } from './configFields';
import { buildPreNormGraph, preNormReferenceLogits, referenceProjection, referenceRopeAttention, referenceRopedQkv, ropeTreeAttention, separateProjections, type PreNormReferenceLayers } from './preNorm';
import { referenceInvFreq, rmsNorm, swiglu } from './referenceBlocks';
import { layerPrefix, type ArchitectureModule, type WeightLookup, type WeightSpec } from './types';

/** Hugging Face Llama-layout tensors; the biases present follow the config's flags. */
export function llamaWeightSpecs(c: ModelConfig): WeightSpec[] {
  const q = c.numHeads * c.headDim;
  const kv = c.numKvHeads * c.headDim;
  const specs: WeightSpec[] = [{ name: 'model.embed_tokens.weight', shape: [c.vocabSize, c.hiddenSize], kind: 'embedding' }];
  for (let i = 0; i < c.numLayers; i++) {
    const p = layerPrefix(i);
    specs.push({ name: `${p}.input_layernorm.weight`, shape: [c.hiddenSize], kind: 'norm' });
    specs.push({ name: `${p}.self_attn.q_proj.weight`, shape: [q, c.hiddenSize], kind: 'linear' });
    specs.push({ name: `${p}.self_attn.k_proj.weight`, shape: [kv, c.hiddenSize], kind: 'linear' });
    specs.push({ name: `${p}.self_attn.v_proj.weight`, shape: [kv, c.hiddenSize], kind: 'linear' });
    if (c.qkvBias) {
      specs.push({ name: `${p}.self_attn.q_proj.bias`, shape: [q], kind: 'bias' });
      specs.push({ name: `${p}.self_attn.k_proj.bias`, shape: [kv], kind: 'bias' });
      specs.push({ name: `${p}.self_attn.v_proj.bias`, shape: [kv], kind: 'bias' });
    }
    specs.push({ name: `${p}.self_attn.o_proj.weight`, shape: [c.hiddenSize, q], kind: 'linear' });
    if (c.oBias) specs.push({ name: `${p}.self_attn.o_proj.bias`, shape: [c.hiddenSize], kind: 'bias' });
    specs.push({ name: `${p}.post_attention_layernorm.weight`, shape: [c.hiddenSize], kind: 'norm' });
    specs.push({ name: `${p}.mlp.gate_proj.weight`, shape: [c.intermediateSize, c.hiddenSize], kind: 'linear' });
    specs.push({ name: `${p}.mlp.up_proj.weight`, shape: [c.intermediateSize, c.hiddenSize], kind: 'linear' });
    specs.push({ name: `${p}.mlp.down_proj.weight`, shape: [c.hiddenSize, c.intermediateSize], kind: 'linear' });
    if (c.mlpBias) {
      specs.push({ name: `${p}.mlp.gate_proj.bias`, shape: [c.intermediateSize], kind: 'bias' });
      specs.push({ name: `${p}.mlp.up_proj.bias`, shape: [c.intermediateSize], kind: 'bias' });
      specs.push({ name: `${p}.mlp.down_proj.bias`, shape: [c.hiddenSize], kind: 'bias' });
    }
  }
  specs.push({ name: 'model.norm.weight', shape: [c.hiddenSize], kind: 'norm' });
  if (!c.tieWordEmbeddings) specs.push({ name: 'lm_head.weight', shape: [c.vocabSize, c.hiddenSize], kind: 'linear' });
  return specs;
}

/** The Llama decoder graph from the shared blocks. */
export function buildLlamaGraph(b: DecoderGraph, onProgress?: (fraction: number) => void): void {
  const c = b.config;
  const rms = b.rmsNorm();
  const attention = ropeTreeAttention(b);
  buildPreNormGraph(b, {
    norm: (x, prefix) => rms(x, `${prefix}.weight`),
    attention: (l, xn, p) => attention(l, separateProjections(b, xn, p)),
    mlp: (hn, p) => b.swigluMlp(hn, `${p}.mlp`, c.mlpBias),
  }, onProgress);
}

/** Llama's float64 reference pieces, which the Llama-shaped families adjust (granite's scales, qwen3's head norms). */
export function llamaReferenceLayers(c: ModelConfig, weight: WeightLookup): PreNormReferenceLayers {
  const proj = referenceProjection(weight);
  const invFreq = referenceInvFreq(c);
  return {
    norm: (x, prefix) => rmsNorm(x, weight(`${prefix}.weight`), c.rmsNormEps),
    qkv: referenceRopedQkv(c, weight, () => invFreq),
    attend: referenceRopeAttention(c),
    mlp: (hn, p) => {
      const gate = proj(hn, `${p}.mlp.gate_proj`, c.intermediateSize, c.mlpBias);
      const up = proj(hn, `${p}.mlp.up_proj`, c.intermediateSize, c.mlpBias);
      return proj(swiglu(gate, up), `${p}.mlp.down_proj`, c.hiddenSize, c.mlpBias);
    },
  };
}

/** Logits [tokens.length][vocab] for positions 0..n-1 with a causal mask, in float64. */
export function llamaReferenceLogits(c: ModelConfig, weight: WeightLookup, tokens: readonly number[]): Float64Array[] {
  return preNormReferenceLogits(c, weight, tokens, llamaReferenceLayers(c, weight));
}

export const llama: ArchitectureModule = {
  name: 'LlamaForCausalLM',
  modelType: 'llama',
  configFields(raw, where) {
    requireActivation(raw, ['silu'], where);
    return { qkvBias: raw.attention_bias === true, oBias: raw.attention_bias === true, mlpBias: raw.mlp_bias === true };
  },
  weightSpecs: llamaWeightSpecs,
  buildGraph: buildLlamaGraph,
  referenceLogits: llamaReferenceLogits,
  tinyConfig(o) {
    return { tieWordEmbeddings: o.tieEmbeddings ?? false, keys: { attention_bias: o.attentionBias ?? false, mlp_bias: false } };
  },
};
