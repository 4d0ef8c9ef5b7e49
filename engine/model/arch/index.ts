// The architecture registry: config.json names -> the module that parses, lays out, builds and checks that family.
// Adding an architecture: one module in this folder (see llama.ts), one line in ARCHITECTURES, and its tests.
import type { ModelConfig } from '../config';
import { llama } from './llama';
import { qwen2 } from './qwen2';
import { qwen3 } from './qwen3';
import { starcoder2 } from './starcoder2';
import { granite } from './granite';
import { mistral } from './mistral';
import { gemma2 } from './gemma2';
import { gemma3 } from './gemma3';
import { phi3 } from './phi3';
import type { ArchitectureModule } from './types';

export type { ArchitectureModule, ArchitectureConfigFields, WeightLookup, WeightSource, WeightSpec } from './types';
export { layerPrefix } from './types';

const ARCHITECTURES: readonly ArchitectureModule[] = [llama, qwen2, qwen3, starcoder2, granite, mistral, gemma2, gemma3, phi3];

/** config.json `architectures[0]` names the engine can run. */
export const SUPPORTED_ARCHITECTURES: readonly string[] = ARCHITECTURES.map((a) => a.name);
/** config.json `model_type` values (also `make-tiny-model --arch`). */
export const SUPPORTED_MODEL_TYPES: readonly string[] = ARCHITECTURES.map((a) => a.modelType);

/** By `architectures[0]`, or by `model_type` when the config has no architectures list. */
export function findArchitecture(architecture: string | undefined, modelType: string | undefined): ArchitectureModule | undefined {
  if (architecture) return ARCHITECTURES.find((a) => a.name === architecture);
  return ARCHITECTURES.find((a) => a.modelType === modelType);
}

export function unsupportedArchitectureMessage(name: string | null): string {
  return `unsupported architecture ${JSON.stringify(name)}; supported: ${SUPPORTED_ARCHITECTURES.join(', ')}`;
}

/** The module of a parsed config (a config parsed elsewhere must still name a registered architecture). */
export function architectureOf(c: Pick<ModelConfig, 'architecture'>): ArchitectureModule {
  const arch = ARCHITECTURES.find((a) => a.name === c.architecture);
  if (!arch) throw new Error(unsupportedArchitectureMessage(c.architecture));
  return arch;
}

/** The module for `make-tiny-model --arch <model_type>`. */
export function architectureByModelType(modelType: string): ArchitectureModule {
  const arch = ARCHITECTURES.find((a) => a.modelType === modelType);
  if (!arch) throw new Error(`make-tiny-model: --arch must be one of ${SUPPORTED_MODEL_TYPES.join(', ')}, got ${JSON.stringify(modelType)}`);
  return arch;
}
