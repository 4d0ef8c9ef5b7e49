// The model slot: the one loaded local model (checkpoint, decoder, drafter, queue), its history on disk, and the
// drafter's index over the workspace documents. `generateText` is the one place that runs our decoder.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { DecodeResult } from '../decode/decoder';
import { makeDrafter } from '../decode/drafters';
import type { TokenConstraint } from '../decode/constraint';
import { decodeHistory as decodeSequences } from '../draft/history';
import type { Drafter } from '../draft/types';
import { loadCheckpoint } from '../model/index';
import type { BuiltPrompt } from '../prompt/fim';
import type { LoadModelParams, LoadModelResult, LoadProgressParams, StatusParams } from '../protocol';
import { EngineError } from './errors';
import { HistoryStore } from './history';
import { checkSampling } from './sampling';
import { costCurveFor, hostFor, type ModelHost } from './host';
import type { Surface } from './stats';
import type { Workspace } from './workspace';

export interface SlotEvents {
  status(params: StatusParams): void;
  log(level: 'info' | 'warn' | 'error', message: string): void;
  loadProgress(params: LoadProgressParams): void;
}

export interface SlotOptions {
  drafter?: string;
  /** Measure the model's forward-cost curve at load (default true). */
  calibrate?: boolean;
}

export interface GenerateTextRequest {
  requestId: string;
  surface: Surface;
  prompt: BuiltPrompt;
  references?: number[][];
  maxTokens: number;
  temperature?: number;
  topP?: number;
  topK?: number;
  seed?: number;
  stop?: string[];
  stopAt?: (text: string) => number;
  /** Masks the logits before every choice (token healing). */
  constraint?: TokenConstraint;
  timeBudgetMs?: number;
  /** Cancel running or queued requests of the same surface (inline completions while typing). */
  cancelStale?: boolean;
  learn?: boolean;
  signal?: AbortSignal;
  onDelta?: (delta: string) => void;
}

export class ModelSlot {
  private _host: ModelHost | undefined;
  private _modelPath: string | undefined;
  private _fingerprint = '';
  /** The history on disk for the loaded model's tokenizer (undefined without a storage folder). */
  private _history: HistoryStore | undefined;
  private _loading: Promise<LoadModelResult> | undefined;
  private _acceptCounter = 0;
  private readonly _indexedTokens = new Map<string, number>();
  private _syncTimer: NodeJS.Timeout | undefined;
  storageDir: string | undefined;
  indexBudgetBytes: number | undefined;

  constructor(private readonly _events: SlotEvents, private readonly _workspace: Workspace, private readonly _options: SlotOptions = {}) {}

  get host(): ModelHost | undefined {
    return this._host;
  }

  get modelPath(): string | undefined {
    return this._modelPath;
  }

  requireHost(): ModelHost {
    if (!this._host) throw new EngineError('no model is loaded (call loadModel first)', 'no-model');
    return this._host;
  }

  async load(params: LoadModelParams, dir: string): Promise<LoadModelResult> {
    if (this._loading) await this._loading.catch(() => undefined);
    const run = this._load(dir, params);
    this._loading = run;
    try {
      return await run;
    } finally {
      if (this._loading === run) this._loading = undefined;
    }
  }

  private async _load(dir: string, params: LoadModelParams): Promise<LoadModelResult> {
    const warnings: string[] = [];
    this._events.status({ state: 'loading', message: dir });
    const t0 = performance.now();
    try {
      if (!fs.existsSync(dir)) throw new EngineError(`model folder ${dir} does not exist`, 'invalid-params');
      const drafter = makeDrafter(this._options.drafter ?? 'hybrid', this.indexBudgetBytes !== undefined ? { hybrid: { maxIndexBytes: this.indexBudgetBytes } } : undefined);
      const checkpoint = await loadCheckpoint(dir, {
        ...(params.device ? { device: params.device } : {}),
        ...(params.quantization ? { quantization: params.quantization } : {}),
        ...(params.cacheDir ? { cacheDir: params.cacheDir } : {}),
        onProgress: (stage, fraction) => this._events.loadProgress({ stage, fraction }),
        onWarning: (m) => {
          warnings.push(m);
          this._events.log('warn', m);
        },
      });
      this._events.loadProgress({ stage: 'calibrate', fraction: 0 });
      const costCurve = await costCurveFor(checkpoint, this._options.calibrate !== false);
      this._events.loadProgress({ stage: 'calibrate', fraction: 1 });
      const old = this._host;
      if (old) {
        // Keep what the old model's drafter learned, and never free a model under a running request.
        this.compactHistory();
        old.queue.cancelAll();
        await old.queue.drain();
      }
      this._host = hostFor(checkpoint, drafter, performance.now() - t0, costCurve);
      this._modelPath = dir;
      if (old) await old.dispose().catch(() => undefined);
      this._fingerprint = tokenizerFingerprint(dir, checkpoint.info.vocabSize);
      this._restoreHistory(drafter);
      this._indexedTokens.clear();
      this._workspace.docs.markAllDirty();
      this.syncIndex();
      this._events.status({ state: 'ready', backend: 'local' });
      const info = checkpoint.info;
      return {
        model: dir, architecture: info.architecture, device: info.device, ...(info.adapter ? { adapter: info.adapter } : {}), vocabSize: info.vocabSize, maxContext: info.maxContext,
        fimTemplate: this._host.fimTemplate, loadMs: performance.now() - t0, warnings,
      };
    } catch (err) {
      this._events.status({ state: this._host ? 'ready' : 'error', message: `loading ${dir} failed: ${(err as Error).message}` });
      throw err;
    }
  }

  /**
   * Re-indexing (tokenizing whole documents) stays off the request path: it runs a moment after the last edit,
   * when no request is running.
   */
  scheduleSync(delayMs = 300): void {
    if (this._syncTimer) return;
    this._syncTimer = setTimeout(() => {
      this._syncTimer = undefined;
      if (this._host && this._host.queue.size > 0) this.scheduleSync(100);
      else this.syncIndex();
    }, delayMs);
    this._syncTimer.unref?.();
  }

  /** Feeds changed documents to the drafter's global index. */
  syncIndex(): void {
    const host = this._host;
    const { dirty, removed } = this._workspace.docs.takeChanges();
    if (!host?.drafter) {
      if (!host) this._workspace.docs.markAllDirty();
      return;
    }
    for (const uri of removed) {
      host.drafter.removeDocument(uri);
      this._indexedTokens.delete(uri);
    }
    for (const doc of dirty) {
      const tokens = host.tokenizer.encode(doc.text);
      host.drafter.setDocument(doc.uri, tokens);
      this._indexedTokens.set(doc.uri, tokens.length);
    }
  }

  get indexedTokens(): number {
    let n = 0;
    for (const t of this._indexedTokens.values()) n += t;
    return n;
  }

  get historyBytes(): number {
    return this._history?.bytes ?? 0;
  }

  /** Runs one generation through the model's queue, with status and history bookkeeping. */
  async generateText(req: GenerateTextRequest): Promise<DecodeResult> {
    const host = this.requireHost();
    checkSampling(req);
    const result = await host.queue.enqueue({
      group: req.surface,
      cancelStale: req.cancelStale === true,
      ...(req.signal ? { signal: req.signal } : {}),
      run: async (signal) => {
        if (!signal.aborted) this._events.status({ state: 'generating', backend: 'local' });
        return host.decoder.generate({
          requestId: req.requestId,
          prompt: req.prompt.ids,
          references: req.references ?? [],
          maxTokens: req.maxTokens,
          sampling: {
            ...(req.temperature !== undefined ? { temperature: req.temperature } : {}),
            ...(req.topP !== undefined ? { topP: req.topP } : {}),
            ...(req.topK !== undefined ? { topK: req.topK } : {}),
            ...(req.seed !== undefined ? { seed: req.seed } : {}),
          },
          eosTokenIds: [...new Set([...host.eosTokenIds, ...req.prompt.stopTokenIds])],
          stop: [...req.prompt.stop, ...(req.stop ?? [])],
          ...(req.stopAt ? { stopAt: req.stopAt } : {}),
          ...(req.constraint ? { constraint: req.constraint } : {}),
          ...(req.timeBudgetMs ? { timeBudgetMs: req.timeBudgetMs } : {}),
          signal,
          learn: req.learn !== false,
          ...(req.onDelta ? { onDelta: req.onDelta } : {}),
        });
      },
    });
    const m = result.metrics;
    if (host.queue.size === 0) this._events.status({ state: 'ready', backend: 'local', tokensPerS: m.tokensPerS, mat: m.mat });
    // Each completion goes to disk as it is learned: a crash loses at most the one being written.
    if (result.finishReason !== 'cancelled' && req.learn !== false && host.drafter) this._history?.append(result.tokens);
    return result;
  }

  /** Text the user kept (or a remote server produced) teaches the drafter and goes into the history. */
  learn(text: string): void {
    const host = this._host;
    if (text.length === 0 || !host?.drafter) return;
    const tokens = host.tokenizer.encode(text);
    const id = `accepted-${++this._acceptCounter}`;
    host.drafter.begin(id, []);
    host.drafter.end(id, tokens);
    this._history?.append(tokens);
  }

  clearHistory(): void {
    this._host?.drafter?.clearHistory();
    this._history?.clear();
  }

  private _restoreHistory(drafter: Drafter | undefined): void {
    this._history = undefined;
    if (!drafter || !this.storageDir) return;
    this._history = new HistoryStore(this.storageDir, this._fingerprint, (m) => this._events.log('warn', m));
    const payload = this._history.load();
    const sequences = decodeSequences(payload, 'history');
    if (sequences.length === 0) return;
    try {
      drafter.importHistory(payload);
    } catch {
      // A drafter with its own export format (sam) learns the sequences one by one instead.
      drafter.clearHistory();
      sequences.forEach((seq, i) => {
        drafter.begin(`history-${i}`, []);
        drafter.end(`history-${i}`, seq);
      });
    }
  }

  /** Folds the appended completions into the history snapshot (other engines' too: it is merged on disk). */
  compactHistory(): void {
    this._history?.compact();
  }

  async shutdown(): Promise<void> {
    const host = this._host;
    if (this._syncTimer) clearTimeout(this._syncTimer);
    if (host) {
      host.queue.cancelAll();
      await Promise.race([host.queue.drain(), new Promise((r) => setTimeout(r, 2000))]);
    }
    this.compactHistory();
    this._host = undefined;
    if (host) await host.dispose().catch(() => undefined);
  }
}

/** Names the vocabulary: a hash of tokenizer.json (or the vocabulary size when there is none). */
export function tokenizerFingerprint(dir: string, vocabSize: number): string {
  try {
    const h = crypto.createHash('sha256').update(fs.readFileSync(path.join(dir, 'tokenizer.json'))).digest('hex').slice(0, 16);
    return `tok:${h}:${vocabSize}`;
  } catch {
    return `vocab:${vocabSize}`;
  }
}
