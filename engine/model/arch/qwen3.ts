// Qwen3 (Qwen3ForCausalLM): the Llama decoder plus an RMSNorm over each query and key head (q_norm / k_norm,
// weight [head_dim]) between the projection and rope. head_dim is its own config key (1024 hidden, 16 heads,
// head_dim 128 in Qwen3-0.6B), q/k/v/o bias follows attention_bias (false in every released checkpoint).
import type { ModelConfig } from '../config';
import type { DecoderGraph } from './blocks';
import { llamaWeightSpecs, requireActivation } from './llama';
import { applyRope, causalAttention, headRmsNorm, linear, referenceInvFreq, rmsNorm, swiglu } from './referenceBlocks';
import { layerPrefix, type ArchitectureModule, type WeightLookup, type WeightSpec } from './types';

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
  const H = c.hiddenSize;
  const norm = b.rmsNorm();
  const headNorm = b.headRmsNorm();
  const attention = b.options.kvCache === 'device' ? b.deviceTreeAttention(b.rotary()) : b.treeAttention(b.rotary());
  const embedding = b.embedding();
  let x = embedding.hidden;
  for (let l = 0; l < c.numLayers; l++) {
    const p = layerPrefix(l);
    const xn = norm(x, `${p}.input_layernorm.weight`);
    const attn = attention(l, (which, outDim) => {
      const y = b.linear(xn, `${p}.self_attn.${which}`, outDim, H, c.qkvBias);
      if (which === 'q_proj') return headNorm(y, `${p}.self_attn.q_norm.weight`, c.numHeads);
      if (which === 'k_proj') return headNorm(y, `${p}.self_attn.k_norm.weight`, c.numKvHeads);
      return y;
    });
    const h1 = b.g.op('Add', [x, b.linear(attn, `${p}.self_attn.o_proj`, H, c.numHeads * c.headDim, c.oBias)]);
    const hn = norm(h1, `${p}.post_attention_layernorm.weight`);
    x = b.g.op('Add', [h1, b.swigluMlp(hn, `${p}.mlp`, c.mlpBias)]);
    onProgress?.((l + 1) / c.numLayers);
  }
  b.lmHead(norm(x, 'model.norm.weight'), embedding.table);
}

function qwen3ReferenceLogits(c: ModelConfig, weight: WeightLookup, tokens: readonly number[]): Float64Array[] {
  const H = c.hiddenSize;
  const D = c.headDim;
  const invFreq = referenceInvFreq(c);
  const emb = weight('model.embed_tokens.weight');
  const opt = (name: string, on: boolean): Float32Array | undefined => (on ? weight(name) : undefined);
  let hidden = tokens.map((t) => Float64Array.from(emb.subarray(t * H, (t + 1) * H)));
  for (let l = 0; l < c.numLayers; l++) {
    const p = layerPrefix(l);
    const queries: Float64Array[] = [];
    const keys: Float64Array[] = [];
    const values: Float64Array[] = [];
    hidden.forEach((x, pos) => {
      const xn = rmsNorm(x, weight(`${p}.input_layernorm.weight`), c.rmsNormEps);
      const q = linear(xn, weight(`${p}.self_attn.q_proj.weight`), c.numHeads * D, opt(`${p}.self_attn.q_proj.bias`, c.qkvBias));
      const k = linear(xn, weight(`${p}.self_attn.k_proj.weight`), c.numKvHeads * D, opt(`${p}.self_attn.k_proj.bias`, c.qkvBias));
      const v = linear(xn, weight(`${p}.self_attn.v_proj.weight`), c.numKvHeads * D, opt(`${p}.self_attn.v_proj.bias`, c.qkvBias));
      headRmsNorm(q, c.numHeads, D, weight(`${p}.self_attn.q_norm.weight`), c.rmsNormEps);
      headRmsNorm(k, c.numKvHeads, D, weight(`${p}.self_attn.k_norm.weight`), c.rmsNormEps);
      applyRope(q, c.numHeads, D, pos, invFreq);
      applyRope(k, c.numKvHeads, D, pos, invFreq);
      queries.push(q);
      keys.push(k);
      values.push(v);
    });
    hidden = hidden.map((x, pos) => {
      const o = linear(causalAttention(c, queries, keys, values, pos), weight(`${p}.self_attn.o_proj.weight`), H, opt(`${p}.self_attn.o_proj.bias`, c.oBias));
      const h1 = x.map((xi, i) => xi + o[i]!);
      const hn = rmsNorm(h1, weight(`${p}.post_attention_layernorm.weight`), c.rmsNormEps);
      const gate = linear(hn, weight(`${p}.mlp.gate_proj.weight`), c.intermediateSize);
      const up = linear(hn, weight(`${p}.mlp.up_proj.weight`), c.intermediateSize);
      const down = linear(swiglu(gate, up), weight(`${p}.mlp.down_proj.weight`), H);
      return h1.map((hi, i) => hi + down[i]!);
    });
  }
  const head = c.tieWordEmbeddings ? emb : weight('lm_head.weight');
  return hidden.map((x) => linear(rmsNorm(x, weight('model.norm.weight'), c.rmsNormEps), head, c.vocabSize));
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
    return { tieWordEmbeddings: o.tieEmbeddings ?? true, keys: { head_dim: headDim, attention_bias: o.attentionBias ?? false, use_sliding_window: false, ...o.configOverrides } };
  },
};
