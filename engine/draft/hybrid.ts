// The product default drafter. Every step it gathers many candidate continuations (each occurrence of the
// context's end in the request's own text, its references, the workspace documents and earlier outputs, plus
// the drafts of any extra drafters), merges them into one trie (shared prefixes once) and keeps the nodes with
// the highest estimated acceptance probability within the token budget. A node's estimate is the share of
// candidate weight that passes through it times a per-token survival rate learned online from what the
// verifier accepted; a candidate's weight grows exponentially with its match length.
import type { Draft, Drafter } from './types';
import { TokenIndex, type Occurrence } from './tokenIndex';
import { decodeHistory, encodeHistory } from './history';

export interface HybridOptions {
  /** Byte budget of the global index (documents plus earlier outputs); oldest outputs go first. */
  maxIndexBytes?: number;
  /** Byte budget of exportHistory(). */
  maxHistoryBytes?: number;
  /** Candidate weight = exp(matchWeight * min(matchLen, maxMatch)). */
  matchWeight?: number;
  /** Longest match that still adds weight. */
  maxMatch?: number;
  /** Occurrences taken per index and step. */
  maxCandidates?: number;
  /** Propose the prompt text near the rewrite's alignment after novel output (default false: no gain measured). */
  resync?: boolean;
  /** Extra drafters whose drafts join the candidates (they receive every call too). */
  extra?: Drafter[];
}

interface RequestState {
  index: TokenIndex;
  /** Arena position where the prompt starts (the context is the index's open sequence). */
  promptStart: number;
  promptLength: number;
  generated: number;
  last: Draft | null;
  /** Where the output last copied the prompt from (continuation start), or -1: the rewrite's alignment. */
  aligned: number;
}

const CONTEXT = '\u0000context';
const MAX_TRIE = 1024;
/** A match this long inside the prompt counts as the output copying it. */
const RESYNC_MATCH = 4;

export class HybridDrafter implements Drafter {
  readonly name = 'hybrid';
  private readonly _global = new TokenIndex();
  private readonly _requests = new Map<string, RequestState>();
  private readonly _history: string[] = [];
  private _historyCounter = 0;
  private readonly _maxIndexBytes: number;
  private readonly _maxHistoryBytes: number;
  private readonly _matchWeight: number;
  private readonly _maxMatch: number;
  private readonly _maxCandidates: number;
  private readonly _extra: Drafter[];
  private readonly _resyncOn: boolean;
  // Survival statistics: accepted draft tokens and rejections observed (with a weak prior).
  private _accepted = 8;
  private _rejected = 1;
  // Trie scratch space, reused across proposals.
  private readonly _tTok = new Int32Array(MAX_TRIE);
  private readonly _tChild = new Int32Array(MAX_TRIE);
  private readonly _tNext = new Int32Array(MAX_TRIE);
  private readonly _tDepth = new Int32Array(MAX_TRIE);
  private readonly _tWeight = new Float64Array(MAX_TRIE);
  private readonly _tSource = new Uint8Array(MAX_TRIE);

  constructor(options: HybridOptions = {}) {
    this._maxIndexBytes = options.maxIndexBytes ?? 256 * 1024 * 1024;
    this._maxHistoryBytes = options.maxHistoryBytes ?? 16 * 1024 * 1024;
    this._matchWeight = options.matchWeight ?? 0.7;
    this._maxMatch = options.maxMatch ?? 32;
    this._maxCandidates = options.maxCandidates ?? 24;
    this._extra = options.extra ?? [];
    this._resyncOn = options.resync ?? false;
  }

  begin(requestId: string, prompt: readonly number[], references: readonly (readonly number[])[] = []): void {
    const index = new TokenIndex();
    references.forEach((ref, i) => index.add(`ref${i}`, ref));
    const promptStart = index.length;
    index.append(CONTEXT, prompt);
    this._requests.set(requestId, { index, promptStart, promptLength: prompt.length, generated: 0, last: null, aligned: promptStart });
    for (const d of this._extra) d.begin(requestId, prompt, references);
  }

  observe(requestId: string, tokens: readonly number[]): void {
    const st = this._request(requestId);
    if (st.last) this._learn(st.last, tokens);
    st.last = null;
    st.index.append(CONTEXT, tokens);
    st.generated += tokens.length;
    for (const d of this._extra) d.observe(requestId, tokens);
  }

  propose(requestId: string, maxTokens: number): Draft {
    const st = this._request(requestId);
    const budget = Math.min(Math.max(0, Math.floor(maxTokens)), MAX_TRIE - 1);
    const draft: Draft = { tokens: [], parents: [], probs: [], score: 0, matchLen: 0, sources: [] };
    if (budget === 0) return draft;
    const ctx = st.index.arena;
    const end = st.index.length;
    const q = { maxMatch: 64, maxResults: this._maxCandidates, maxVisit: 2 * this._maxCandidates };
    const local = st.index.query(ctx, end, { ...q, skip: end - 1 });
    const global = this._global.query(ctx, end, q);
    this._trieReset();
    let bestMatch = 0;
    const add = (arena: Int32Array, arenaEnd: number, occ: Occurrence[], source: number): void => {
      for (const o of occ) {
        bestMatch = Math.max(bestMatch, o.matchLen);
        this._trieInsert(arena, o.pos + 1, arenaEnd, budget, Math.exp(this._matchWeight * Math.min(o.matchLen, this._maxMatch)), source);
      }
    };
    add(ctx, end, local, 1);
    add(this._global.arena, this._global.length, global, 2);
    if (this._resyncOn) this._resync(st, local, budget);
    else if (st.generated === 0 && st.promptLength > 0) this._trieInsert(ctx, st.promptStart, end, budget, Math.exp(this._matchWeight * 2), 3);
    for (const d of this._extra) this._insertDraft(d.propose(requestId, budget), d.name === 'sam' ? 4 : d.name === 'llma' ? 5 : 6);
    draft.matchLen = bestMatch;
    this._select(budget, draft);
    st.last = draft;
    return draft;
  }

  end(requestId: string, output?: readonly number[]): void {
    this._requests.delete(requestId);
    for (const d of this._extra) d.end(requestId, output);
    if (output && output.length > 0) {
      const id = `out${this._historyCounter++}`;
      this._global.add(id, output);
      this._history.push(id);
      this._evict();
    }
  }

  setDocument(docId: string, tokens: readonly number[]): void {
    this._global.add(`doc:${docId}`, tokens);
    this._evict();
    for (const d of this._extra) d.setDocument(docId, tokens);
  }

  removeDocument(docId: string): void {
    this._global.remove(`doc:${docId}`);
    for (const d of this._extra) d.removeDocument(docId);
  }

  clearHistory(): void {
    for (const id of this._history) this._global.remove(id);
    this._history.length = 0;
    for (const d of this._extra) d.clearHistory();
  }

  exportHistory(): Uint8Array {
    return encodeHistory(this._history.map((id) => this._global.sequence(id)), this._maxHistoryBytes);
  }

  importHistory(data: Uint8Array): void {
    for (const seq of decodeHistory(data, 'hybrid')) {
      const id = `out${this._historyCounter++}`;
      this._global.add(id, seq);
      this._history.push(id);
    }
    this._evict();
  }

  estimateBytes(): number {
    let bytes = this._global.estimateBytes();
    for (const st of this._requests.values()) bytes += st.index.estimateBytes();
    for (const d of this._extra) bytes += d.estimateBytes();
    return bytes;
  }

  /** Per-token survival rate of the drafted path, learned from accepted lengths. */
  get survival(): number {
    return this._accepted / (this._accepted + this._rejected);
  }

  private _request(requestId: string): RequestState {
    const st = this._requests.get(requestId);
    if (!st) throw new Error(`hybrid: unknown request '${requestId}' (call begin first)`);
    return st;
  }

  private _evict(): void {
    const dropped = new Set(this._global.evict(this._maxIndexBytes, (id) => id.startsWith('doc:')));
    if (dropped.size > 0) {
      const kept = this._history.filter((id) => !dropped.has(id));
      this._history.length = 0;
      this._history.push(...kept);
    }
  }

  /**
   * A rewrite copies its input in order. Long matches inside the prompt move the alignment forward; after novel
   * text (no long match) the output usually resumes near the alignment, so the text right at it and the
   * nearest later spots that follow the context's last token become candidates.
   */
  private _resync(st: RequestState, local: Occurrence[], budget: number): void {
    const lo = st.promptStart;
    const hi = st.promptStart + st.promptLength;
    let best = 0;
    for (const o of local) {
      if (o.pos >= lo && o.pos < hi && o.matchLen >= RESYNC_MATCH && o.matchLen > best) {
        best = o.matchLen;
        st.aligned = o.pos + 1;
      }
    }
    if (best > 0 || st.aligned < lo || st.aligned >= hi) return;
    const arena = st.index.arena;
    const weight = Math.exp(this._matchWeight * (RESYNC_MATCH - 1));
    this._trieInsert(arena, st.aligned, st.index.length, budget, weight, 3);
    const last = arena[st.index.length - 1];
    let found = 0;
    for (let p = st.aligned; p < hi - 1 && found < 4; p++) {
      if (arena[p] !== last) continue;
      this._trieInsert(arena, p + 1, st.index.length, budget, weight / (found + 1), 3);
      found++;
    }
  }

  /** Updates the survival statistics: how far the verifier followed the last draft, and whether it stopped early. */
  private _learn(draft: Draft, tokens: readonly number[]): void {
    let node = -1;
    let a = 0;
    for (; a < tokens.length; a++) {
      let next = -1;
      for (let j = node + 1; j < draft.tokens.length; j++) {
        if (draft.parents[j] === node && draft.tokens[j] === tokens[a]) {
          next = j;
          break;
        }
      }
      if (next < 0) break;
      node = next;
    }
    this._accepted += a;
    // A rejection happened when the accepted node still had drafted children (or the root had any).
    for (let j = node + 1; j < draft.tokens.length; j++) {
      if (draft.parents[j] === node) {
        this._rejected++;
        break;
      }
    }
  }

  // ---- trie of candidate continuations ----
  private _trieSize = 1;

  private _trieReset(): void {
    this._trieSize = 1;
    this._tChild[0] = -1;
    this._tNext[0] = -1;
    this._tDepth[0] = 0;
    this._tWeight[0] = 0;
  }

  private _childOf(node: number, token: number, source: number): number {
    let c = this._tChild[node]!;
    while (c !== -1 && this._tTok[c] !== token) c = this._tNext[c]!;
    if (c !== -1 || this._trieSize >= MAX_TRIE) return c;
    c = this._trieSize++;
    this._tTok[c] = token;
    this._tChild[c] = -1;
    this._tNext[c] = this._tChild[node]!;
    this._tChild[node] = c;
    this._tDepth[c] = this._tDepth[node]! + 1;
    this._tWeight[c] = 0;
    this._tSource[c] = source;
    return c;
  }

  private _trieInsert(arena: Int32Array, from: number, end: number, budget: number, weight: number, source: number): void {
    let node = 0;
    this._tWeight[0] += weight;
    const stop = Math.min(end, from + budget);
    for (let k = from; k < stop; k++) {
      const t = arena[k]!;
      if (t < 0) break;
      const c = this._childOf(node, t, source);
      if (c < 0) break;
      this._tWeight[c] += weight;
      node = c;
    }
  }

  /** Adds another drafter's tree, each node weighted by its own probability. */
  private _insertDraft(d: Draft, source: number): void {
    if (d.tokens.length === 0) return;
    const weight = Math.exp(this._matchWeight * Math.min(d.matchLen, this._maxMatch));
    const map = new Int32Array(d.tokens.length);
    this._tWeight[0] += weight;
    for (let j = 0; j < d.tokens.length; j++) {
      const p = d.parents[j]!;
      const parent = p < 0 ? 0 : map[p]!;
      const c = parent < 0 ? -1 : this._childOf(parent, d.tokens[j]!, source);
      map[j] = c;
      if (c >= 0) this._tWeight[c] += weight * Math.min(1, Math.max(0, d.probs[j] ?? 0));
    }
  }

  private static readonly _SOURCES = ['', 'context', 'global', 'alignment', 'sam', 'llma', 'extra'];

  /** Best-first selection of trie nodes by estimated acceptance probability (a parent always outranks its child). */
  private _select(budget: number, draft: Draft): void {
    const total = this._tWeight[0]!;
    if (total <= 0) return;
    const rho = this.survival;
    const heapNode: number[] = [];
    const heapParent: number[] = [];
    const heapProb: number[] = [];
    const push = (node: number, parent: number): void => {
      const prob = (this._tWeight[node]! / total) * rho ** this._tDepth[node]!;
      let i = heapProb.length;
      heapNode.push(node);
      heapParent.push(parent);
      heapProb.push(prob);
      while (i > 0) {
        const up = (i - 1) >> 1;
        if (heapProb[up]! >= prob) break;
        [heapNode[i], heapNode[up]] = [heapNode[up]!, heapNode[i]!];
        [heapParent[i], heapParent[up]] = [heapParent[up]!, heapParent[i]!];
        [heapProb[i], heapProb[up]] = [heapProb[up]!, heapProb[i]!];
        i = up;
      }
    };
    const pop = (): [number, number, number] => {
      const top: [number, number, number] = [heapNode[0]!, heapParent[0]!, heapProb[0]!];
      const n = heapProb.length - 1;
      heapNode[0] = heapNode[n]!;
      heapParent[0] = heapParent[n]!;
      heapProb[0] = heapProb[n]!;
      heapNode.pop();
      heapParent.pop();
      heapProb.pop();
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < n && heapProb[l]! > heapProb[m]!) m = l;
        if (r < n && heapProb[r]! > heapProb[m]!) m = r;
        if (m === i) break;
        [heapNode[i], heapNode[m]] = [heapNode[m]!, heapNode[i]!];
        [heapParent[i], heapParent[m]] = [heapParent[m]!, heapParent[i]!];
        [heapProb[i], heapProb[m]] = [heapProb[m]!, heapProb[i]!];
        i = m;
      }
      return top;
    };
    for (let c = this._tChild[0]!; c !== -1; c = this._tNext[c]!) push(c, -1);
    while (draft.tokens.length < budget && heapProb.length > 0) {
      const [node, parent, prob] = pop();
      const idx = draft.tokens.length;
      draft.tokens.push(this._tTok[node]!);
      draft.parents.push(parent);
      draft.probs.push(prob);
      draft.sources!.push(HybridDrafter._SOURCES[this._tSource[node]!] ?? 'extra');
      draft.score += prob;
      for (let c = this._tChild[node]!; c !== -1; c = this._tNext[c]!) push(c, idx);
    }
  }
}
