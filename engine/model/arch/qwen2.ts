// Qwen2 (Qwen2ForCausalLM): the Llama decoder with a bias on the q/k/v projections (always) and none on o_proj
// or the MLP; small models tie the embeddings. Graph, reference and tensor layout are Llama's.
import { requireActivation } from './configFields';
import { buildLlamaGraph, llamaReferenceLogits, llamaWeightSpecs } from './llama';
import type { ArchitectureModule } from './types';

export const qwen2: ArchitectureModule = {
  name: 'Qwen2ForCausalLM',
  modelType: 'qwen2',
  configFields(raw, where) {
    requireActivation(raw, ['silu'], where);
    return { qkvBias: true, oBias: false, mlpBias: false };
  },
  weightSpecs: llamaWeightSpecs,
  buildGraph: buildLlamaGraph,
  referenceLogits: llamaReferenceLogits,
  tinyConfig(o) {
    if (o.attentionBias === false) throw new Error('make-tiny-model: qwen2 always has q/k/v bias');
    return { tieWordEmbeddings: o.tieEmbeddings ?? true, keys: {} };
  },
};
