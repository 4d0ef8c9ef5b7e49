// Granite (GraniteForCausalLM): the Llama decoder with four config scalars: token embeddings times
// `embedding_multiplier`, attention scores times `attention_multiplier` (instead of 1/sqrt(head_dim)), each
// block's output times `residual_multiplier` before it joins the residual stream, and logits divided by
// `logits_scaling`. Tensor names are Llama's; attention_bias / mlp_bias as in Llama.
import type { ModelConfig } from '../config';
import type { DecoderGraph } from './blocks';
import { positiveNumber, requireActivation } from './configFields';
import { llamaReferenceLayers, llamaWeightSpecs } from './llama';
import { buildPreNormGraph, preNormReferenceLogits, referenceRopeAttention, ropeTreeAttention, separateProjections } from './preNorm';
import { tinyFamilyConfig, type ArchitectureModule, type GraniteMultipliers, type WeightLookup } from './types';

function multipliers(c: ModelConfig): GraniteMultipliers {
  if (!c.granite) throw new Error(`${c.architecture}: granite multipliers missing from the parsed config`);
  return c.granite;
}

function buildGraniteGraph(b: DecoderGraph, onProgress?: (fraction: number) => void): void {
  const c = b.config;
  const m = multipliers(c);
  const rms = b.rmsNorm();
  const attention = ropeTreeAttention(b);
  // The shared attention scales q by 1/sqrt(head_dim); q times attention_multiplier·sqrt(head_dim) gives granite's scale
  // (rope is linear, so scaling before it is the same).
  const qScale = b.g.scalar('granite.q_scale', m.attention * Math.sqrt(c.headDim));
  buildPreNormGraph(b, {
    norm: (x, prefix) => rms(x, `${prefix}.weight`),
    attention: (l, xn, p) => attention(l, separateProjections(b, xn, p, (y, which) => (which === 'q_proj' ? b.g.op('Mul', [y, qScale]) : y))),
    mlp: (hn, p) => b.swigluMlp(hn, `${p}.mlp`, c.mlpBias),
    embeddingScale: { name: 'granite.embedding_multiplier', value: m.embedding },
    residualScale: { name: 'granite.residual_multiplier', value: m.residual },
    // The head is linear without bias: dividing its input by logits_scaling divides the logits.
    headScale: { name: 'granite.inv_logits_scaling', value: 1 / m.logitsScaling },
  }, onProgress);
}

function graniteReferenceLogits(c: ModelConfig, weight: WeightLookup, tokens: readonly number[]): Float64Array[] {
  const m = multipliers(c);
  return preNormReferenceLogits(c, weight, tokens, {
    ...llamaReferenceLayers(c, weight),
    attend: referenceRopeAttention(c, m.attention),
    embeddingScale: m.embedding,
    residualScale: m.residual,
    logits: (row) => row.map((v) => v / m.logitsScaling),
  });
}

/** A config multiplier: a finite positive number, 1 when absent (GraniteConfig's default). */
const positiveMultiplier = (raw: Record<string, unknown>, key: string, where: string): number => positiveNumber(raw, key, where, 1);

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
    return tinyFamilyConfig(o, true, { attention_bias: o.attentionBias ?? false, mlp_bias: false, embedding_multiplier: 12, attention_multiplier: 0.09, residual_multiplier: 0.22, logits_scaling: 8 });
  },
};
