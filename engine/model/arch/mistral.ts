// Mistral (MistralForCausalLM): the Llama decoder and tensor layout, no biases, and a sliding window on every
// layer when config.json sets `sliding_window` (Mistral-7B-v0.1: 4096; v0.2 and later: null, i.e. full attention).
// The window is honoured in the graph (a per-window attention bias) and in the reference.
import { buildLlamaGraph, llamaReferenceLogits, llamaWeightSpecs, requireActivation } from './llama';
import type { ArchitectureModule } from './types';

/** `sliding_window`: null or absent = full attention; otherwise a positive integer (bounded, so masks stay small). */
export function slidingWindowOf(raw: Record<string, unknown>, where: string): number | undefined {
  const w = raw.sliding_window;
  if (w === undefined || w === null) return undefined;
  if (typeof w !== 'number' || !Number.isInteger(w) || w <= 0 || w > 1 << 24) throw new Error(`${where}: "sliding_window" must be null or a positive integer, got ${JSON.stringify(w)}`);
  return w;
}

export const mistral: ArchitectureModule = {
  name: 'MistralForCausalLM',
  modelType: 'mistral',
  configFields(raw, where) {
    requireActivation(raw, ['silu'], where);
    const slidingWindow = slidingWindowOf(raw, where);
    return { qkvBias: false, oBias: false, mlpBias: false, ...(slidingWindow !== undefined ? { slidingWindow } : {}) };
  },
  weightSpecs: llamaWeightSpecs,
  buildGraph: buildLlamaGraph,
  referenceLogits: llamaReferenceLogits,
  tinyConfig(o) {
    if (o.attentionBias) throw new Error('make-tiny-model: mistral has no attention bias');
    // A small default window, so short test contexts already cross it.
    return { tieWordEmbeddings: o.tieEmbeddings ?? false, keys: { sliding_window: o.slidingWindow === undefined ? 4 : o.slidingWindow, ...o.configOverrides } };
  },
};
