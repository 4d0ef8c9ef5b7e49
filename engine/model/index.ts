// Public entry of the model runtime: load a Hugging Face checkpoint into a Model, write tiny random checkpoints.
process.env.ORT_DISABLE_TELEMETRY = '1';
import fs from 'node:fs';
import path from 'node:path';
import { loadTokenizer, type TextTokenizer } from '../tokenizer';
import { checkpointHash, openCheckpoint, readWeight, type Checkpoint } from './checkpoint';
import { buildGraph, DEFAULT_BUILD_OPTIONS, GRAPH_BUILDER_VERSION, type GraphBuildOptions } from './graph';
import { cacheKey, defaultCacheDir, MODEL_FILE, verifyEntry, WEIGHTS_FILE, writableEntry, writeEntry } from './graphCache';
import type { InferenceSession } from 'onnxruntime-node';
import { planDevices, type DeviceChoice } from './device';
import { UnsupportedGraphVariant } from './arch/blocks';
import { DeviceKvCache } from './deviceKvCache';
import type { KvCache } from './kvCache';
import { loadOrt, openSession, OrtModel, providers, type OpenedSession } from './session';
import { writeTiny } from './tiny';
import type { ExecutionDevice, LoadOptions, Model, ModelInfo } from './types';
import { parameterCount } from './weights';

export type { Device, ExecutionDevice, LoadOptions, Model, ModelInfo } from './types';
export { parseDevice } from './device';
export { SUPPORTED_ARCHITECTURES, SUPPORTED_MODEL_TYPES } from './arch/index';

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

/** A model without its tokenizer (test fixtures, benchmarks). */
export interface LoadedModel {
  model: Model;
  info: ModelInfo;
  eosTokenIds: number[];
  modelType: string;
  dir: string;
  /** Folder of the built graph in the cache. */
  graphDir: string;
}

export interface TinyCheckpointOptions {
  out: string;
  /** A registered model_type (SUPPORTED_MODEL_TYPES): 'llama', 'qwen2', … */
  arch: string;
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
  /** Defaults to the architecture's choice (true for qwen2, false for llama). */
  tieEmbeddings?: boolean;
  /** q/k/v (and o for llama) projection bias; defaults to the architecture's choice (qwen2 always has it). */
  attentionBias?: boolean;
  headDim?: number;
  ropeTheta?: number;
  ropeScaling?: Record<string, unknown> | null;
  maxPositionEmbeddings?: number;
  /** `sliding_window` for families that have one (mistral, phi3, gemma); null = full attention. */
  slidingWindow?: number | null;
  /** config.json keys written over the architecture's tiny defaults (gemma and phi3 families). */
  configOverrides?: Record<string, unknown>;
  /** Storage type of the weights. */
  dtype?: 'F32' | 'F16' | 'BF16';
}

/** Graph variants per device: 'device' keeps the KV cache on the GPU (arch/blocks.ts deviceTreeAttention). */
export type GraphVariant = 'host' | 'device';

function buildOptions(options: LoadOptions, variant: GraphVariant): GraphBuildOptions {
  return {
    ...DEFAULT_BUILD_OPTIONS,
    quantization: options.quantization ?? 'none',
    accuracyLevel: options.accuracyLevel ?? DEFAULT_BUILD_OPTIONS.accuracyLevel,
    // In the build options, so the graph cache keys the variant; absent for host graphs (their keys stay put).
    ...(variant === 'device' ? { kvCache: 'device' as const } : {}),
    ...(options.hiddenStates ? { hiddenStates: true as const } : {}),
  };
}

/** Builds (or finds in the cache) the graph of a checkpoint; returns its folder and whether it came from the cache. */
export function prepareGraph(ckpt: Checkpoint, options: LoadOptions = {}, variant: GraphVariant = 'host'): { dir: string; cached: boolean } {
  const build = buildOptions(options, variant);
  const key = cacheKey({ version: GRAPH_BUILDER_VERSION, checkpoint: checkpointHash(ckpt), build });
  const dir = path.join(options.cacheDir ?? defaultCacheDir(), key);
  const problem = verifyEntry(dir, key);
  if (problem === undefined) return { dir, cached: true };
  if (problem !== 'missing') options.onWarning?.(`graph cache ${dir} is corrupt (${problem}); rebuilding`);
  const target = writableEntry(dir, key, options.onWarning);
  if (target.cached) return target;
  writeEntry(target.dir, key, (tmp) => {
    const fd = fs.openSync(path.join(tmp, WEIGHTS_FILE), 'w');
    let built;
    try {
      built = buildGraph(ckpt.config, (name, shape) => readWeight(ckpt, name, shape), build, fd, WEIGHTS_FILE, (f) => options.onProgress?.('build', f));
    } finally {
      fs.closeSync(fd);
    }
    fs.writeFileSync(path.join(tmp, MODEL_FILE), built.model);
  });
  return target;
}

/** The graph variant a device runs: WebGPU keeps its KV cache on the device unless PRESAGE_DEVICE_KV=0. */
export function graphVariantFor(device: ExecutionDevice): GraphVariant {
  return device === 'webgpu' && process.env.PRESAGE_DEVICE_KV !== '0' ? 'device' : 'host';
}

/** Opens a session on one device over the variant's graph; a cached entry that does not load is rebuilt once. */
async function openOn(ckpt: Checkpoint, options: LoadOptions, choice: DeviceChoice, variant: GraphVariant, deviceOutputs: readonly string[]): Promise<{ opened: OpenedSession; graphDir: string }> {
  const prepared = prepareGraph(ckpt, options, variant);
  // Opening a large graph takes seconds too (the kernels repack their weights): say so before it starts.
  options.onProgress?.('session', 0);
  const sessionOptions = { choices: [choice], threads: options.threads, onWarning: options.onWarning, deviceOutputs };
  try {
    return { opened: await openSession(path.join(prepared.dir, MODEL_FILE), sessionOptions), graphDir: prepared.dir };
  } catch (err) {
    if (!prepared.cached) throw err;
    // A cache entry that passes its checksum but does not load (e.g. written by another builder) is rebuilt once.
    options.onWarning?.(`graph cache ${prepared.dir} is corrupt (failed to load: ${(err as Error).message.split('\n')[0]}); rebuilding`);
    fs.rmSync(prepared.dir, { recursive: true, force: true });
    prepareGraph(ckpt, options, variant);
    return { opened: await openSession(path.join(prepared.dir, MODEL_FILE), sessionOptions), graphDir: prepared.dir };
  }
}

export async function loadModel(dir: string, options: LoadOptions = {}): Promise<LoadedModel> {
  process.env.ORT_DISABLE_TELEMETRY = '1';
  const ort = await loadOrt();
  const ckpt = openCheckpoint(dir);
  const c = ckpt.config;
  // The library defaults to the CPU (tests, benchmarks); the CLI and the extension ask for 'auto'.
  const choices = await planDevices(options.device ?? 'cpu', providers(), options.onWarning);
  let loaded: { opened: OpenedSession; graphDir: string; kvCache?: KvCache } | undefined;
  for (const [i, choice] of choices.entries()) {
    const variant = graphVariantFor(choice.device);
    try {
      if (variant === 'device') {
        const kvCache = await DeviceKvCache.create(ort, c.numLayers, c.numKvHeads, c.headDim, c.maxPositionEmbeddings);
        try {
          loaded = { ...(await openOn(ckpt, options, choice, variant, kvCache.deviceOutputs)), kvCache };
          break;
        } catch (err) {
          kvCache.dispose();
          if (!(err instanceof UnsupportedGraphVariant)) throw err;
          options.onWarning?.(`${err.message}: the KV cache stays in host memory on ${choice.device.toUpperCase()}`);
        }
      }
      loaded = await openOn(ckpt, options, choice, 'host', []);
      break;
    } catch (err) {
      if (i === choices.length - 1) throw err;
      options.onWarning?.(`${choice.device.toUpperCase()} execution provider failed to load (${(err as Error).message.split('\n')[0]}); running on ${choices[i + 1]!.device.toUpperCase()}`);
    }
  }
  const { opened, graphDir, kvCache } = loaded!;
  options.onProgress?.('session', 1);
  const info: ModelInfo = {
    architecture: c.architecture,
    vocabSize: c.vocabSize,
    maxContext: c.maxPositionEmbeddings,
    device: opened.device,
    ...(opened.adapter ? { adapter: opened.adapter } : {}),
    quantization: options.quantization ?? 'none',
    numLayers: c.numLayers,
    hiddenSize: c.hiddenSize,
    parameters: parameterCount(c),
    // A one-row forward runs other kernels than a multi-row one on the CPU; see ModelInfo.minForwardRows.
    ...(opened.device === 'cpu' ? { minForwardRows: 2 } : {}),
  };
  // A GPU lost mid-session: the host graph on the CPU, whose cache the model refills from the committed tokens.
  const reopenOnCpu = async (): Promise<InferenceSession> => (await openOn(ckpt, options, { device: 'cpu' }, 'host', [])).opened.session;
  const model = new OrtModel(ort, opened.session, c, info, { onWarning: options.onWarning, reopenOnCpu, ...(kvCache ? { kvCache } : {}) });
  return { model, info, eosTokenIds: ckpt.eosTokenIds, modelType: c.modelType, dir, graphDir };
}

export async function loadCheckpoint(dir: string, options: LoadOptions = {}): Promise<LoadedCheckpoint> {
  if (!fs.existsSync(path.join(dir, 'tokenizer.json'))) throw new Error(`${dir}: tokenizer.json not found (use loadModel for a checkpoint without a tokenizer)`);
  const tokenizer = loadTokenizer(dir);
  const loaded = await loadModel(dir, options);
  const eosTokenIds = [...new Set([...loaded.eosTokenIds, ...tokenizer.eosTokenIds])];
  return { model: loaded.model, tokenizer, info: loaded.info, eosTokenIds, modelType: loaded.modelType, dir };
}

export async function writeTinyCheckpoint(options: TinyCheckpointOptions): Promise<void> {
  await writeTiny(options);
}
