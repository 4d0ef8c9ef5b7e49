// Builds the ONNX graph of a checkpoint's decoder with a tree-attention bias input, using onnx-proto. The layers
// come from the architecture's module (arch/), composed of the shared blocks in arch/blocks.ts, which also
// documents the graph's inputs and outputs. Weights go to an external data file (graphs over 2 GB).
import { onnx } from 'onnx-proto';
import type { ModelConfig } from './config';
import { architectureOf } from './arch/index';
import { DecoderGraph } from './arch/blocks';
import { ExternalData } from './arch/onnxGraph';
import type { Quantization } from './types';
import { parameterCount } from './weights';

export type { WeightSource } from './arch/types';
export { transpose } from './arch/onnxGraph';
import type { WeightSource } from './arch/types';

/** Part of every graph-cache key: bump it when the graph a checkpoint builds changes (5: logit_rows input; 6: a tied quantized matrix held once; 7: batch-invariant tree attention, 8: its inverse by gather). */
export const GRAPH_BUILDER_VERSION = 8;

export interface GraphBuildOptions {
  quantization: Quantization;
  /** Block size of MatMulNBits quantization (power of two, >= 16). */
  blockSize: number;
  /** MatMulNBits accuracy_level: 0 = float compute, 4 = int8 activations (faster on CPU). */
  accuracyLevel: number;
  /**
   * Where the KV cache lives: absent = host (past inputs per head, full bias), 'device' = the GPU variant whose
   * past/present tensors stay on the device (arch/blocks.ts deviceTreeAttention). Absent rather than 'host' so
   * the host graphs keep their cache keys.
   */
  kvCache?: 'device';
  /** Adds the output hidden_states [1, rows, hidden] (after the final norm) for a speculator; absent keeps cache keys. */
  hiddenStates?: true;
}

export const DEFAULT_BUILD_OPTIONS: GraphBuildOptions = { quantization: 'none', blockSize: 32, accuracyLevel: 4 };

export interface BuiltGraph {
  /** Serialized ModelProto; initializers over 1 KB point into the external data file. */
  model: Uint8Array;
  inputNames: string[];
  outputNames: string[];
}

/**
 * Builds the graph, writing weights to `externalFd` (to be saved as `externalLocation` next to the model).
 * `onProgress` gets the fraction of the checkpoint's parameters read so far (0 first, 1 last).
 */
export function buildGraph(
  c: ModelConfig,
  weights: WeightSource,
  options: GraphBuildOptions,
  externalFd: number,
  externalLocation: string,
  onProgress?: (fraction: number) => void,
): BuiltGraph {
  const arch = architectureOf(c);
  // Progress follows the weights read (the embedding and the head are a quarter of a small model's parameters,
  // which a per-layer count would not show), reported at most once per percent.
  const total = Math.max(1, parameterCount(c));
  let read = 0;
  let reported = -1;
  const counted: WeightSource = (name, shape) => {
    const w = weights(name, shape);
    read += w.length;
    const fraction = Math.min(1, read / total);
    if (onProgress && Math.floor(fraction * 100) > reported) {
      reported = Math.floor(fraction * 100);
      onProgress(fraction);
    }
    return w;
  };
  onProgress?.(0);
  const b = new DecoderGraph(c, counted, options, new ExternalData(externalFd, externalLocation));
  arch.buildGraph(b);
  onProgress?.(1);
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'presage',
    producerVersion: String(GRAPH_BUILDER_VERSION),
    opsetImport: [
      { domain: '', version: 17 },
      { domain: 'com.microsoft', version: 1 },
    ],
    graph: { name: c.architecture, node: b.g.nodes, initializer: b.g.initializers, input: b.inputs, output: b.outputs },
  });
  return {
    model: onnx.ModelProto.encode(model).finish(),
    inputNames: b.inputs.map((i) => i.name!),
    outputNames: b.outputs.map((o) => o.name!),
  };
}
