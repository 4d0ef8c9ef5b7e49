// The engine, independent of the transport: the workspace documents, the model slot, the back end that generates
// (the Generator seam) and the three surfaces over it. rpc.ts binds it to JSON-RPC; http.ts to the
// OpenAI-compatible API; both call the same surfaces, so prompts and budgets are the same on either.
import { availableDrafters } from '../decode/drafters';
import type {
  BackendHealth, ChangeDocumentParams, ConfigureBackendParams, ChatParams, CompleteParams, DocumentParams, GenerationResult, IndexedDocumentsResult,
  InitializeParams, InitializeResult, LoadModelParams, LoadModelResult, LoadProgressParams, OpenDocumentParams, RecordAcceptanceParams,
  RewriteParams, StatsResult, StatusParams,
} from '../protocol';
import { DEVICES, PROTOCOL_VERSION } from '../protocol';
import { checkInteger, checkString, EngineError } from './errors';
import { FallbackGenerator } from './generator/fallback';
import { LocalGenerator } from './generator/local';
import { RemoteError } from './generator/openaiClient';
import { RemoteGenerator } from './generator/remote';
import type { Generated, Generator } from './generator/types';
import type { ModelHost } from './host';
import { ModelSlot } from './modelSlot';
import { EngineStats, type Surface } from './stats';
import { ChatSurface } from './surfaces/chat';
import { CompletionSurface, type CompletionOptions, type CompletionOutcome } from './surfaces/completion';
import type { SurfaceContext } from './surfaces/context';
import { RewriteSurface } from './surfaces/rewrite';
import { Workspace } from './workspace';

export { EngineError } from './errors';
export { toMetrics } from './generator/local';
export { tokenizerFingerprint, type GenerateTextRequest } from './modelSlot';
export type { CompletionOptions, CompletionOutcome } from './surfaces/completion';

export const ENGINE_VERSION = '0.1.0';

export interface EngineEvents {
  status(params: StatusParams): void;
  log(level: 'info' | 'warn' | 'error', message: string): void;
  loadProgress(params: LoadProgressParams): void;
  partial(requestId: string, delta: string): void;
}

export interface EngineOptions {
  drafter?: string;
  /** Documents over this many characters are not indexed. */
  maxDocumentChars?: number;
  /** Optional syntax-aware block-end rule (tree-sitter); the indentation rule is used when it gives none. */
  blockEndRule?: (language: string, prefix: string, suffix: string) => Promise<((completion: string) => number) | undefined>;
  /** Measure the model's forward-cost curve at load (default true). */
  calibrate?: boolean;
}

export class Engine {
  private readonly _events: EngineEvents;
  private readonly _stats = new EngineStats();
  readonly workspace: Workspace;
  readonly slot: ModelSlot;
  private readonly _local: LocalGenerator;
  readonly completion: CompletionSurface;
  readonly rewriting: RewriteSurface;
  readonly chatting: ChatSurface;
  private _remote: RemoteGenerator | undefined;
  private _fallbackToLocal = false;

  constructor(events: EngineEvents, options: EngineOptions = {}) {
    this._events = events;
    this.workspace = new Workspace(options.maxDocumentChars ?? 1_000_000, (m) => events.log('warn', m), () => this.slot.scheduleSync());
    this.slot = new ModelSlot(
      { status: (p) => this._slotStatus(p), log: events.log, loadProgress: events.loadProgress },
      this.workspace,
      { ...(options.drafter ? { drafter: options.drafter } : {}), ...(options.calibrate !== undefined ? { calibrate: options.calibrate } : {}) },
    );
    this._local = new LocalGenerator(this.slot);
    const ctx: SurfaceContext = {
      generator: () => this._generator(),
      workspace: this.workspace,
      ...(options.blockEndRule ? { blockEndRule: options.blockEndRule } : {}),
      log: (level, message) => events.log(level, message),
      record: (surface, startedMs, generated) => this._record(surface, startedMs, generated),
    };
    this.completion = new CompletionSurface(ctx);
    this.rewriting = new RewriteSurface(ctx);
    this.chatting = new ChatSurface(ctx);
  }

  /** The loaded local model (undefined before loadModel). */
  get host(): ModelHost | undefined {
    return this.slot.host;
  }

  /** The back end that serves the next request. */
  private _generator(): Generator {
    const remote = this._remote;
    if (remote) return this._fallbackToLocal ? new FallbackGenerator(remote, () => (this.slot.host ? this._local : undefined), (m) => this._events.log('warn', m)) : remote;
    this.slot.requireHost();
    return this._local;
  }

  get backend(): 'local' | 'remote' {
    return this._remote ? 'remote' : 'local';
  }

  /**
   * Chooses the back end. Remote: checks the server at once (GET /models) and reports its health and latency in
   * the status; the documents and the local model (kept for the fallback) stay as they are.
   */
  async configureBackend(p: ConfigureBackendParams): Promise<BackendHealth> {
    if (p?.backend !== 'local' && p?.backend !== 'remote') throw new EngineError("backend must be 'local' or 'remote'", 'invalid-params');
    checkInteger(p.timeoutMs, 'timeoutMs', 100, 3_600_000);
    this._remote?.dispose();
    this._remote = undefined;
    this._fallbackToLocal = false;
    if (p.backend === 'local') {
      this._events.status(this.slot.host ? { state: 'ready', backend: 'local' } : { state: 'no-model', backend: 'local' });
      return this._local.health();
    }
    const url = checkString(p.url, 'url');
    let remote: RemoteGenerator;
    try {
      remote = new RemoteGenerator({
        url, ...(p.model ? { model: checkString(p.model, 'model') } : {}), ...(p.token ? { token: checkString(p.token, 'token') } : {}),
        ...(p.timeoutMs ? { timeoutMs: p.timeoutMs } : {}), log: (level, m) => this._events.log(level, m),
      });
    } catch (err) {
      throw new EngineError((err as Error).message, 'invalid-params');
    }
    this._remote = remote;
    this._fallbackToLocal = p.fallbackToLocal === true;
    return this.checkBackend();
  }

  /** A health check of the current back end, reported in the status (state, latency, the reason it is down). */
  async checkBackend(): Promise<BackendHealth> {
    const remote = this._remote;
    if (!remote) return this._local.health();
    const h = await remote.health();
    if (remote !== this._remote) return h;
    this._remoteStatus(h);
    return h;
  }

  private _remoteStatus(h: BackendHealth, extra: Partial<StatusParams> = {}): void {
    const fallback = this._fallbackToLocal && this.slot.host !== undefined;
    const where = `${h.model ?? 'remote'} at ${h.url}`;
    this._events.status({
      state: h.ok || fallback ? 'ready' : 'error', backend: 'remote',
      ...(h.latencyMs !== undefined ? { latencyMs: h.latencyMs } : {}),
      message: h.ok ? `remote: ${where}` : `remote unavailable: ${h.error}${fallback ? ' (answering from the local model)' : ''}`,
      ...extra,
    });
  }

  /** The serving back end's context in tokens (a no-model error when none can serve). */
  contextTokens(): number {
    return this._generator().contextTokens();
  }

  private _slotStatus(p: StatusParams): void {
    // With a remote back end the local model is only the fallback: its own states would misreport who serves.
    if (this._remote) {
      if (p.state === 'error' && p.message) this._events.log('warn', `local fallback model: ${p.message}`);
      return;
    }
    this._events.status(p);
  }

  private _record(surface: Surface, startedMs: number, g: Generated): void {
    const m = g.metrics;
    this._stats.record(surface, performance.now() - startedMs, m.firstTokenMs, m.tokens, m.steps, g.finishReason === 'cancelled');
    const h = this._remote?.lastHealth;
    if (this._remote && h) this._remoteStatus({ ...h, ok: true }, { tokensPerS: m.tokensPerS });
  }

  /** A remote failure the user must see (bad token, server down) also turns the status to error. */
  private async _reportRemote<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (err) {
      const h = this._remote?.lastHealth;
      if (err instanceof RemoteError && this._remote && err.kind !== 'rejected') this._remoteStatus({ backend: 'remote', ok: false, url: this._remote.client.baseUrl, error: err.message, ...(h?.model ? { model: h.model } : {}) });
      throw err;
    }
  }

  initialize(params: InitializeParams): InitializeResult {
    if (params?.storageDir !== undefined) this.slot.storageDir = checkString(params.storageDir, 'storageDir');
    if (params?.indexBudgetBytes !== undefined) {
      checkInteger(params.indexBudgetBytes, 'indexBudgetBytes', 1 << 20, Number.MAX_SAFE_INTEGER);
      this.slot.indexBudgetBytes = params.indexBudgetBytes;
    }
    if (params?.secretPatterns !== undefined) {
      const rejected = this.workspace.docs.setSecretPatterns(Array.isArray(params.secretPatterns) ? params.secretPatterns : [params.secretPatterns]);
      if (rejected.length > 0) this._events.log('warn', `initialize: ignored unusable secretPatterns ${rejected.join(', ')}`);
    }
    this._events.status({ state: this.slot.host ? 'ready' : 'no-model' });
    return {
      version: ENGINE_VERSION,
      protocolVersion: PROTOCOL_VERSION,
      pid: process.pid,
      capabilities: {
        methods: ['initialize', 'loadModel', 'openDocument', 'changeDocument', 'closeDocument', 'removeDocument', 'complete', 'rewrite', 'chat', 'recordAcceptance', 'clearHistory', 'stats', 'indexedDocuments', 'configureBackend', 'checkBackend', 'shutdown'],
        devices: [...DEVICES],
        drafters: availableDrafters(),
      },
    };
  }

  async loadModel(params: LoadModelParams): Promise<LoadModelResult> {
    const dir = checkString(params?.model, 'model');
    return this.slot.load(params, dir);
  }

  // ---- documents ----

  openDocument(p: OpenDocumentParams): void {
    this.workspace.open(p);
  }

  changeDocument(p: ChangeDocumentParams): void {
    this.workspace.change(p);
  }

  closeDocument(p: DocumentParams): void {
    this.workspace.close(p);
  }

  removeDocument(p: DocumentParams): void {
    this.workspace.remove(p);
  }

  indexedDocuments(): IndexedDocumentsResult {
    return { uris: this.workspace.docs.uris() };
  }

  // ---- the three surfaces (JSON-RPC shapes; partial results go out as events) ----

  async complete(p: CompleteParams, signal?: AbortSignal): Promise<GenerationResult> {
    return (await this.completeDetailed(p, signal)).result;
  }

  /** The inline-completion path (JSON-RPC `complete`, the `complete` CLI, the quality benchmark). */
  async completeDetailed(p: CompleteParams, signal?: AbortSignal, options: CompletionOptions = {}): Promise<CompletionOutcome> {
    return this._reportRemote(() => this.completion.complete(p, signal, options, (d) => this._events.partial(p.requestId, d)));
  }

  async rewrite(p: RewriteParams, signal?: AbortSignal): Promise<GenerationResult> {
    return this._reportRemote(() => this.rewriting.rewrite(p, signal, (d) => this._events.partial(p.requestId, d)));
  }

  async chat(p: ChatParams, signal?: AbortSignal): Promise<GenerationResult> {
    return this._reportRemote(() => this.chatting.answer(p, signal, (d) => this._events.partial(p.requestId, d)));
  }

  // ---- history ----

  recordAcceptance(p: RecordAcceptanceParams): void {
    if (typeof p?.text !== 'string') return;
    this.slot.learn(p.text);
  }

  clearHistory(): void {
    this.slot.clearHistory();
  }

  /** Folds the appended completions into the history snapshot (other engines' too: it is merged on disk). */
  compactHistory(): void {
    this.slot.compactHistory();
  }

  // ---- stats and lifecycle ----

  stats(): StatsResult {
    const host = this.slot.host;
    const modelPath = this.slot.modelPath;
    return {
      version: ENGINE_VERSION,
      pid: process.pid,
      rssBytes: process.memoryUsage().rss,
      ...(host && modelPath ? { model: { path: modelPath, architecture: host.checkpoint.info.architecture, device: host.checkpoint.info.device } } : {}),
      documents: this.workspace.docs.size,
      indexedTokens: this.slot.indexedTokens,
      indexBytes: host?.drafter?.estimateBytes() ?? 0,
      historyBytes: this.slot.historyBytes,
      surfaces: this._stats.snapshot(),
    };
  }

  async shutdown(): Promise<void> {
    this._remote?.dispose();
    await this.slot.shutdown();
  }
}

