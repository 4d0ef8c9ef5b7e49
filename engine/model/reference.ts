// Naive reference forward pass in plain TypeScript (float64 loops), independent of the ONNX graph builder.
// Used by tests as the oracle: logits for a linear token sequence decoded from scratch. Each architecture
// writes its own variant from the float64 blocks (arch/referenceBlocks.ts); this dispatches by config.
import type { ModelConfig } from './config';
import { architectureOf, type WeightLookup } from './arch/index';

export type { WeightLookup } from './arch/index';

/** Logits [tokens.length][vocab] for positions 0..n-1 with a causal mask. */
export function referenceLogits(c: ModelConfig, weight: WeightLookup, tokens: readonly number[]): Float64Array[] {
  return architectureOf(c).referenceLogits(c, weight, tokens);
}
