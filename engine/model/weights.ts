// Tensor names and shapes a checkpoint must hold, from its architecture's module (arch/).
import type { ModelConfig } from './config';
import { architectureOf, type WeightSpec } from './arch/index';

export type { WeightSpec } from './arch/index';
export { layerPrefix } from './arch/index';

export function weightSpecs(c: ModelConfig): WeightSpec[] {
  return architectureOf(c).weightSpecs(c);
}

export function parameterCount(c: ModelConfig): number {
  return weightSpecs(c).reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1), 0);
}
