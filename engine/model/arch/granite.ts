// Granite (GraniteForCausalLM): the Llama decoder with four config scalars: token embeddings times
// `embedding_multiplier`, attention scores times `attention_multiplier` (instead of 1/sqrt(head_dim)), each
// block's output times `residual_multiplier` before it joins the residual stream, and logits divided by
// `logits_scaling`. Tensor names are Llama's; attention_bias / mlp_bias as in Llama.
import type { ModelConfig } from '../config';
import type { DecoderGraph } from './blocks';
import { llamaWeightSpecs, requireActivation } from './llama';
import { applyRope, causalAttention, linear, referenceInvFreq, rmsNorm, swiglu } from './referenceBlocks';
import { layerPrefix, type ArchitectureModule, type GraniteMultipliers, type WeightLookup } from './types';

function multipliers(c: ModelConfig): GraniteMultipliers {
  if (!c.granite) throw new Error(`${c.architecture}: granite multipliers missing from the parsed config`);
  return c.granite;
}

function buildGraniteGraph(b: DecoderGraph, onProgress?: (fraction: number) => void): void {
  const c = b.config;
  const m = multipliers(c);
  const H = c.hiddenSize;
  const norm = b.rmsNorm();
  const attention = b.options.kvCache === 'device' ? b.deviceTreeAttention(b.rotary()) : b.treeAttention(b.rotary());
  // The shared attention scales q by 1/sqrt(head_dim); q times attention_multiplier·sqrt(head_dim) gives granite's scale
  // (rope is linear, so scaling before it is the same).
  const qScale = b.g.scalar('granite.q_scale', m.attention * Math.sqrt(c.headDim));
  const embedding = b.embedding();
  let x = b.scaled(embedding.hidden, 'granite.embedding_multiplier', m.embedding);
  const residual = b.g.scalar('granite.residual_multiplier', m.residual);
  for (let l = 0; l < c.numLayers; l++) {
    const p = layerPrefix(l);
    const xn = norm(x, `${p}.input_layernorm.weight`);
    const attn = attention(l, (which, outDim) => {
      const y = b.linear(xn, `${p}.self_attn.${which}`, outDim, H, c.qkvBias);
      return which === 'q_proj' ? b.g.op('Mul', [y, qScale]) : y;
    });
    const o = b.linear(attn, `${p}.self_attn.o_proj`, H, c.numHeads * c.headDim, c.oBias);
    const h1 = b.g.op('Add', [x, b.g.op('Mul', [o, residual])]);
    const mlp = b.swigluMlp(norm(h1, `${p}.post_attention_layernorm.weight`), `${p}.mlp`, c.mlpBias);
    x = b.g.op('Add', [h1, b.g.op('Mul', [mlp, residual])]);
    onProgress?.((l + 1) / c.numLayers);
  }
  // The head is linear without bias: dividing its input by logits_scaling divides the logits.
  b.lmHead(b.scaled(norm(x, 'model.norm.weight'), 'granite.inv_logits_scaling', 1 / m.logitsScaling), embedding.table);
}

function graniteReferenceLogits(c: ModelConfig, weight: WeightLookup, tokens: readonly number[]): Float64Array[] {
  const m = multipliers(c);
  const H = c.hiddenSize;
  const D = c.headDim;
  const invFreq = referenceInvFreq(c);
  const emb = weight('model.embed_tokens.weight');
  const opt = (name: string, on: boolean): Float32Array | undefined => (on ? weight(name) : undefined);
  let hidden = tokens.map((t) => Float64Array.from(emb.subarray(t * H, (t + 1) * H), (v) => v * m.embedding));
  for (let l = 0; l < c.numLayers; l++) {
    const p = layerPrefix(l);
    const queries: Float64Array[] = [];
    const keys: Float64Array[] = [];
    const values: Float64Array[] = [];
    hidden.forEach((x, pos) => {
      const xn = rmsNorm(x, weight(`${p}.input_layernorm.weight`), c.rmsNormEps);
      const q = linear(xn, weight(`${p}.self_attn.q_proj.weight`), c.numHeads * D, opt(`${p}.self_attn.q_proj.bias`, c.qkvBias));
      const k = linear(xn, weight(`${p}.self_attn.k_proj.weight`), c.numKvHeads * D, opt(`${p}.self_attn.k_proj.bias`, c.qkvBias));
      applyRope(q, c.numHeads, D, pos, invFreq);
      applyRope(k, c.numKvHeads, D, pos, invFreq);
      queries.push(q);
      keys.push(k);
      values.push(linear(xn, weight(`${p}.self_attn.v_proj.weight`), c.numKvHeads * D, opt(`${p}.self_attn.v_proj.bias`, c.qkvBias)));
    });
    hidden = hidden.map((x, pos) => {
      const attn = causalAttention(c, queries, keys, values, pos, m.attention);
      const o = linear(attn, weight(`${p}.self_attn.o_proj.weight`), H, opt(`${p}.self_attn.o_proj.bias`, c.oBias));
      const h1 = x.map((xi, i) => xi + o[i]! * m.residual);
      const hn = rmsNorm(h1, weight(`${p}.post_attention_layernorm.weight`), c.rmsNormEps);
      const gate = linear(hn, weight(`${p}.mlp.gate_proj.weight`), c.intermediateSize, opt(`${p}.mlp.gate_proj.bias`, c.mlpBias));
      const up = linear(hn, weight(`${p}.mlp.up_proj.weight`), c.intermediateSize, opt(`${p}.mlp.up_proj.bias`, c.mlpBias));
      const down = linear(swiglu(gate, up), weight(`${p}.mlp.down_proj.weight`), H, opt(`${p}.mlp.down_proj.bias`, c.mlpBias));
      return h1.map((hi, i) => hi + down[i]! * m.residual);
    });
  }
  const head = c.tieWordEmbeddings ? emb : weight('lm_head.weight');
  return hidden.map((x) => linear(rmsNorm(x, weight('model.norm.weight'), c.rmsNormEps), head, c.vocabSize).map((v) => v / m.logitsScaling));
}

/** A config multiplier: a finite positive number, 1 when absent (GraniteConfig's default). */
function positiveMultiplier(raw: Record<string, unknown>, key: string, where: string): number {
  const v = raw[key] ?? 1;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new Error(`${where}: "${key}" must be a positive number, got ${JSON.stringify(v)}`);
  return v;
}

export const granite: ArchitectureModule = {
  name: 'GraniteForCausalLM',
  modelType: 'granite',
  configFields(raw, where) {
    requireActivation(raw, ['silu'], where);
    const granite: GraniteMultipliers = {
      embedding: positiveMultiplier(raw, 'embedding_multiplier', where),
      attention: positiveMultiplier(raw, 'attention_multiplier', where),
      residual: positiveMultiplier(raw, 'residual_multiplier', where),
      logitsScaling: positiveMultiplier(raw, 'logits_scaling', where),
    };
    return { qkvBias: raw.attention_bias === true, oBias: raw.attention_bias === true, mlpBias: raw.mlp_bias === true, granite };
  },
  weightSpecs: llamaWeightSpecs,
  buildGraph: buildGraniteGraph,
  referenceLogits: graniteReferenceLogits,
  tinyConfig(o) {
    // Values in the range of the released Granite 3 configs (e.g. 12 / 0.0078125 / 0.22 / 8 for 8B); each differs
    // from its Llama value so a forgotten multiplier shows in the tests.
    return {
      tieWordEmbeddings: o.tieEmbeddings ?? true,
      keys: { attention_bias: o.attentionBias ?? false, mlp_bias: false, embedding_multiplier: 12, attention_multiplier: 0.09, residual_multiplier: 0.22, logits_scaling: 8, ...o.configOverrides },
    };
  },
};
