// StarCoder2 (Starcoder2ForCausalLM): pre-norm decoder with LayerNorm (weight and bias, eps `norm_epsilon`),
// rotary grouped-query attention, and a GELU MLP c_fc -> gelu_pytorch_tanh -> c_proj. `use_bias` (true in the
// released checkpoints) puts a bias on q/k/v/o, c_fc and c_proj; the LM head has none and is tied by default.
// `sliding_window` (4096 in the released checkpoints) limits every layer's attention, in the graph and the reference.
import type { ModelConfig } from '../config';
import type { DecoderGraph, Projection } from './blocks';
import { slidingWindowOf } from './mistral';
import { applyRope, causalAttention, geluTanh, layerNorm, linear, referenceInvFreq, windowedAttention } from './referenceBlocks';
import { layerPrefix, type ArchitectureModule, type WeightLookup, type WeightSpec } from './types';

/** hidden_act values that are the tanh approximation of GELU (transformers' ACT2FN), which FastGelu computes. */
const TANH_GELU = ['gelu_pytorch_tanh', 'gelu_new', 'gelu_fast'];

function starcoder2WeightSpecs(c: ModelConfig): WeightSpec[] {
  const H = c.hiddenSize;
  const q = c.numHeads * c.headDim;
  const kv = c.numKvHeads * c.headDim;
  const specs: WeightSpec[] = [{ name: 'model.embed_tokens.weight', shape: [c.vocabSize, H], kind: 'embedding' }];
  const linearSpec = (name: string, out: number, inDim: number, bias: boolean): void => {
    specs.push({ name: `${name}.weight`, shape: [out, inDim], kind: 'linear' });
    if (bias) specs.push({ name: `${name}.bias`, shape: [out], kind: 'bias' });
  };
  const normSpec = (name: string): void => {
    specs.push({ name: `${name}.weight`, shape: [H], kind: 'norm' }, { name: `${name}.bias`, shape: [H], kind: 'bias' });
  };
  for (let i = 0; i < c.numLayers; i++) {
    const p = layerPrefix(i);
    normSpec(`${p}.input_layernorm`);
    linearSpec(`${p}.self_attn.q_proj`, q, H, c.qkvBias);
    linearSpec(`${p}.self_attn.k_proj`, kv, H, c.qkvBias);
    linearSpec(`${p}.self_attn.v_proj`, kv, H, c.qkvBias);
    linearSpec(`${p}.self_attn.o_proj`, H, q, c.oBias);
    normSpec(`${p}.post_attention_layernorm`);
    linearSpec(`${p}.mlp.c_fc`, c.intermediateSize, H, c.mlpBias);
    linearSpec(`${p}.mlp.c_proj`, H, c.intermediateSize, c.mlpBias);
  }
  normSpec('model.norm');
  if (!c.tieWordEmbeddings) specs.push({ name: 'lm_head.weight', shape: [c.vocabSize, H], kind: 'linear' });
  return specs;
}

function buildStarcoder2Graph(b: DecoderGraph, onProgress?: (fraction: number) => void): void {
  const c = b.config;
  const H = c.hiddenSize;
  const norm = b.layerNorm();
  const attention = attentionOf(b);
  const embedding = b.embedding();
  let x = embedding.hidden;
  for (let l = 0; l < c.numLayers; l++) {
    const p = layerPrefix(l);
    const xn = norm(x, `${p}.input_layernorm`);
    const attn = attention(l, (which, outDim) => b.linear(xn, `${p}.self_attn.${which}`, outDim, H, c.qkvBias));
    const h1 = b.g.op('Add', [x, b.linear(attn, `${p}.self_attn.o_proj`, H, c.numHeads * c.headDim, c.oBias)]);
    x = b.g.op('Add', [h1, b.geluMlp(norm(h1, `${p}.post_attention_layernorm`), `${p}.mlp`, c.mlpBias)]);
    onProgress?.((l + 1) / c.numLayers);
  }
  b.lmHead(norm(x, 'model.norm'), embedding.table);
}

/** Full causal attention, or every layer through the sliding window when the config sets one. */
function attentionOf(b: DecoderGraph): (layer: number, project: (which: Projection, outDim: number) => string) => string {
  const window = b.config.slidingWindow;
  if (window === undefined) return b.options.kvCache === 'device' ? b.deviceTreeAttention(b.rotary()) : b.treeAttention(b.rotary());
  const rope = b.rotary();
  const attention = b.windowedTreeAttention({ scale: 1 / Math.sqrt(b.config.headDim), softcap: null });
  return (l, project) => attention(l, project, { rope, window });
}

function starcoder2ReferenceLogits(c: ModelConfig, weight: WeightLookup, tokens: readonly number[]): Float64Array[] {
  const H = c.hiddenSize;
  const D = c.headDim;
  const invFreq = referenceInvFreq(c);
  const emb = weight('model.embed_tokens.weight');
  const eps = c.rmsNormEps;
  const norm = (x: Float64Array, name: string): Float64Array => layerNorm(x, weight(`${name}.weight`), weight(`${name}.bias`), eps);
  const proj = (x: Float64Array, name: string, out: number, bias: boolean): Float64Array => linear(x, weight(`${name}.weight`), out, bias ? weight(`${name}.bias`) : undefined);
  let hidden = tokens.map((t) => Float64Array.from(emb.subarray(t * H, (t + 1) * H)));
  for (let l = 0; l < c.numLayers; l++) {
    const p = layerPrefix(l);
    const queries: Float64Array[] = [];
    const keys: Float64Array[] = [];
    const values: Float64Array[] = [];
    hidden.forEach((x, pos) => {
      const xn = norm(x, `${p}.input_layernorm`);
      const q = proj(xn, `${p}.self_attn.q_proj`, c.numHeads * D, c.qkvBias);
      const k = proj(xn, `${p}.self_attn.k_proj`, c.numKvHeads * D, c.qkvBias);
      applyRope(q, c.numHeads, D, pos, invFreq);
      applyRope(k, c.numKvHeads, D, pos, invFreq);
      queries.push(q);
      keys.push(k);
      values.push(proj(xn, `${p}.self_attn.v_proj`, c.numKvHeads * D, c.qkvBias));
    });
    hidden = hidden.map((x, pos) => {
      const attn = c.slidingWindow === undefined
        ? causalAttention(c, queries, keys, values, pos)
        : windowedAttention(c, queries, keys, values, pos, { scale: 1 / Math.sqrt(D), softcap: null, window: c.slidingWindow });
      const o = proj(attn, `${p}.self_attn.o_proj`, H, c.oBias);
      const h1 = x.map((xi, i) => xi + o[i]!);
      const up = geluTanh(proj(norm(h1, `${p}.post_attention_layernorm`), `${p}.mlp.c_fc`, c.intermediateSize, c.mlpBias));
      const down = proj(up, `${p}.mlp.c_proj`, H, c.mlpBias);
      return h1.map((hi, i) => hi + down[i]!);
    });
  }
  const head = c.tieWordEmbeddings ? emb : weight('lm_head.weight');
  return hidden.map((x) => linear(norm(x, 'model.norm'), head, c.vocabSize));
}

export const starcoder2: ArchitectureModule = {
  name: 'Starcoder2ForCausalLM',
  modelType: 'starcoder2',
  configFields(raw, where) {
    const act = raw.hidden_act ?? 'gelu_pytorch_tanh';
    if (typeof act !== 'string' || !TANH_GELU.includes(act)) throw new Error(`${where}: unsupported hidden_act ${JSON.stringify(act)} for starcoder2 (supported: ${TANH_GELU.join(', ')})`);
    const eps = raw.norm_epsilon ?? 1e-5;
    if (typeof eps !== 'number' || !(eps > 0 && eps < 1)) throw new Error(`${where}: "norm_epsilon" must be a number in (0, 1), got ${JSON.stringify(eps)}`);
    if (raw.use_bias !== undefined && typeof raw.use_bias !== 'boolean') throw new Error(`${where}: "use_bias" must be true or false, got ${JSON.stringify(raw.use_bias)}`);
    const bias = raw.use_bias !== false;
    const slidingWindow = slidingWindowOf(raw, where);
    return { qkvBias: bias, oBias: bias, mlpBias: bias, rmsNormEps: eps, defaultTieWordEmbeddings: true, ...(slidingWindow !== undefined ? { slidingWindow } : {}) };
  },
  weightSpecs: starcoder2WeightSpecs,
  buildGraph: buildStarcoder2Graph,
  referenceLogits: starcoder2ReferenceLogits,
  tinyConfig(o) {
    return {
      tieWordEmbeddings: o.tieEmbeddings ?? true,
      keys: { hidden_act: 'gelu_pytorch_tanh', norm_epsilon: 1e-5, use_bias: o.attentionBias ?? true, rms_norm_eps: undefined, sliding_window: o.slidingWindow ?? null, ...o.configOverrides },
    };
  },
};
