// The Model implementation: an onnxruntime-node session over the built graph plus the KV cache, on the device the
// provider table (device.ts) chose. A GPU session that fails to open, or fails mid-session (a lost device), is
// replaced by a CPU session with a warning.
process.env.ORT_DISABLE_TELEMETRY = '1';
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import type { ModelConfig } from './config';
import { makeProviders, type DeviceChoice, type Provider } from './device';
import { HostKvCache, type KvCache } from './kvCache';
import { canonicalTree, treeLayout } from './treeMask';
import type { ExecutionDevice, ForwardOptions, Model, ModelInfo } from './types';

type Ort = typeof import('onnxruntime-node');

let ortModule: Ort | undefined;
export async function loadOrt(): Promise<Ort> {
  ortModule ??= await import('onnxruntime-node');
  return ortModule;
}

let providerTable: Record<ExecutionDevice, Provider> | undefined;
/** The process's provider table (detection results are cached in it). */
export function providers(): Record<ExecutionDevice, Provider> {
  return (providerTable ??= makeProviders(loadOrt));
}

export interface SessionOptions {
  /** Devices to try in order (from planDevices); the last is normally the CPU. */
  choices: readonly DeviceChoice[];
  threads?: number;
  onWarning?: (message: string) => void;
  /** Output names to leave on the device (a device KV cache's outputs). */
  deviceOutputs?: readonly string[];
}

export interface OpenedSession {
  session: InferenceSession;
  device: ExecutionDevice;
  adapter?: string;
}

function sessionOptions(device: ExecutionDevice, options: SessionOptions): InferenceSession.SessionOptions {
  const base: InferenceSession.SessionOptions = {
    graphOptimizationLevel: 'all',
    ...(options.threads ? { intraOpNumThreads: options.threads } : {}),
    // Spinning worker threads collapse when another process holds a core (an editor, a build): on the shared
    // 2-core machine int4 S=1 took 32 ms spinning and 16 ms without. PRESAGE_ORT_SPIN=1 turns spinning back on.
    extra: { session: { intra_op: { allow_spinning: process.env.PRESAGE_ORT_SPIN === '1' ? '1' : '0' } } },
    executionProviders: [...providers()[device].executionProviders],
  };
  if (device !== 'cpu') base.logSeverityLevel = 3; // ORT warns about every shape node it leaves on the CPU
  if (device !== 'cpu' && options.deviceOutputs?.length) {
    base.preferredOutputLocation = Object.fromEntries(options.deviceOutputs.map((name) => [name, 'gpu-buffer' as const]));
  }
  return base;
}

/** Opens the session on the first device that loads; a GPU that fails falls back to the next with a warning. */
export async function openSession(modelPath: string, options: SessionOptions): Promise<OpenedSession> {
  const ort = await loadOrt();
  const choices = options.choices.length ? options.choices : [{ device: 'cpu' as const }];
  let lastError: unknown;
  for (const [i, choice] of choices.entries()) {
    try {
      const session = await ort.InferenceSession.create(modelPath, sessionOptions(choice.device, options));
      return { session, device: choice.device, ...(choice.adapter ? { adapter: choice.adapter } : {}) };
    } catch (err) {
      lastError = err;
      if (i === choices.length - 1) break;
      options.onWarning?.(`${choice.device.toUpperCase()} execution provider failed to load (${(err as Error).message.split('\n')[0]}); running on ${choices[i + 1]!.device.toUpperCase()}`);
    }
  }
  throw lastError;
}

/** Bytes of the host-side tensors a run takes or returns: what crosses between host and device on a GPU. */
export function hostBytes(tensors: Readonly<Record<string, Pick<Tensor, 'location' | 'dims' | 'type'>>>): number {
  let n = 0;
  for (const t of Object.values(tensors)) {
    if (t.location !== 'cpu') continue;
    const bytes = t.type === 'int64' || t.type === 'float64' ? 8 : t.type === 'float16' ? 2 : t.type === 'bool' || t.type === 'uint8' || t.type === 'int8' ? 1 : 4;
    n += bytes * t.dims.reduce((a, b) => a * b, 1);
  }
  return n;
}

export interface OrtModelOptions {
  onWarning?: (message: string) => void;
  /** Opens a CPU session on the same graph, for a GPU that is lost mid-session. */
  reopenOnCpu?: () => Promise<InferenceSession>;
  /** A device KV cache; defaults to the host cache. */
  kvCache?: KvCache;
  /** Test hook: called with the feeds and outputs of every run (bytes crossing the session boundary). */
  onRun?: (feeds: Readonly<Record<string, Tensor>>, outputs: Readonly<Record<string, Tensor>>) => void;
}

export class OrtModel implements Model {
  private kv: KvCache;
  private disposed = false;
  private running = false;
  /** The committed tokens, to refill a CPU cache when a GPU is lost; undefined after a synthetic context. */
  private history: number[] | undefined = [];
  private lastTokens: readonly number[] = [];
  private lastHidden: Float32Array | undefined;

  constructor(
    private readonly ort: Ort,
    private session: InferenceSession,
    private readonly config: ModelConfig,
    readonly info: ModelInfo,
    private readonly options: OrtModelOptions = {},
  ) {
    this.kv = options.kvCache ?? new HostKvCache(config.numLayers, config.numKvHeads, config.headDim, info.maxContext, 256, ort.Tensor);
  }

  get contextLength(): number {
    return this.kv.length;
  }

  lastHiddenStates(): Float32Array | undefined {
    return this.lastHidden;
  }

  async forward(tokens: readonly number[], parents: readonly number[], options: ForwardOptions = {}): Promise<Float32Array> {
    if (this.disposed) throw new Error('forward: model was disposed');
    if (this.running) throw new Error('forward: another forward on this model is still running (await it first)');
    const s = tokens.length;
    if (s === 0) throw new Error('forward: no tokens');
    if (parents.length !== s) throw new Error(`forward: ${s} tokens but ${parents.length} parents`);
    tokens.forEach((t, j) => {
      if (!Number.isInteger(t) || t < 0 || t >= this.config.vocabSize) throw new Error(`forward: token ${t} at node ${j} is outside the vocabulary (0..${this.config.vocabSize - 1})`);
    });
    const rows = options.logitRows ?? tokens.map((_, j) => j);
    if (rows.length === 0) throw new Error('forward: logitRows is empty (ask for at least one row)');
    for (const r of rows) if (!Number.isInteger(r) || r < 0 || r >= s) throw new Error(`forward: logit row ${r} is not a node (0..${s - 1})`);
    this.kv.discardStaged();
    let out: InferenceSession.ReturnType;
    let feeds: Record<string, Tensor>;
    this.running = true;
    try {
      try {
        await this.kv.flush();
        feeds = this.feeds(tokens, parents, rows);
        out = await this.session.run(feeds);
      } catch (err) {
        if (this.info.device === 'cpu' || !this.options.reopenOnCpu || !this.history) throw err;
        // A lost GPU: the same step reruns on the CPU over a cache refilled from the committed tokens.
        await this.fallBackToCpu(err as Error);
        feeds = this.feeds(tokens, parents, rows);
        out = await this.session.run(feeds);
      }
    } finally {
      this.running = false;
    }
    this.options.onRun?.(feeds, out);
    this.kv.stageOutputs(parents, out);
    this.lastTokens = tokens;
    this.lastHidden = out.hidden_states?.data as Float32Array | undefined;
    return out.logits!.data as Float32Array;
  }

  private feeds(tokens: readonly number[], parents: readonly number[], logitRows: readonly number[]): Record<string, Tensor> {
    const s = tokens.length;
    const past = this.kv.length;
    const layout = treeLayout(parents, past);
    const { Tensor: T } = this.ort;
    const feeds: Record<string, Tensor> = {
      input_ids: new T('int64', BigInt64Array.from(tokens, (t) => BigInt(t)), [1, s]),
      position_ids: new T('int64', BigInt64Array.from(layout.positions, (p) => BigInt(p)), [1, s]),
      logit_rows: new T('int64', BigInt64Array.from(logitRows, (r) => BigInt(r)), [logitRows.length]),
      // A device cache's graph builds the past columns itself: only the tree's [S, S] part crosses the bus.
      attention_bias: this.kv.deviceOutputs.length > 0 ? new T('float32', treeLayout(parents, 0).bias, [1, 1, s, s]) : new T('float32', layout.bias, [1, 1, s, past + s]),
      ...this.kv.pastFeeds(s),
    };
    // Graphs with batch-invariant attention (arch/blocks.ts treeAttention) take the tree in canonical order too.
    if (this.session.inputNames.includes('tree_index')) {
      const canonical = canonicalTree(parents);
      feeds.tree_index = new T('int64', canonical.index, [s, s]);
      feeds.tree_bias = new T('float32', canonical.bias, [s, s]);
      feeds.tree_inverse = new T('int64', canonical.inverse, [s, s]);
    }
    // WebGPU crashes the process (SIGSEGV) on a zero-length past input: feed one zero slot that the bias masks
    // out. Softmax gives it weight exp(-inf) = 0, so the logits and the new K/V are unchanged.
    if (past === 0 && this.info.device === 'webgpu' && this.kv.deviceOutputs.length === 0) {
      const bias = new Float32Array(s * (s + 1));
      for (let j = 0; j < s; j++) {
        bias[j * (s + 1)] = -Infinity;
        bias.set(layout.bias.subarray(j * s, (j + 1) * s), j * (s + 1) + 1);
      }
      feeds.attention_bias = new T('float32', bias, [1, 1, s, s + 1]);
      const slot = new T('float32', new Float32Array(this.config.headDim), [1, 1, 1, this.config.headDim]);
      for (const name of Object.keys(feeds)) if (name.startsWith('past_')) feeds[name] = slot;
    }
    return feeds;
  }

  private async fallBackToCpu(err: Error): Promise<void> {
    const was = this.info.device;
    this.options.onWarning?.(`${was.toUpperCase()} device failed mid-session (${err.message.split('\n')[0]}); continuing on CPU`);
    const cpu = await this.options.reopenOnCpu!();
    const old = this.session;
    this.session = cpu;
    const info = this.info as { device: ExecutionDevice; adapter?: string };
    info.device = 'cpu';
    delete info.adapter;
    await old.release().catch(() => undefined);
    this.kv.dispose();
    const c = this.config;
    this.kv = new HostKvCache(c.numLayers, c.numKvHeads, c.headDim, this.info.maxContext, 256, this.ort.Tensor);
    const history = this.history ?? [];
    if (history.length > 0) {
      const parents = history.map((_, i) => i - 1);
      const out = await this.session.run(this.feeds(history, parents, [history.length - 1]));
      this.kv.stageOutputs(parents, out);
      this.kv.commit(parents.map((_, i) => i));
    }
  }

  /** A forward that is not committed is discarded by the next forward, truncate or commit([]). */
  commit(acceptedNodes: readonly number[]): void {
    if (this.running) throw new Error('commit: a forward on this model is still running');
    this.kv.commit(acceptedNodes);
    this.history?.push(...acceptedNodes.map((n) => this.lastTokens[n]!));
  }

  /** Benchmarks only: a committed context of n positions with placeholder K/V (costs are shape-dependent only). */
  setSyntheticContext(n: number): void {
    this.kv.fillSynthetic(n);
    this.history = undefined;
  }

  truncate(n: number): void {
    this.kv.truncate(n);
    if (n === 0) this.history = [];
    else if (this.history) this.history.length = n;
  }

  /** Tests only: sees the feeds and fetches of every run, the model's and its cache's (bytes across the bus). */
  instrument(onRun: OrtModelOptions['onRun']): void {
    this.options.onRun = onRun;
    (this.kv as Partial<{ instrument(cb: OrtModelOptions['onRun']): void }>).instrument?.(onRun);
  }

  /** Tests only: the cache behind the model (to compare a device cache with the host one). */
  get kvCache(): KvCache {
    return this.kv;
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    this.kv.dispose();
    await this.session.release();
  }
}
