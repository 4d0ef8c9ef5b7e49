// The `suffix` drafter: SuffixDecoding with a per-request suffix tree (references, then prompt plus generated
// tokens, appended token by token) and a global suffix tree (workspace documents and earlier outputs, evicted
// by bytes). Each proposal speculates in both trees and keeps the draft with the higher score.
import type { Draft, Drafter } from './types';
import { SuffixTree } from './suffixTree';
import { decodeHistory, encodeHistory } from './history';

export interface SuffixDecodingOptions {
  maxDepth?: number;
  /** Budget factor: floor(alpha * matchLen + offset) tokens at most (alpha = 1 in the paper). */
  alpha?: number;
  offset?: number;
  minTokenProb?: number;
  /** Byte budget of the global tree. */
  maxGlobalBytes?: number;
  /** Byte budget of exportHistory(). */
  maxHistoryBytes?: number;
}

interface RequestState {
  tree: SuffixTree;
  context: number[];
}

const CONTEXT_SEQ = 0;

export class SuffixDecodingDrafter implements Drafter {
  readonly name = 'suffix';
  private readonly _opts: Required<SuffixDecodingOptions>;
  private readonly _global: SuffixTree;
  private readonly _requests = new Map<string, RequestState>();
  private readonly _docs = new Map<string, number>();
  private readonly _history: number[] = [];
  private _nextSeq = 1;

  constructor(options: SuffixDecodingOptions = {}) {
    this._opts = {
      maxDepth: options.maxDepth ?? 64,
      alpha: options.alpha ?? 1,
      offset: options.offset ?? 0,
      minTokenProb: options.minTokenProb ?? 0.1,
      maxGlobalBytes: options.maxGlobalBytes ?? 256 * 1024 * 1024,
      maxHistoryBytes: options.maxHistoryBytes ?? 16 * 1024 * 1024,
    };
    this._global = new SuffixTree({ maxDepth: this._opts.maxDepth, maxBytes: this._opts.maxGlobalBytes });
  }

  begin(requestId: string, prompt: readonly number[], references: readonly (readonly number[])[] = []): void {
    const tree = new SuffixTree({ maxDepth: this._opts.maxDepth });
    references.forEach((ref, i) => {
      tree.append(i + 1, ref);
      tree.seal(i + 1);
    });
    tree.append(CONTEXT_SEQ, prompt);
    this._requests.set(requestId, { tree, context: prompt.slice() });
  }

  observe(requestId: string, tokens: readonly number[]): void {
    const st = this._request(requestId);
    st.tree.append(CONTEXT_SEQ, tokens);
    for (const t of tokens) st.context.push(t);
  }

  propose(requestId: string, maxTokens: number): Draft {
    const st = this._request(requestId);
    const ctx = st.context.length > this._opts.maxDepth ? st.context.slice(st.context.length - this._opts.maxDepth) : st.context;
    const spec = { maxTokens: Math.max(0, Math.floor(maxTokens)), alpha: this._opts.alpha, offset: this._opts.offset, minTokenProb: this._opts.minTokenProb };
    const local = st.tree.speculate(ctx, spec);
    const global = this._global.speculate(ctx, spec);
    const best = global.score > local.score ? global : local;
    return { ...best, sources: best.tokens.map(() => 'suffix') };
  }

  end(requestId: string, output?: readonly number[]): void {
    this._requests.delete(requestId);
    if (output && output.length > 0) this._addHistory(output);
  }

  setDocument(docId: string, tokens: readonly number[]): void {
    this.removeDocument(docId);
    const id = this._nextSeq++;
    this._global.append(id, tokens);
    this._global.seal(id);
    this._docs.set(docId, id);
    this._evict();
  }

  removeDocument(docId: string): void {
    const id = this._docs.get(docId);
    if (id === undefined) return;
    this._global.remove(id);
    this._docs.delete(docId);
  }

  clearHistory(): void {
    for (const id of this._history) this._global.remove(id);
    this._history.length = 0;
  }

  exportHistory(): Uint8Array {
    return encodeHistory(this._history.map((id) => this._global.sequence(id)), this._opts.maxHistoryBytes);
  }

  importHistory(data: Uint8Array): void {
    for (const seq of decodeHistory(data, 'suffix')) this._addHistory(seq);
  }

  estimateBytes(): number {
    let bytes = this._global.estimateBytes();
    for (const st of this._requests.values()) bytes += st.tree.estimateBytes() + st.context.length * 8;
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

  private _request(requestId: string): RequestState {
    const st = this._requests.get(requestId);
    if (!st) throw new Error(`suffix: unknown request '${requestId}' (call begin first)`);
    return st;
  }
}
