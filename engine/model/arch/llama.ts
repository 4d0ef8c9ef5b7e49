// Llama (LlamaForCausalLM): pre-norm decoder with RMSNorm, rotary grouped-query attention and a SwiGLU MLP.
// Optional attention_bias (q/k/v/o) and mlp_bias. Other Llama-shaped architectures reuse its pieces.
import type { ModelConfig } from '../config';
import type { DecoderGraph, Projection } from './blocks';
import { applyRope, causalAttention, linear, referenceInvFreq, rmsNorm, swiglu, windowedAttention } from './referenceBlocks';
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
  const H = c.hiddenSize;
  const norm = b.rmsNorm();
  const attention = c.slidingWindow !== undefined
    ? slidingTreeAttention(b, c.slidingWindow)
    : b.options.kvCache === 'device' ? b.deviceTreeAttention(b.rotary()) : b.treeAttention(b.rotary());
  const embedding = b.embedding();
  let x = embedding.hidden;
  for (let l = 0; l < c.numLayers; l++) {
    const p = layerPrefix(l);
    const xn = norm(x, `${p}.input_layernorm.weight`);
    const attn = attention(l, (which, outDim) => b.linear(xn, `${p}.self_attn.${which}`, outDim, H, c.qkvBias));
    const h1 = b.g.op('Add', [x, b.linear(attn, `${p}.self_attn.o_proj`, H, c.numHeads * c.headDim, c.oBias)]);
    const hn = norm(h1, `${p}.post_attention_layernorm.weight`);
    x = b.g.op('Add', [h1, b.swigluMlp(hn, `${p}.mlp`, c.mlpBias)]);
    onProgress?.((l + 1) / c.numLayers);
  }
  b.lmHead(norm(x, 'model.norm.weight'), embedding.table);
}

/** Every layer attends through the same sliding window (Mistral's `sliding_window`), with the Llama rope and scale. */
function slidingTreeAttention(b: DecoderGraph, window: number): (layer: number, project: (which: Projection, outDim: number) => string) => string {
  const rope = b.rotary();
  const attention = b.windowedTreeAttention({ scale: 1 / Math.sqrt(b.config.headDim), softcap: null });
  return (l, project) => attention(l, project, { rope, window });
}

/** Logits [tokens.length][vocab] for positions 0..n-1 with a causal mask, in float64. */
export function llamaReferenceLogits(c: ModelConfig, weight: WeightLookup, tokens: readonly number[]): Float64Array[] {
  const H = c.hiddenSize;
  const D = c.headDim;
  const invFreq = referenceInvFreq(c);
  const emb = weight('model.embed_tokens.weight');
  let hidden = tokens.map((t) => Float64Array.from(emb.subarray(t * H, (t + 1) * H)));
  const opt = (name: string, on: boolean): Float32Array | undefined => (on ? weight(name) : undefined);
  for (let l = 0; l < c.numLayers; l++) {
    const p = layerPrefix(l);
    const keys: Float64Array[] = [];
    const values: Float64Array[] = [];
    const queries: Float64Array[] = [];
    hidden.forEach((x, pos) => {
      const xn = rmsNorm(x, weight(`${p}.input_layernorm.weight`), c.rmsNormEps);
      const q = linear(xn, weight(`${p}.self_attn.q_proj.weight`), c.numHeads * D, opt(`${p}.self_attn.q_proj.bias`, c.qkvBias));
      const k = linear(xn, weight(`${p}.self_attn.k_proj.weight`), c.numKvHeads * D, opt(`${p}.self_attn.k_proj.bias`, c.qkvBias));
      const v = linear(xn, weight(`${p}.self_attn.v_proj.weight`), c.numKvHeads * D, opt(`${p}.self_attn.v_proj.bias`, c.qkvBias));
      applyRope(q, c.numHeads, D, pos, invFreq);
      applyRope(k, c.numKvHeads, D, pos, invFreq);
      queries.push(q);
      keys.push(k);
      values.push(v);
    });
    hidden = hidden.map((x, pos) => {
      const attn = c.slidingWindow !== undefined
        ? windowedAttention(c, queries, keys, values, pos, { scale: 1 / Math.sqrt(D), softcap: null, window: c.slidingWindow })
        : causalAttention(c, queries, keys, values, pos);
      const o = linear(attn, weight(`${p}.self_attn.o_proj.weight`), H, opt(`${p}.self_attn.o_proj.bias`, c.oBias));
      const h1 = new Float64Array(H);
      for (let i = 0; i < H; i++) h1[i] = x[i]! + o[i]!;
      const hn = rmsNorm(h1, weight(`${p}.post_attention_layernorm.weight`), c.rmsNormEps);
      const gate = linear(hn, weight(`${p}.mlp.gate_proj.weight`), c.intermediateSize, opt(`${p}.mlp.gate_proj.bias`, c.mlpBias));
      const up = linear(hn, weight(`${p}.mlp.up_proj.weight`), c.intermediateSize, opt(`${p}.mlp.up_proj.bias`, c.mlpBias));
      const down = linear(swiglu(gate, up), weight(`${p}.mlp.down_proj.weight`), H, opt(`${p}.mlp.down_proj.bias`, c.mlpBias));
      for (let i = 0; i < H; i++) h1[i]! += down[i]!;
      return h1;
    });
  }
  const head = c.tieWordEmbeddings ? emb : weight('lm_head.weight');
  return hidden.map((x) => linear(rmsNorm(x, weight('model.norm.weight'), c.rmsNormEps), head, c.vocabSize));
}

/** Rejects activations other than the listed ones (config.json `hidden_act`, silu when absent). */
export function requireActivation(raw: Record<string, unknown>, supported: readonly string[], where: string): void {
  const act = raw.hidden_act ?? 'silu';
  if (typeof act !== 'string' || !supported.includes(act)) throw new Error(`${where}: unsupported hidden_act ${JSON.stringify(act)} (supported: ${supported.join(', ')})`);
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
