// The Model implementation: an onnxruntime-node session over the built graph plus the KV cache.
process.env.ORT_DISABLE_TELEMETRY = '1';
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import type { ModelConfig } from './config';
import { KvCache } from './kvCache';
import { treeLayout } from './treeMask';
import type { Device, Model, ModelInfo } from './types';

type Ort = typeof import('onnxruntime-node');

let ortModule: Ort | undefined;
export async function loadOrt(): Promise<Ort> {
  ortModule ??= await import('onnxruntime-node');
  return ortModule;
}

export interface SessionOptions {
  device: Device;
  threads?: number;
  onWarning?: (message: string) => void;
}

/** Opens the session on the requested device; CUDA that fails to load falls back to CPU with a warning. */
export async function openSession(modelPath: string, options: SessionOptions): Promise<{ session: InferenceSession; device: 'cpu' | 'cuda' }> {
  const ort = await loadOrt();
  const base: InferenceSession.SessionOptions = {
    graphOptimizationLevel: 'all',
    ...(options.threads ? { intraOpNumThreads: options.threads } : {}),
    // Spinning worker threads collapse when another process holds a core (an editor, a build): on the shared
    // 2-core machine int4 S=1 took 32 ms spinning and 16 ms without. PRESAGE_ORT_SPIN=1 turns spinning back on.
    extra: { session: { intra_op: { allow_spinning: process.env.PRESAGE_ORT_SPIN === '1' ? '1' : '0' } } },
  };
  if (options.device === 'cuda') {
    try {
      return { session: await ort.InferenceSession.create(modelPath, { ...base, executionProviders: ['cuda'], logSeverityLevel: 4 }), device: 'cuda' };
    } catch (err) {
      options.onWarning?.(`CUDA execution provider is not available (${(err as Error).message.split('\n')[0]}); running on CPU`);
    }
  }
  return { session: await ort.InferenceSession.create(modelPath, { ...base, executionProviders: ['cpu'] }), device: 'cpu' };
}

export class OrtModel implements Model {
  private readonly kv: KvCache;
  private disposed = false;
  private running = false;

  constructor(
    private readonly ort: Ort,
    private readonly session: InferenceSession,
    private readonly config: ModelConfig,
    readonly info: ModelInfo,
  ) {
    this.kv = new KvCache(config.numLayers, config.numKvHeads, config.headDim, info.maxContext);
  }

  get contextLength(): number {
    return this.kv.length;
  }

  async forward(tokens: readonly number[], parents: readonly number[]): Promise<Float32Array> {
    if (this.disposed) throw new Error('forward: model was disposed');
    if (this.running) throw new Error('forward: another forward on this model is still running (await it first)');
    const s = tokens.length;
    if (s === 0) throw new Error('forward: no tokens');
    if (parents.length !== s) throw new Error(`forward: ${s} tokens but ${parents.length} parents`);
    tokens.forEach((t, j) => {
      if (!Number.isInteger(t) || t < 0 || t >= this.config.vocabSize) throw new Error(`forward: token ${t} at node ${j} is outside the vocabulary (0..${this.config.vocabSize - 1})`);
    });
    this.kv.discardStaged();
    const past = this.kv.length;
    const layout = treeLayout(parents, past);
    this.kv.reserve(s);
    const { Tensor: T } = this.ort;
    const feeds: Record<string, Tensor> = {
      input_ids: new T('int64', BigInt64Array.from(tokens, (t) => BigInt(t)), [1, s]),
      position_ids: new T('int64', BigInt64Array.from(layout.positions, (p) => BigInt(p)), [1, s]),
      attention_bias: new T('float32', layout.bias, [1, 1, s, past + s]),
    };
    const dims = [1, 1, past, this.config.headDim];
    for (let l = 0; l < this.config.numLayers; l++) {
      for (let h = 0; h < this.config.numKvHeads; h++) {
        const kv = this.kv.past(l, h);
        feeds[`past_key.${l}.${h}`] = new T('float32', kv.key, dims);
        feeds[`past_value.${l}.${h}`] = new T('float32', kv.value, dims);
      }
    }
    let out: InferenceSession.ReturnType;
    this.running = true;
    try {
      out = await this.session.run(feeds);
    } finally {
      this.running = false;
    }
    const keys: Float32Array[] = [];
    const values: Float32Array[] = [];
    for (let l = 0; l < this.config.numLayers; l++) {
      keys.push(out[`new_key.${l}`]!.data as Float32Array);
      values.push(out[`new_value.${l}`]!.data as Float32Array);
    }
    this.kv.stage(parents, keys, values);
    return out.logits!.data as Float32Array;
  }

  /** A forward that is not committed is discarded by the next forward, truncate or commit([]). */
  commit(acceptedNodes: readonly number[]): void {
    if (this.running) throw new Error('commit: a forward on this model is still running');
    this.kv.commit(acceptedNodes);
  }

  /** Benchmarks only: a committed context of n positions with placeholder K/V (costs are shape-dependent only). */
  setSyntheticContext(n: number): void {
    this.kv.fillSynthetic(n);
  }

  truncate(n: number): void {
    this.kv.truncate(n);
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.session.release();
  }
}
