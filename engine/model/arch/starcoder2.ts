// StarCoder2 (Starcoder2ForCausalLM): pre-norm decoder with LayerNorm (weight and bias, eps `norm_epsilon`),
// rotary grouped-query attention, and a GELU MLP c_fc -> gelu_pytorch_tanh -> c_proj. `use_bias` (true in the
// released checkpoints) puts a bias on q/k/v/o, c_fc and c_proj; the LM head has none and is tied by default.
// `sliding_window` (4096 in the released checkpoints) limits every layer's attention, in the graph and the reference.
import type { ModelConfig } from '../config';
import type { DecoderGraph } from './blocks';
import { slidingWindowField } from './configFields';
import { buildPreNormGraph, preNormReferenceLogits, referenceProjection, referenceRopeAttention, referenceRopedQkv, ropeTreeAttention, separateProjections } from './preNorm';
import { geluTanh, layerNorm, referenceInvFreq } from './referenceBlocks';
import { layerPrefix, tinyFamilyConfig, type ArchitectureModule, type WeightLookup, type WeightSpec } from './types';

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
  const attention = ropeTreeAttention(b);
  buildPreNormGraph(b, {
    norm: b.layerNorm(),
    attention: (l, xn, p) => attention(l, separateProjections(b, xn, p)),
    mlp: (hn, p) => b.geluMlp(hn, `${p}.mlp`, c.mlpBias),
  }, onProgress);
}

function starcoder2ReferenceLogits(c: ModelConfig, weight: WeightLookup, tokens: readonly number[]): Float64Array[] {
  const invFreq = referenceInvFreq(c);
  const proj = referenceProjection(weight);
  return preNormReferenceLogits(c, weight, tokens, {
    norm: (x, prefix) => layerNorm(x, weight(`${prefix}.weight`), weight(`${prefix}.bias`), c.rmsNormEps),
    qkv: referenceRopedQkv(c, weight, () => invFreq),
    attend: referenceRopeAttention(c),
    mlp: (hn, p) => proj(geluTanh(proj(hn, `${p}.mlp.c_fc`, c.intermediateSize, c.mlpBias)), `${p}.mlp.c_proj`, c.hiddenSize, c.mlpBias),
  });
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
    return { qkvBias: bias, oBias: bias, mlpBias: bias, rmsNormEps: eps, defaultTieWordEmbeddings: true, ...slidingWindowField(raw, where) };
  },
  weightSpecs: starcoder2WeightSpecs,
  buildGraph: buildStarcoder2Graph,
  referenceLogits: starcoder2ReferenceLogits,
  tinyConfig(o) {
    return tinyFamilyConfig(o, true, { hidden_act: 'gelu_pytorch_tanh', norm_epsilon: 1e-5, use_bias: o.attentionBias ?? true, rms_norm_eps: undefined, sliding_window: o.slidingWindow ?? null });
  },
};
