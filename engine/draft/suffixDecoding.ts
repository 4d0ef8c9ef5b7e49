// The `suffix` drafter: SuffixDecoding with a per-request suffix tree (references, then prompt plus generated
// tokens, appended token by token) and a global suffix tree (workspace documents and earlier outputs, evicted
// by bytes). Each proposal speculates in both trees and keeps the draft with the higher score.
import { DrafterBase } from './base';
import type { Draft } from './types';
import { SuffixTree } from './suffixTree';
import { decodeHistory, encodeHistory } from './history';

/** Parameters of `suffix`; every field has its default here. */
export const SUFFIX_PARAMS = {
  /** Longest root path kept in the trees (64 in ArcticInference, 24 in vLLM; at most 255). */
  maxDepth: 64,
  /** Budget factor: floor(alpha * matchLen + offset) tokens at most (alpha = 1 in the paper). */
  alpha: 1,
  /** Budget offset, see alpha. */
  offset: 0,
  /** Nodes whose path probability falls below this are pruned (0.1 in SuffixDecoding). */
  minTokenProb: 0.1,
  /** Byte budget of the global tree (documents and earlier outputs); oldest outputs go first. */
  maxGlobalBytes: 256 * 1024 * 1024,
  /** Byte budget of exportHistory(). */
  maxHistoryBytes: 16 * 1024 * 1024,
};
export type SuffixDecodingParams = typeof SUFFIX_PARAMS;

interface RequestState {
  tree: SuffixTree;
  context: number[];
}

const CONTEXT_SEQ = 0;

export class SuffixDecodingDrafter extends DrafterBase<RequestState> {
  readonly name = 'suffix';
  private readonly _opts: SuffixDecodingParams;
  private readonly _global: SuffixTree;
  private readonly _docs = new Map<string, number>();
  private readonly _history: number[] = [];
  private _nextSeq = 1;

  constructor(params: Partial<SuffixDecodingParams> = {}) {
    super();
    this._opts = { ...SUFFIX_PARAMS, ...params };
    this._global = new SuffixTree({ maxDepth: this._opts.maxDepth, maxBytes: this._opts.maxGlobalBytes });
  }

  protected open(_requestId: string, prompt: readonly number[], references: readonly (readonly number[])[]): RequestState {
    const tree = new SuffixTree({ maxDepth: this._opts.maxDepth });
    references.forEach((ref, i) => {
      tree.append(i + 1, ref);
      tree.seal(i + 1);
    });
    tree.append(CONTEXT_SEQ, prompt);
    return { tree, context: prompt.slice() };
  }

  protected append(st: RequestState, tokens: readonly number[]): void {
    st.tree.append(CONTEXT_SEQ, tokens);
    for (const t of tokens) st.context.push(t);
  }

  protected draft(st: RequestState, budget: number): Draft {
    const ctx = st.context.length > this._opts.maxDepth ? st.context.slice(st.context.length - this._opts.maxDepth) : st.context;
    const spec = { maxTokens: budget, alpha: this._opts.alpha, offset: this._opts.offset, minTokenProb: this._opts.minTokenProb };
    const local = st.tree.speculate(ctx, spec);
    const global = this._global.speculate(ctx, spec);
    const best = global.score > local.score ? global : local;
    return { ...best, sources: best.tokens.map(() => 'suffix') };
  }

  protected override learn(output: readonly number[]): void {
    this._addHistory(output);
  }

  override setDocument(docId: string, tokens: readonly number[]): void {
    this.removeDocument(docId);
    const id = this._nextSeq++;
    this._global.append(id, tokens);
    this._global.seal(id);
    this._docs.set(docId, id);
    this._evict();
  }

  override removeDocument(docId: string): void {
    const id = this._docs.get(docId);
    if (id === undefined) return;
    this._global.remove(id);
    this._docs.delete(docId);
  }

  override clearHistory(): void {
    for (const id of this._history) this._global.remove(id);
    this._history.length = 0;
  }

  override exportHistory(): Uint8Array {
    return encodeHistory(this._history.map((id) => this._global.sequence(id)), this._opts.maxHistoryBytes);
  }

  override importHistory(data: Uint8Array): void {
    for (const seq of decodeHistory(data, 'suffix')) this._addHistory(seq);
  }

  override estimateBytes(): number {
    let bytes = this._global.estimateBytes();
    for (const st of this.liveRequests()) bytes += st.tree.estimateBytes() + st.context.length * 8;
    return bytes;
  }

  private _addHistory(tokens: readonly number[]): void {
    const id = this._nextSeq++;
    this._global.append(id, tokens);
    this._global.seal(id);
    this._history.push(id);
    this._evict();
  }

  /** Evicts the oldest outputs first; documents stay while outputs remain. */
  private _evict(): void {
    if (this._global.estimateBytes() <= this._global.maxBytes) return;
    const docIds = new Set(this._docs.values());
    let removed = this._global.evict((id) => docIds.has(id));
    if (this._global.estimateBytes() > this._global.maxBytes) removed = removed.concat(this._global.evict());
    if (removed.length === 0) return;
    const gone = new Set(removed);
    const kept = this._history.filter((id) => !gone.has(id));
    this._history.length = 0;
    this._history.push(...kept);
    for (const [doc, id] of [...this._docs]) if (gone.has(id)) this._docs.delete(doc);
  }
}
