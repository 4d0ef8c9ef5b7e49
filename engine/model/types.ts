// The one model interface the decoder uses: verify a tree of new tokens, then commit the accepted path.

import type { Device, ExecutionDevice } from '../protocol';

export type { Device, ExecutionDevice } from '../protocol';
export type Quantization = 'none' | 'int8' | 'int4';

export interface LoadOptions {
  /** Where to run; defaults to the CPU here (the CLI and the extension default to auto). */
  device?: Device;
  quantization?: Quantization;
  /** Folder for the built-graph cache; defaults to a per-user cache folder. */
  cacheDir?: string;
  /** Progress callback: stage name and fraction in [0, 1]. */
  onProgress?: (stage: string, fraction: number) => void;
  /** Human-readable warnings (GPU fallback, corrupt cache rebuilt, …). */
  onWarning?: (message: string) => void;
  /** ORT intra-op threads; defaults to ORT's choice (all cores). */
  threads?: number;
  /** MatMulNBits accuracy_level for int8/int4: 0 float compute (exact), 4 int8 activations (default, faster on CPU). */
  accuracyLevel?: number;
  /** Build the graph with the hidden_states output (for a learned speculator); off keeps existing cache entries. */
  hiddenStates?: boolean;
}

export interface ModelInfo {
  architecture: string;
  vocabSize: number;
  maxContext: number;
  /** The device that runs the model (after any fallback). */
  device: ExecutionDevice;
  /** The GPU adapter's name when a GPU runs the model. */
  adapter?: string;
  quantization: Quantization;
  numLayers: number;
  hiddenSize: number;
  parameters: number;
  /**
   * Fewest rows a forward should have for a node's logits not to depend on the forward's size: ONNX Runtime's
   * CPU kernels take another path for a single row (MatMulNBits, and any matmul split across threads), so
   * decoders pad one-token steps to this many rows. Absent means 1.
   */
  minForwardRows?: number;
}

export interface ForwardOptions {
  /** Nodes whose logits come back (each in 0..tokens.length-1, at least one); default every node. */
  logitRows?: readonly number[];
}

/**
 * One sequence's model state: the committed context lives in the KV cache.
 * A linear sequence is the special case where parents[j] = j - 1.
 */
export interface Model {
  readonly info: ModelInfo;
  /** Tokens committed to the KV cache so far. */
  readonly contextLength: number;
  /**
   * Runs the model on new tokens laid out as a tree after the committed context.
   * parents[j] < j, or -1 when node j follows the last committed token.
   * Returns logits row-major [rows, vocabSize]: one row per `options.logitRows` entry, in that order (default:
   * every node, rows = tokens.length). Every node's K/V is computed either way; only the output projection is
   * restricted, so a prefill asks for its last position and a verification for the tree's own nodes.
   */
  forward(tokens: readonly number[], parents: readonly number[], options?: ForwardOptions): Promise<Float32Array>;
  /**
   * The last forward's final hidden states (after the final norm), [rows, hiddenSize] in logitRows order, when the
   * model was loaded with `hiddenStates` (a learned speculator reads them); undefined otherwise.
   */
  lastHiddenStates?(): Float32Array | undefined;
  /** Keeps the KV entries of the given nodes of the last forward (a root path, in order) and drops the rest. */
  commit(acceptedNodes: readonly number[]): void;
  /** Shrinks the committed context to its first n tokens (reusing a shared prompt prefix). */
  truncate(n: number): void;
  dispose(): Promise<void>;
}
