// The JSON-RPC protocol between the VS Code extension and the engine process (vscode-jsonrpc over stdio).
// Pure types and message names only: both sides import this file.
import { NotificationType, RequestType, RequestType0 } from 'vscode-jsonrpc';

export const PROTOCOL_VERSION = 1;

export interface InitializeParams {
  clientName: string;
  clientVersion: string;
  /** Folder where the engine persists its global history (past completions). */
  storageDir?: string;
  /** Byte budget for the global index (documents plus history). */
  indexBudgetBytes?: number;
  /** presage.index.secretPatterns: extra secret file patterns (gitignore syntax) the engine refuses too. */
  secretPatterns?: string[];
}
export interface InitializeResult {
  version: string;
  protocolVersion: number;
  pid: number;
  capabilities: { methods: string[]; devices: string[]; drafters: string[] };
}

/** Where the model runs: 'auto' picks the first that works of cuda, webgpu, cpu. */
export const DEVICES = ['auto', 'cpu', 'webgpu', 'cuda'] as const;
export type Device = (typeof DEVICES)[number];
/** The device a loaded model actually runs on. */
export type ExecutionDevice = Exclude<Device, 'auto'>;

export interface LoadModelParams {
  /** A local checkpoint folder in Hugging Face layout. */
  model: string;
  device?: Device;
  quantization?: 'none' | 'int8' | 'int4';
  cacheDir?: string;
}
export interface LoadModelResult {
  model: string;
  architecture: string;
  device: ExecutionDevice;
  /** The GPU adapter's name when a GPU runs the model (e.g. "NVIDIA GeForce RTX 4070", "llvmpipe"). */
  adapter?: string;
  vocabSize: number;
  maxContext: number;
  /** Name of the FIM template chosen for this model (qwen, deepseek, starcoder, codellama, generic). */
  fimTemplate: string;
  loadMs: number;
  warnings: string[];
}
export interface LoadProgressParams {
  stage: string;
  fraction: number;
  message?: string;
}

export interface DocumentParams {
  uri: string;
  languageId?: string;
}
export interface OpenDocumentParams extends DocumentParams {
  version: number;
  text: string;
  /** 'editor' for an open editor, 'workspace' for a file indexed in the background. */
  source: 'editor' | 'workspace';
}
export interface TextChange {
  /** Offset (UTF-16 code units) and length of the replaced range in the previous version. */
  rangeOffset: number;
  rangeLength: number;
  text: string;
}
export interface ChangeDocumentParams extends DocumentParams {
  version: number;
  changes: TextChange[];
}

export interface GenerationMetrics {
  steps: number;
  tokens: number;
  /** Mean accepted tokens per step (tokens / steps). */
  mat: number;
  tokensPerS: number;
  draftMs: number;
  verifyMs: number;
  totalMs: number;
  firstTokenMs: number;
  acceptedByDrafter: Record<string, number>;
}
export type FinishReason = 'stop' | 'length' | 'eos' | 'block_end' | 'time_budget' | 'cancelled';

interface GenerationParamsBase {
  /** Client-chosen id; partial results are sent as `presage/partial` notifications carrying it. */
  requestId: string;
  maxTokens?: number;
  temperature?: number;
  topP?: number;
  topK?: number;
  seed?: number;
  stop?: string[];
  timeBudgetMs?: number;
}
export interface CompleteParams extends GenerationParamsBase {
  uri?: string;
  language: string;
  prefix: string;
  suffix: string;
  /** Stop at the end of the enclosing block or statement (tree-sitter). */
  stopAtBlockEnd?: boolean;
}
export interface RewriteParams extends GenerationParamsBase {
  uri?: string;
  language: string;
  instruction: string;
  /** The selected text: also the main draft source. */
  selection: string;
  prefix?: string;
  suffix?: string;
}
export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}
export interface ContextSnippet {
  uri: string;
  text: string;
  startLine?: number;
}
export interface ChatParams extends GenerationParamsBase {
  messages: ChatMessage[];
  context?: ContextSnippet[];
}
export interface Citation {
  uri: string;
  startLine?: number;
}
export interface GenerationResult {
  text: string;
  finishReason: FinishReason;
  metrics: GenerationMetrics;
  /** Chat only: the workspace files the answer drew on. */
  citations?: Citation[];
}
export interface PartialResultParams {
  requestId: string;
  /** Text appended since the previous partial result. */
  delta: string;
}

export interface RecordAcceptanceParams {
  uri?: string;
  language?: string;
  text: string;
}

export interface SurfaceStats {
  requests: number;
  cancelled: number;
  mat: number;
  tokensPerS: number;
  latencyMsP50: number;
  latencyMsP95: number;
  firstTokenMsP50: number;
}
export interface StatsResult {
  version: string;
  pid: number;
  rssBytes: number;
  model?: { path: string; architecture: string; device: string };
  documents: number;
  indexedTokens: number;
  indexBytes: number;
  historyBytes: number;
  surfaces: Record<'complete' | 'rewrite' | 'chat', SurfaceStats>;
}
export interface IndexedDocumentsResult {
  uris: string[];
}

export type EngineState = 'starting' | 'loading' | 'ready' | 'generating' | 'error' | 'no-model';
export interface StatusParams {
  state: EngineState;
  message?: string;
  tokensPerS?: number;
  mat?: number;
  /** Which back end serves the surfaces, and (remote) the last health check's round trip. */
  backend?: BackendKind;
  latencyMs?: number;
}

/** Who generates: the model loaded in this engine, or an OpenAI-compatible server (`presage serve`, vLLM). */
export type BackendKind = 'local' | 'remote';
/**
 * `configureBackend`: the documents index and retrieval stay in this engine either way; with `remote` only the
 * prompt travels. The token comes over this pipe and is kept in memory only.
 */
export interface ConfigureBackendParams {
  backend: BackendKind;
  /** The server's OpenAI base URL, e.g. http://gpu-box:8080/v1. */
  url?: string;
  /** The model name the server knows (empty: the first of /v1/models). */
  model?: string;
  token?: string;
  /** A request with no byte from the server for this long fails as a timeout (default 30 000). */
  timeoutMs?: number;
  /** Serve from the local model (when one is loaded) while the remote is unreachable. */
  fallbackToLocal?: boolean;
}
export interface BackendHealth {
  backend: BackendKind;
  ok: boolean;
  /** Round trip of GET /models (remote). */
  latencyMs?: number;
  model?: string;
  url?: string;
  /** Why the back end cannot serve, in words a user can act on. */
  error?: string;
}

export const Initialize = new RequestType<InitializeParams, InitializeResult, void>('initialize');
export const LoadModel = new RequestType<LoadModelParams, LoadModelResult, void>('loadModel');
export const OpenDocument = new NotificationType<OpenDocumentParams>('openDocument');
export const ChangeDocument = new NotificationType<ChangeDocumentParams>('changeDocument');
export const CloseDocument = new NotificationType<DocumentParams>('closeDocument');
export const RemoveDocument = new NotificationType<DocumentParams>('removeDocument');
export const Complete = new RequestType<CompleteParams, GenerationResult, void>('complete');
export const Rewrite = new RequestType<RewriteParams, GenerationResult, void>('rewrite');
export const Chat = new RequestType<ChatParams, GenerationResult, void>('chat');
export const RecordAcceptance = new NotificationType<RecordAcceptanceParams>('recordAcceptance');
export const ClearHistory = new RequestType0<void, void>('clearHistory');
export const Stats = new RequestType0<StatsResult, void>('stats');
export const IndexedDocuments = new RequestType0<IndexedDocumentsResult, void>('indexedDocuments');
export const Shutdown = new RequestType0<void, void>('shutdown');
export const ConfigureBackend = new RequestType<ConfigureBackendParams, BackendHealth, void>('configureBackend');
export const CheckBackend = new RequestType0<BackendHealth, void>('checkBackend');

export const LoadProgress = new NotificationType<LoadProgressParams>('presage/loadProgress');
export const PartialResult = new NotificationType<PartialResultParams>('presage/partial');
export const Status = new NotificationType<StatusParams>('presage/status');
export const Log = new NotificationType<{ level: 'info' | 'warn' | 'error'; message: string }>('presage/log');
