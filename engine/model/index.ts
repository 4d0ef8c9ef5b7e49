// Public entry of the model runtime: load a Hugging Face checkpoint into a Model, write tiny random checkpoints.
import type { TextTokenizer } from '../tokenizer';
import type { LoadOptions, Model, ModelInfo } from './types';

export type { LoadOptions, Model, ModelInfo } from './types';

export interface LoadedCheckpoint {
  model: Model;
  tokenizer: TextTokenizer;
  info: ModelInfo;
  /** From generation_config.json, config.json and the tokenizer config, deduplicated. */
  eosTokenIds: number[];
  /** config.model_type, e.g. 'llama' or 'qwen2'. */
  modelType: string;
  dir: string;
}

export interface LoadedModel {
  model: Model;
  info: ModelInfo;
  eosTokenIds: number[];
  modelType: string;
  dir: string;
}

export interface TinyCheckpointOptions {
  out: string;
  arch: 'llama' | 'qwen2';
  layers: number;
  hidden: number;
  heads: number;
  kvHeads: number;
  intermediate: number;
  /** Folder with tokenizer.json (+ tokenizer_config.json); copied next to the weights. Optional for tests. */
  tokenizerDir?: string;
  seed: number;
  /** Defaults to the tokenizer's vocabulary size (or 256 without a tokenizer). */
  vocabSize?: number;
  /** Defaults to true for qwen2 and false for llama. */
  tieEmbeddings?: boolean;
  /** q/k/v (and o for llama) projection bias; defaults to true for qwen2 and false for llama. */
  attentionBias?: boolean;
  headDim?: number;
  ropeTheta?: number;
  ropeScaling?: Record<string, unknown> | null;
  maxPositionEmbeddings?: number;
  /** Storage type of the weights. */
  dtype?: 'F32' | 'F16' | 'BF16';
}

export async function loadModel(_dir: string, _options: LoadOptions = {}): Promise<LoadedModel> {
  throw new Error('loadModel: not implemented yet');
}

export async function loadCheckpoint(_dir: string, _options: LoadOptions = {}): Promise<LoadedCheckpoint> {
  throw new Error('loadCheckpoint: not implemented yet');
}

export async function writeTinyCheckpoint(_options: TinyCheckpointOptions): Promise<void> {
  throw new Error('writeTinyCheckpoint: not implemented yet');
}
