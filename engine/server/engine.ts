// The engine's behaviour, independent of the transport: documents, model loading, the three generation surfaces,
// the global history and statistics. rpc.ts binds it to JSON-RPC; http.ts to the OpenAI-compatible API.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { DecodeResult } from '../decode/decoder';
import { availableDrafters, makeDrafter } from '../decode/drafters';
import type { Drafter } from '../draft/types';
import { loadCheckpoint } from '../model/index';
import { buildChatPrompt, buildRewritePrompt, type PromptMessage } from '../prompt/chat';
import { buildFimPrompt, supportsRepoContext, type BuiltPrompt } from '../prompt/fim';
import { gatherRepoContext, RecentEdits } from '../prompt/related';
import { healingConstraint, planHealing, vocabularyTexts } from '../prompt/healing';
import type { TokenConstraint } from '../decode/constraint';
import { healedView } from '../complete/healed';
import { createCompletionPipeline } from '../complete/pipeline';
import type { StageName } from '../complete/types';
import type {
  ChangeDocumentParams, ChatParams, Citation, CompleteParams, DocumentParams, GenerationMetrics, GenerationResult,
  IndexedDocumentsResult, InitializeParams, InitializeResult, LoadModelParams, LoadModelResult, LoadProgressParams,
  OpenDocumentParams, RecordAcceptanceParams, RewriteParams, StatsResult, StatusParams,
} from '../protocol';
import { DEVICES, PROTOCOL_VERSION } from '../protocol';
import { decodeHistory as decodeSequences } from '../draft/history';
import { DocumentStore } from './documents';
import { HistoryStore } from './history';
import { costCurveFor, hostFor, plainPromptIds, type ModelHost } from './host';
import { retrieveSnippets } from './retrieval';
import { EngineStats, type Surface } from './stats';

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

/** An error the transport reports with a specific code. */
export class EngineError extends Error {
  constructor(message: string, readonly code: 'no-model' | 'invalid-params' | 'cancelled' | 'internal') {
    super(message);
  }
}

/** Switches for the completion path (the quality benchmark's ablation). */
export interface CompletionOptions {
  /** Token healing (default on). */
  healing?: boolean;
  disabledStages?: ReadonlySet<StageName>;
}

export interface CompletionOutcome {
  result: GenerationResult;
  /** The token ids the model saw. */
  promptIds: number[];
  /** The prefix's end that healing backed up ('' when none). */
  healed: string;
  /** The pipeline stage that cut or dropped the text, else the decoder's finish reason. */
  stopReason: string;
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

function checkNumber(v: unknown, name: string, min: number, max: number): void {
  if (v === undefined) return;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) throw new EngineError(`${name} must be a number in [${min}, ${max}], got ${JSON.stringify(v)}`, 'invalid-params');
}

function checkInteger(v: unknown, name: string, min: number, max: number): void {
  checkNumber(v, name, min, max);
  if (v !== undefined && !Number.isInteger(v)) throw new EngineError(`${name} must be an integer, got ${JSON.stringify(v)}`, 'invalid-params');
}

function checkString(v: unknown, name: string): string {
  if (typeof v !== 'string') throw new EngineError(`${name} must be a string`, 'invalid-params');
  return v;
}

export function toMetrics(r: DecodeResult): GenerationMetrics {
  const m = r.metrics;
  return {
    steps: m.steps, tokens: m.tokens, mat: m.mat, tokensPerS: m.tokensPerS, draftMs: m.draftMs, verifyMs: m.verifyMs,
    totalMs: m.totalMs, firstTokenMs: m.firstTokenMs, acceptedByDrafter: m.acceptedByDrafter,
  };
}

export class Engine {
  private readonly _events: EngineEvents;
  private readonly _options: EngineOptions;
  private readonly _docs: DocumentStore;
  /** Uris edited lately, for the related files of repository-level completion prompts. */
  private readonly _recentEdits = new RecentEdits();
  private readonly _stats = new EngineStats();
  private _host: ModelHost | undefined;
  private _modelPath: string | undefined;
  private _fingerprint = '';
  private _storageDir: string | undefined;
  /** The history on disk for the loaded model's tokenizer (undefined without a storage folder). */
  private _history: HistoryStore | undefined;
  private _loading: Promise<LoadModelResult> | undefined;
  private _acceptCounter = 0;
  private _indexedTokens = new Map<string, number>();
  private _syncTimer: NodeJS.Timeout | undefined;
  private _indexBudgetBytes: number | undefined;

  constructor(events: EngineEvents, options: EngineOptions = {}) {
    this._events = events;
    this._options = options;
    this._docs = new DocumentStore(options.maxDocumentChars ?? 1_000_000);
  }

  get host(): ModelHost | undefined {
    return this._host;
  }

  initialize(params: InitializeParams): InitializeResult {
    if (params?.storageDir !== undefined) this._storageDir = checkString(params.storageDir, 'storageDir');
    if (params?.indexBudgetBytes !== undefined) {
      checkInteger(params.indexBudgetBytes, 'indexBudgetBytes', 1 << 20, Number.MAX_SAFE_INTEGER);
      this._indexBudgetBytes = params.indexBudgetBytes;
    }
    if (params?.secretPatterns !== undefined) {
      const rejected = this._docs.setSecretPatterns(Array.isArray(params.secretPatterns) ? params.secretPatterns : [params.secretPatterns]);
      if (rejected.length > 0) this._events.log('warn', `initialize: ignored unusable secretPatterns ${rejected.join(', ')}`);
    }
    this._events.status({ state: this._host ? 'ready' : 'no-model' });
    return {
      version: ENGINE_VERSION,
      protocolVersion: PROTOCOL_VERSION,
      pid: process.pid,
      capabilities: {
        methods: ['initialize', 'loadModel', 'openDocument', 'changeDocument', 'closeDocument', 'removeDocument', 'complete', 'rewrite', 'chat', 'recordAcceptance', 'clearHistory', 'stats', 'indexedDocuments', 'shutdown'],
        devices: [...DEVICES],
        drafters: availableDrafters(),
      },
    };
  }

  async loadModel(params: LoadModelParams): Promise<LoadModelResult> {
    const dir = checkString(params?.model, 'model');
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
      const drafter = makeDrafter(this._options.drafter ?? 'hybrid', this._indexBudgetBytes !== undefined ? { hybrid: { maxIndexBytes: this._indexBudgetBytes } } : undefined);
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
      this._docs.markAllDirty();
      this._syncIndex();
      this._events.status({ state: 'ready' });
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

  // ---- documents ----

  openDocument(p: OpenDocumentParams): void {
    const problem = this._docs.open(p?.uri, p?.text, p?.version ?? 0, p?.source === 'workspace' ? 'workspace' : 'editor', p?.languageId);
    if (problem) this._events.log('warn', problem);
    this._scheduleSync();
  }

  changeDocument(p: ChangeDocumentParams): void {
    const problem = this._docs.change(p?.uri, p?.version ?? 0, p?.changes);
    if (problem) this._events.log('warn', problem);
    else this._recentEdits.touch(p.uri);
    this._scheduleSync();
  }

  closeDocument(p: DocumentParams): void {
    this._docs.close(p?.uri);
  }

  removeDocument(p: DocumentParams): void {
    this._docs.remove(p?.uri);
    this._scheduleSync();
  }

  indexedDocuments(): IndexedDocumentsResult {
    return { uris: this._docs.uris() };
  }

  /**
   * Re-indexing (tokenizing whole documents) stays off the request path: it runs a moment after the last edit,
   * when no request is running.
   */
  private _scheduleSync(delayMs = 300): void {
    if (this._syncTimer) return;
    this._syncTimer = setTimeout(() => {
      this._syncTimer = undefined;
      if (this._host && this._host.queue.size > 0) this._scheduleSync(100);
      else this._syncIndex();
    }, delayMs);
    this._syncTimer.unref?.();
  }

  /** Feeds changed documents to the drafter's global index. */
  private _syncIndex(): void {
    const host = this._host;
    const { dirty, removed } = this._docs.takeChanges();
    if (!host?.drafter) {
      if (!host) this._docs.markAllDirty();
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

  // ---- generation ----

  private _requireHost(): ModelHost {
    if (!this._host) throw new EngineError('no model is loaded (call loadModel first)', 'no-model');
    return this._host;
  }

  /** Runs one generation through the model's queue, with status, stats and history bookkeeping. */
  async generateText(req: GenerateTextRequest): Promise<DecodeResult> {
    const host = this._requireHost();
    checkInteger(req.maxTokens, 'maxTokens', 0, 1 << 20);
    checkNumber(req.temperature, 'temperature', 0, 100);
    checkNumber(req.topP, 'topP', 0, 1);
    checkInteger(req.topK, 'topK', 0, 1 << 20);
    checkInteger(req.seed, 'seed', -(2 ** 53), 2 ** 53);
    checkNumber(req.timeBudgetMs, 'timeBudgetMs', 0, 3_600_000);
    if (req.stop !== undefined && (!Array.isArray(req.stop) || req.stop.some((s) => typeof s !== 'string'))) throw new EngineError('stop must be an array of strings', 'invalid-params');
    const t0 = performance.now();
    const result = await host.queue.enqueue({
      group: req.surface,
      cancelStale: req.cancelStale === true,
      ...(req.signal ? { signal: req.signal } : {}),
      run: async (signal) => {
        if (!signal.aborted) this._events.status({ state: 'generating' });
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
    this._stats.record(req.surface, performance.now() - t0, m.firstTokenMs, m.tokens, m.steps, result.finishReason === 'cancelled');
    if (host.queue.size === 0) this._events.status({ state: 'ready', tokensPerS: m.tokensPerS, mat: m.mat });
    // Each completion goes to disk as it is learned: a crash loses at most the one being written.
    if (result.finishReason !== 'cancelled' && req.learn !== false && host.drafter) this._history?.append(result.tokens);
    return result;
  }

  private _budget(host: ModelHost, maxTokens: number, cap: number): number {
    return Math.max(16, Math.min(cap, host.checkpoint.info.maxContext - maxTokens - 8));
  }

  async complete(p: CompleteParams, signal?: AbortSignal): Promise<GenerationResult> {
    return (await this.completeDetailed(p, signal)).result;
  }

  /**
   * The inline-completion path (JSON-RPC `complete`, the `complete` CLI, the quality benchmark): token healing, the
   * FIM prompt, generation with the pipeline's stop rules (when `stopAtBlockEnd`), and the pipeline's final pass.
   */
  async completeDetailed(p: CompleteParams, signal?: AbortSignal, options: CompletionOptions = {}): Promise<CompletionOutcome> {
    const host = this._requireHost();
    const requestId = checkString(p?.requestId, 'requestId');
    const prefix = checkString(p.prefix, 'prefix');
    const suffix = checkString(p.suffix ?? '', 'suffix');
    const language = p.language ?? '';
    const maxTokens = p.maxTokens ?? 128;
    const vocabTexts = options.healing === false ? undefined : vocabularyTexts(host.tokenizer, host.checkpoint.info.vocabSize);
    const healing = vocabTexts ? planHealing(host.tokenizer, vocabTexts, prefix) : { kept: prefix, removed: '' };
    const view = healedView(healing.removed);
    // Models trained on repository-level data also see related workspace files in their multi-file format.
    const repo = p.uri && supportsRepoContext(host.tokenizer, host.fimTemplate)
      ? gatherRepoContext(p.uri, prefix, suffix, this._docs.all(), { recent: this._recentEdits.list() })
      : undefined;
    const prompt = buildFimPrompt(host.tokenizer, host.fimTemplate, healing.kept, suffix, {
      maxPromptTokens: this._budget(host, maxTokens, 2048),
      ...(repo ? { path: repo.path, repoName: repo.repoName, related: repo.related } : {}),
    });
    const pipeline = p.stopAtBlockEnd
      ? await createCompletionPipeline({ language, prefix, suffix }, {
        ...(options.disabledStages ? { disabled: options.disabledStages } : {}),
        ...(this._options.blockEndRule ? { blockEndFactory: this._options.blockEndRule } : {}),
        onWarning: (m) => this._events.log('warn', m),
      })
      : undefined;
    const r = await this.generateText({
      ...this._sampling(p), requestId, surface: 'complete', prompt, maxTokens, cancelStale: true,
      ...(pipeline ? { stopAt: view.stopAt(pipeline.stopAt) } : {}),
      ...(vocabTexts && healing.removed ? { constraint: healingConstraint(vocabTexts, healing.removed) } : {}),
      ...(signal ? { signal } : {}), onDelta: view.onDelta((d) => this._events.partial(requestId, d)),
    });
    let text = view.text(r.text);
    let stoppedBy = pipeline?.stoppedBy;
    if (pipeline && r.finishReason !== 'cancelled') ({ text, stoppedBy } = await pipeline.finish(text));
    return {
      result: { text, finishReason: r.finishReason, metrics: toMetrics(r) },
      promptIds: prompt.ids, healed: healing.removed, stopReason: stoppedBy ?? r.finishReason,
    };
  }

  async rewrite(p: RewriteParams, signal?: AbortSignal): Promise<GenerationResult> {
    const host = this._requireHost();
    const requestId = checkString(p?.requestId, 'requestId');
    const selection = checkString(p.selection, 'selection');
    const instruction = checkString(p.instruction, 'instruction');
    const selectionTokens = host.tokenizer.encode(selection);
    const maxTokens = p.maxTokens ?? Math.min(4096, Math.max(256, Math.ceil(selectionTokens.length * 1.5) + 64));
    const prompt = buildRewritePrompt(host.tokenizer, host.chatTemplate, {
      instruction, selection, language: p.language ?? '', ...(p.prefix ? { prefix: p.prefix } : {}), ...(p.suffix ? { suffix: p.suffix } : {}),
    }, { maxPromptTokens: this._budget(host, maxTokens, 6144) });
    const r = await this.generateText({
      ...this._sampling(p), requestId, surface: 'rewrite', prompt, maxTokens,
      // The selection is what the rewrite mostly copies: the main draft source.
      references: [selectionTokens], ...(signal ? { signal } : {}), onDelta: (d) => this._events.partial(requestId, d),
    });
    return { text: r.text, finishReason: r.finishReason, metrics: toMetrics(r) };
  }

  async chat(p: ChatParams, signal?: AbortSignal): Promise<GenerationResult> {
    const host = this._requireHost();
    const requestId = checkString(p?.requestId, 'requestId');
    if (!Array.isArray(p.messages) || p.messages.length === 0) throw new EngineError('messages must be a non-empty array', 'invalid-params');
    const given = Array.isArray(p.context) ? p.context : [];
    const lastUser = [...p.messages].reverse().find((m) => m.role === 'user')?.content ?? '';
    const retrieved = retrieveSnippets(
      [...this._docs.all()].map((d) => ({ uri: d.uri, text: d.text })),
      lastUser,
      { maxSnippets: 3, exclude: new Set(given.map((c) => c.uri)) },
    );
    const snippets = [...given.map((c) => ({ uri: c.uri, text: c.text, startLine: c.startLine })), ...retrieved.map((s) => ({ uri: s.uri, text: s.text, startLine: s.startLine }))];
    const contextText = snippets.map((s) => `File: ${s.uri}${s.startLine !== undefined ? ` (from line ${s.startLine + 1})` : ''}\n\`\`\`\n${s.text}\n\`\`\``).join('\n\n');
    const system = `You are a helpful coding assistant. Answer concisely; quote code in fenced blocks.${contextText ? `\n\nWorkspace context:\n\n${contextText}` : ''}`;
    const messages: PromptMessage[] = [{ role: 'system', content: system }, ...p.messages.filter((m) => m.role !== 'system' || m.content)];
    const maxTokens = p.maxTokens ?? 512;
    // Reasoning models (Qwen3) answer directly in the panel: their template writes an empty think block.
    const prompt = buildChatPrompt(host.tokenizer, host.chatTemplate, messages, { maxPromptTokens: this._budget(host, maxTokens, 6144), templateVariables: { enable_thinking: false } });
    const r = await this.generateText({
      ...this._sampling(p), requestId, surface: 'chat', prompt, maxTokens,
      references: snippets.map((s) => host.tokenizer.encode(s.text)), ...(signal ? { signal } : {}),
      onDelta: (d) => this._events.partial(requestId, d),
    });
    const citations: Citation[] = snippets.map((s) => (s.startLine !== undefined ? { uri: s.uri, startLine: s.startLine } : { uri: s.uri }));
    return { text: r.text, finishReason: r.finishReason, metrics: toMetrics(r), citations };
  }

  private _sampling(p: { temperature?: number; topP?: number; topK?: number; seed?: number; stop?: string[]; timeBudgetMs?: number }): Partial<GenerateTextRequest> {
    return {
      ...(p.temperature !== undefined ? { temperature: p.temperature } : {}),
      ...(p.topP !== undefined ? { topP: p.topP } : {}),
      ...(p.topK !== undefined ? { topK: p.topK } : {}),
      ...(p.seed !== undefined ? { seed: p.seed } : {}),
      ...(p.stop !== undefined ? { stop: p.stop } : {}),
      ...(p.timeBudgetMs !== undefined ? { timeBudgetMs: p.timeBudgetMs } : {}),
    };
  }

  /** A plain text prompt (the HTTP completions endpoint without a suffix). */
  plainPrompt(text: string): BuiltPrompt {
    const host = this._requireHost();
    return { ids: plainPromptIds(host.tokenizer, text), stopTokenIds: [], stop: [], template: 'plain' };
  }

  // ---- history ----

  recordAcceptance(p: RecordAcceptanceParams): void {
    const host = this._host;
    if (typeof p?.text !== 'string' || p.text.length === 0 || !host?.drafter) return;
    const tokens = host.tokenizer.encode(p.text);
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
    if (!drafter || !this._storageDir) return;
    this._history = new HistoryStore(this._storageDir, this._fingerprint, (m) => this._events.log('warn', m));
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

  // ---- stats and lifecycle ----

  stats(): StatsResult {
    const host = this._host;
    let indexedTokens = 0;
    for (const n of this._indexedTokens.values()) indexedTokens += n;
    return {
      version: ENGINE_VERSION,
      pid: process.pid,
      rssBytes: process.memoryUsage().rss,
      ...(host && this._modelPath ? { model: { path: this._modelPath, architecture: host.checkpoint.info.architecture, device: host.checkpoint.info.device } } : {}),
      documents: this._docs.size,
      indexedTokens,
      indexBytes: host?.drafter?.estimateBytes() ?? 0,
      historyBytes: this._history?.bytes ?? 0,
      surfaces: this._stats.snapshot(),
    };
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
