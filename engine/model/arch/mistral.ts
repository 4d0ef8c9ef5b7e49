// Mistral (MistralForCausalLM): the Llama decoder and tensor layout, no biases, and a sliding window on every
// layer when config.json sets `sliding_window` (Mistral-7B-v0.1: 4096; v0.2 and later: null, i.e. full attention).
// The window is honoured in the graph (a per-window attention bias) and in the reference.
import { requireActivation, slidingWindowField } from './configFields';
import { buildLlamaGraph, llamaReferenceLogits, llamaWeightSpecs } from './llama';
import { tinyFamilyConfig, type ArchitectureModule } from './types';

export const mistral: ArchitectureModule = {
  name: 'MistralForCausalLM',
  modelType: 'mistral',
  configFields(raw, where) {
    requireActivation(raw, ['silu'], where);
    return { qkvBias: false, oBias: false, mlpBias: false, ...slidingWindowField(raw, where) };
  },
  weightSpecs: llamaWeightSpecs,
  buildGraph: buildLlamaGraph,
  referenceLogits: llamaReferenceLogits,
  tinyConfig(o) {
    if (o.attentionBias) throw new Error('make-tiny-model: mistral has no attention bias');
    // A small default window, so short test contexts already cross it.
    return tinyFamilyConfig(o, false, { sliding_window: o.slidingWindow === undefined ? 4 : o.slidingWindow });
  },
};
