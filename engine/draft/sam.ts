// SAM-Decoding (arXiv 2411.10666): suffix automata find the longest suffix of the context that occurs in
// the indexed text, and the tokens that followed it become the draft.
//
// - A dynamic automaton per request over its prompt and generation, extended token by token (O(1)
//   amortized). The match is the longest suffix that occurred *before* the newest token, kept up to date as
//   tokens arrive; the draft copies from its earliest occurrence (for an edit, the original text in the
//   prompt) with the adaptive length n = min(maxTokens, 1 + floor(4 * matchLen)). Occurrence counts are
//   maintained by append (bounded suffix-link walk), and give the alternatives where continuations differ.
// - An automaton per request over its references (other files around the cursor), built once at begin with
//   occurrence counts, so that the prompt's own earliest occurrence is never shadowed by another file's.
// - A static automaton over workspace documents and past outputs, appended online; see StaticCorpus for
//   edits, removal and eviction. Occurrence counts are recomputed in O(n) after appends (at end(), or lazily
//   at the next use), and the draft is a small best-first tree over the top continuations by count.
// - All candidates merge into one tree, nodes ranked by estimated acceptance probability; a longer match
//   gives its chain a higher confidence, so the longer match wins as in the paper.
//
// States and transitions live in typed arrays: per state (len, link, firstPos, firstEdge, count), per edge
// (from, token, target, next) and an open-addressing hash table keyed by (state, token).
import { checkTokens, draftBudget, MAX_TOKEN_ID } from './pld';
import type { Draft, Drafter } from './types';

/** Token that separates concatenated documents; never matched, never drafted. */
const SEPARATOR = MAX_TOKEN_ID + 1;

function growInt32(a: Int32Array<ArrayBuffer>, min: number): Int32Array<ArrayBuffer> {
  let size = a.length;
  while (size < min) size *= 2;
  if (size === a.length) return a;
  const b = new Int32Array(size);
  b.set(a);
  return b;
}

export class SuffixAutomaton {
  /** Indexed text (tokens and separators). */
  text = new Int32Array(64);
  textLength = 0;
  private _len = new Int32Array(64);
  private _link = new Int32Array(64);
  /** End position (in text) of the earliest occurrence of the state's strings. */
  private _firstPos = new Int32Array(64);
  private _firstEdge = new Int32Array(64);
  /** |endpos|, valid when countsFresh (kept up to date by append while the suffix-link walk stays short). */
  private _count = new Int32Array(64);
  private _isClone = new Uint8Array(64);
  private _states = 0;
  private _last = 0;
  private _edgeFrom = new Int32Array(64);
  private _edgeToken = new Int32Array(64);
  private _edgeTarget = new Int32Array(64);
  private _edgeNext = new Int32Array(64);
  private _edges = 0;
  /** Slots hold edge index + 1 (0 = empty). */
  private _table = new Int32Array(256);
  private _mask = 255;
  private _countsFresh = true;

  /**
   * @param countWalkLimit when positive, append adds 1 to the count of every state on the new state's
   *   suffix-link chain while that chain has at most this many states (so the update stays O(1)); a longer
   *   chain leaves the counts stale until computeCounts(). When 0 (bulk indexing), counts are only computed
   *   by computeCounts(), in O(n).
   */
  constructor(private readonly _countWalkLimit = 0) {
    this._newState(0, -1, -1, 0);
    this._link[0] = -1;
  }

  get stateCount(): number {
    return this._states;
  }

  get countsFresh(): boolean {
    return this._countsFresh;
  }

  length(state: number): number {
    return this._len[state]!;
  }

  link(state: number): number {
    return this._link[state]!;
  }

  firstPos(state: number): number {
    return this._firstPos[state]!;
  }

  count(state: number): number {
    if (!this._countsFresh) this.computeCounts();
    return this._count[state]!;
  }

  /** Target of the transition (state, token), or -1. */
  next(state: number, token: number): number {
    const e = this._findEdge(state, token);
    return e < 0 ? -1 : this._edgeTarget[e]!;
  }

  /** Calls visit(token, target) for every transition out of state (separators included). */
  forEachEdge(state: number, visit: (token: number, target: number) => void): void {
    for (let e = this._firstEdge[state]!; e >= 0; e = this._edgeNext[e]!) visit(this._edgeToken[e]!, this._edgeTarget[e]!);
  }

  appendSeparator(): void {
    this.append(SEPARATOR);
  }

  /** Extends the automaton by one token (the classic online construction). */
  append(token: number): void {
    const pos = this.textLength;
    this.text = growInt32(this.text, pos + 1);
    this.text[pos] = token;
    this.textLength = pos + 1;
    const cur = this._newState(this._len[this._last]! + 1, -1, pos, 0);
    let p = this._last;
    while (p !== -1 && this._findEdge(p, token) < 0) {
      this._addEdge(p, token, cur);
      p = this._link[p]!;
    }
    if (p === -1) {
      this._link[cur] = 0;
    } else {
      const q = this.next(p, token);
      if (this._len[p]! + 1 === this._len[q]!) {
        this._link[cur] = q;
      } else {
        const clone = this._newState(this._len[p]! + 1, this._link[q]!, this._firstPos[q]!, 1);
        this._count[clone] = this._count[q]!;
        for (let e = this._firstEdge[q]!; e >= 0; e = this._edgeNext[e]!) this._addEdge(clone, this._edgeToken[e]!, this._edgeTarget[e]!);
        while (p !== -1) {
          const e = this._findEdge(p, token);
          if (e < 0 || this._edgeTarget[e] !== q) break;
          this._edgeTarget[e] = clone;
          p = this._link[p]!;
        }
        this._link[q] = clone;
        this._link[cur] = clone;
      }
    }
    this._last = cur;
    if (this._countsFresh) this._countNewEnd(cur);
  }

  /** Every state on cur's suffix-link chain gains the new end position, unless the chain is too long. */
  private _countNewEnd(cur: number): void {
    let chain = 0;
    for (let v = cur; v !== -1; v = this._link[v]!) {
      if (++chain > this._countWalkLimit) {
        this._countsFresh = false;
        return;
      }
      this._count[v]!++;
    }
  }

  /** |endpos| of every state: 1 per position state, summed up the suffix links in decreasing length. */
  computeCounts(): void {
    const n = this._states;
    let maxLen = 0;
    for (let v = 0; v < n; v++) if (this._len[v]! > maxLen) maxLen = this._len[v]!;
    const bucket = new Int32Array(maxLen + 2);
    for (let v = 0; v < n; v++) bucket[this._len[v]! + 1]!++;
    for (let l = 1; l < bucket.length; l++) bucket[l]! += bucket[l - 1]!;
    const order = new Int32Array(n);
    for (let v = 0; v < n; v++) order[bucket[this._len[v]!]!++] = v;
    for (let v = 0; v < n; v++) this._count[v] = this._isClone[v] || v === 0 ? 0 : 1;
    for (let i = n - 1; i > 0; i--) {
      const v = order[i]!;
      this._count[this._link[v]!]! += this._count[v]!;
    }
    this._countsFresh = true;
  }

  /** Moves a match (state, matchLen) by one token: the longest suffix of match + token present, or the root. */
  advance(state: number, matchLen: number, token: number): [number, number] {
    if (token === SEPARATOR) return [0, 0];
    let s = state;
    let l = matchLen;
    while (s > 0 && this._findEdge(s, token) < 0) {
      s = this._link[s]!;
      l = this._len[s]!;
    }
    const t = this.next(s, token);
    return t < 0 ? [0, 0] : [t, l + 1];
  }

  /** After appends split states, moves a match to the state that now holds strings of its length. */
  normalize(state: number, matchLen: number): number {
    let s = state;
    while (s > 0 && this._len[this._link[s]!]! >= matchLen) s = this._link[s]!;
    return s;
  }

  /** Releases the spare capacity of a built automaton that will grow little or not at all. */
  compact(): void {
    const fit = (a: Int32Array<ArrayBuffer>, used: number) => a.slice(0, Math.max(1, used));
    this.text = fit(this.text, this.textLength);
    this._len = fit(this._len, this._states);
    this._link = fit(this._link, this._states);
    this._firstPos = fit(this._firstPos, this._states);
    this._firstEdge = fit(this._firstEdge, this._states);
    this._count = fit(this._count, this._states);
    this._isClone = this._isClone.slice(0, Math.max(1, this._states));
    this._edgeFrom = fit(this._edgeFrom, this._edges);
    this._edgeToken = fit(this._edgeToken, this._edges);
    this._edgeTarget = fit(this._edgeTarget, this._edges);
    this._edgeNext = fit(this._edgeNext, this._edges);
  }

  estimateBytes(): number {
    return (
      this.text.byteLength +
      this._len.byteLength * 5 +
      this._isClone.byteLength +
      this._edgeFrom.byteLength * 4 +
      this._table.byteLength
    );
  }

  private _newState(len: number, link: number, firstPos: number, isClone: number): number {
    const v = this._states++;
    if (v >= this._len.length) {
      const size = this._len.length * 2;
      this._len = growInt32(this._len, size);
      this._link = growInt32(this._link, size);
      this._firstPos = growInt32(this._firstPos, size);
      this._firstEdge = growInt32(this._firstEdge, size);
      this._count = growInt32(this._count, size);
      const clone = new Uint8Array(size);
      clone.set(this._isClone);
      this._isClone = clone;
    }
    this._len[v] = len;
    this._link[v] = link;
    this._firstPos[v] = firstPos;
    this._firstEdge[v] = -1;
    this._count[v] = 0;
    this._isClone[v] = isClone;
    return v;
  }

  /** Slot of (state, token): the two multiplied into one word, then murmur3's finalizer so the low bits mix. */
  private _slot(state: number, token: number): number {
    let h = Math.imul(state, 0x9e3779b1) ^ Math.imul(token + 0x7f4a7c15, 0x85ebca77);
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
    return h & this._mask;
  }

  private _findEdge(state: number, token: number): number {
    let i = this._slot(state, token);
    for (;;) {
      const e = this._table[i]! - 1;
      if (e < 0) return -1;
      if (this._edgeFrom[e] === state && this._edgeToken[e] === token) return e;
      i = (i + 1) & this._mask;
    }
  }

  private _addEdge(from: number, token: number, target: number): void {
    const e = this._edges++;
    if (e >= this._edgeFrom.length) {
      const size = this._edgeFrom.length * 2;
      this._edgeFrom = growInt32(this._edgeFrom, size);
      this._edgeToken = growInt32(this._edgeToken, size);
      this._edgeTarget = growInt32(this._edgeTarget, size);
      this._edgeNext = growInt32(this._edgeNext, size);
    }
    this._edgeFrom[e] = from;
    this._edgeToken[e] = token;
    this._edgeTarget[e] = target;
    this._edgeNext[e] = this._firstEdge[from]!;
    this._firstEdge[from] = e;
    if (this._edges * 2 > this._table.length) this._rehash();
    else this._place(e);
  }

  private _place(e: number): void {
    let i = this._slot(this._edgeFrom[e]!, this._edgeToken[e]!);
    while (this._table[i] !== 0) i = (i + 1) & this._mask;
    this._table[i] = e + 1;
  }

  private _rehash(): void {
    this._table = new Int32Array(this._table.length * 2);
    this._mask = this._table.length - 1;
    for (let e = 0; e < this._edges; e++) this._place(e);
  }
}

/** A small draft trie: chains and trees merge on shared prefixes, then the most probable nodes are kept. */
export class DraftTreeBuilder {
  readonly tokens: number[] = [];
  readonly parents: number[] = [];
  readonly probs: number[] = [];
  readonly sources: string[] = [];

  /** Child of parent with this token (a new node, or the existing one with the larger probability). */
  add(parent: number, token: number, prob: number, source: string): number {
    for (let j = parent + 1; j < this.tokens.length; j++) {
      if (this.parents[j] === parent && this.tokens[j] === token) {
        if (prob > this.probs[j]!) {
          this.probs[j] = prob;
          this.sources[j] = source;
        }
        return j;
      }
    }
    this.tokens.push(token);
    this.parents.push(parent);
    this.probs.push(prob);
    this.sources.push(source);
    return this.tokens.length - 1;
  }

  /**
   * The `budget` most probable nodes in topological order. Probabilities never increase from a parent to a
   * child, so ranking by (prob desc, depth asc) keeps every kept node's ancestors.
   */
  build(budget: number, matchLen: number): Draft {
    const n = this.tokens.length;
    let keep: number[];
    if (n <= budget) {
      keep = Array.from({ length: n }, (_, j) => j);
    } else {
      const depth = new Int32Array(n);
      for (let j = 0; j < n; j++) depth[j] = this.parents[j]! < 0 ? 0 : depth[this.parents[j]!]! + 1;
      keep = Array.from({ length: n }, (_, j) => j)
        .sort((a, b) => this.probs[b]! - this.probs[a]! || depth[a]! - depth[b]! || a - b)
        .slice(0, Math.max(0, budget))
        .sort((a, b) => a - b);
    }
    const index = new Int32Array(n).fill(-1);
    const draft: Draft = { tokens: [], parents: [], probs: [], score: 0, matchLen, sources: [] };
    for (const j of keep) {
      const p = this.parents[j]!;
      if (p >= 0 && index[p]! < 0) continue;
      index[j] = draft.tokens.length;
      draft.tokens.push(this.tokens[j]!);
      draft.parents.push(p < 0 ? -1 : index[p]!);
      draft.probs.push(this.probs[j]!);
      draft.sources!.push(this.sources[j]!);
      draft.score += this.probs[j]!;
    }
    return draft;
  }
}

export interface SuffixAutomatonOptions {
  /** Adaptive draft length n = min(maxTokens, 1 + floor(lengthSlope * matchLen)) (default 4, as in the paper). */
  lengthSlope?: number;
  /** Continuations of the static automaton below this share of their parent's count are pruned (default 0.1). */
  minTokenProb?: number;
  /** Per-token decay of the estimated acceptance along a draft path (default 0.9). */
  decay?: number;
  /** Oldest outputs are dropped beyond this many history tokens (default 1 M; 4 bytes each when exported). */
  maxHistoryTokens?: number;
  /** A rematch after the static automaton changes looks at most this far back (default 1024). */
  rematchWindow?: number;
  /** Longest suffix-link chain walked per token to keep the dynamic automaton's counts (default 32). */
  countWalkLimit?: number;
}

/**
 * The automaton over workspace documents and past outputs, separated by separators.
 *
 * New documents, new versions of edited documents and new outputs are appended online. The text they
 * replace (an edited document's old version, evicted outputs) stays in the automaton as dead text until dead
 * text outweighs live text; then the automaton is rebuilt from live text, which keeps updates amortized O(1)
 * per token and memory within twice the live text. A removed document or a cleared or imported history is
 * dropped at once (rebuilt lazily at the next use), so that removed text is never drafted.
 */
class StaticCorpus {
  automaton = new SuffixAutomaton();
  /** Bumped whenever the automaton changes, so that requests know to refresh their match. */
  version = 0;
  readonly documents = new Map<string, Int32Array>();
  history: Int32Array[] = [];
  historyTokens = 0;
  private _liveTokens = 0;
  private _deadTokens = 0;
  private _stale = false;

  constructor(private readonly _maxHistoryTokens: number) {}

  setDocument(docId: string, tokens: Int32Array): void {
    const old = this.documents.get(docId);
    this.documents.set(docId, tokens);
    this._liveTokens += tokens.length - (old?.length ?? 0);
    if (old) this._deadTokens += old.length;
    this._appendOnline(tokens);
  }

  removeDocument(docId: string): void {
    const old = this.documents.get(docId);
    if (!old) return;
    this.documents.delete(docId);
    this._liveTokens -= old.length;
    this._markStale();
  }

  addOutput(tokens: Int32Array): void {
    if (tokens.length === 0) return;
    this.history.push(tokens);
    this.historyTokens += tokens.length;
    this._liveTokens += tokens.length;
    const evicted = this._evict();
    this._liveTokens -= evicted;
    this._deadTokens += evicted;
    this._appendOnline(tokens);
  }

  setHistory(history: Int32Array[]): void {
    this._liveTokens -= this.historyTokens;
    this.history = history;
    this.historyTokens = history.reduce((sum, h) => sum + h.length, 0);
    this._evict();
    this._liveTokens += this.historyTokens;
    this._markStale();
  }

  /** Tokens indexed but no longer live (old versions of documents, evicted outputs). */
  get deadTokens(): number {
    return this._deadTokens;
  }

  /** Rebuilds if stale and refreshes counts; returns the automaton ready for drafting. */
  ready(): SuffixAutomaton {
    if (this._stale) {
      const automaton = new SuffixAutomaton();
      for (const doc of this.documents.values()) StaticCorpus._appendTo(automaton, doc);
      for (const out of this.history) StaticCorpus._appendTo(automaton, out);
      automaton.compact();
      this.automaton = automaton;
      this._deadTokens = 0;
      this._stale = false;
      this.version++;
    }
    if (!this.automaton.countsFresh) this.automaton.computeCounts();
    return this.automaton;
  }

  /** Drops the oldest outputs beyond the budget; returns how many tokens went. */
  private _evict(): number {
    let evicted = 0;
    while (this.historyTokens > this._maxHistoryTokens && this.history.length > 0) {
      const gone = this.history.shift()!.length;
      this.historyTokens -= gone;
      evicted += gone;
    }
    return evicted;
  }

  private _markStale(): void {
    this._stale = true;
    this.version++;
  }

  private _appendOnline(tokens: Int32Array): void {
    if (this._deadTokens > this._liveTokens) this._markStale();
    if (this._stale) return;
    StaticCorpus._appendTo(this.automaton, tokens);
    this.version++;
  }

  private static _appendTo(automaton: SuffixAutomaton, tokens: Int32Array): void {
    for (let i = 0; i < tokens.length; i++) automaton.append(tokens[i]!);
    automaton.appendSeparator();
  }
}

/** Per-request state: the automata and their matches, kept up to date token by token. */
interface SamRequest {
  /** Prompt plus generation. */
  dynamic: SuffixAutomaton;
  dynState: number;
  dynLen: number;
  /** Where the dynamic draft copies from (a position in dynamic.text), or -1. */
  copyPos: number;
  /** The request's references (null when none), built once with counts. */
  references: SuffixAutomaton | null;
  refState: number;
  refLen: number;
  staticState: number;
  staticLen: number;
  staticVersion: number;
}

/** Largest tree proposed, whatever the budget asked (tree building is quadratic in its size). */
const MAX_DRAFT = 1024;
const HISTORY_MAGIC = 0x4d415350; // "PSAM" little endian
const HISTORY_FORMAT = 1;

export class SuffixAutomatonDrafter implements Drafter {
  readonly name = 'sam';
  private readonly _slope: number;
  private readonly _minTokenProb: number;
  private readonly _decay: number;
  private readonly _rematchWindow: number;
  private readonly _countWalkLimit: number;
  private readonly _corpus: StaticCorpus;
  private readonly _requests = new Map<string, SamRequest>();
  private _peakBytes = 0;

  constructor(options: SuffixAutomatonOptions = {}) {
    this._slope = positive(options.lengthSlope ?? 4, 'lengthSlope');
    this._minTokenProb = options.minTokenProb ?? 0.1;
    if (!(this._minTokenProb >= 0 && this._minTokenProb <= 1)) throw new Error(`sam: minTokenProb must be in [0, 1], got ${options.minTokenProb}`);
    this._decay = options.decay ?? 0.9;
    if (!(this._decay > 0 && this._decay <= 1)) throw new Error(`sam: decay must be in (0, 1], got ${options.decay}`);
    this._rematchWindow = Math.floor(positive(options.rematchWindow ?? 1024, 'rematchWindow'));
    this._countWalkLimit = Math.floor(positive(options.countWalkLimit ?? 32, 'countWalkLimit'));
    this._corpus = new StaticCorpus(Math.floor(positive(options.maxHistoryTokens ?? 1 << 20, 'maxHistoryTokens')));
  }

  begin(requestId: string, prompt: readonly number[], references: readonly (readonly number[])[] = []): void {
    checkTokens(prompt, `sam: prompt of ${requestId}`);
    references.forEach((ref, i) => checkTokens(ref, `sam: reference ${i} of ${requestId}`));
    let refs: SuffixAutomaton | null = null;
    if (references.some((ref) => ref.length > 0)) {
      refs = new SuffixAutomaton();
      for (const ref of references) {
        for (const t of ref) refs.append(t);
        refs.appendSeparator();
      }
      refs.computeCounts();
      refs.compact();
    }
    const req: SamRequest = {
      dynamic: new SuffixAutomaton(this._countWalkLimit),
      dynState: 0,
      dynLen: 0,
      copyPos: -1,
      references: refs,
      refState: 0,
      refLen: 0,
      staticState: 0,
      staticLen: 0,
      staticVersion: -1,
    };
    this._requests.set(requestId, req);
    this._corpus.ready();
    req.staticVersion = this._corpus.version;
    this._push(req, prompt);
    this._notePeak();
  }

  observe(requestId: string, tokens: readonly number[]): void {
    const req = this._request(requestId);
    checkTokens(tokens, `sam: tokens observed for ${requestId}`);
    this._push(req, tokens);
    this._notePeak();
  }

  propose(requestId: string, maxTokens: number): Draft {
    const req = this._request(requestId);
    const budget = Math.min(MAX_DRAFT, draftBudget(maxTokens, 'sam'));
    const corpus = this._corpus.ready();
    this._refreshStatic(req, corpus);
    const tree = new DraftTreeBuilder();
    if (budget > 0) {
      this._addDynamicChain(req, budget, tree);
      // Counts over the prompt and generation are kept by append; after a degenerate (too long) suffix-link
      // chain they go stale and the request keeps only the copy, rather than recounting in the hot path.
      if (req.dynamic.countsFresh) this._addCountTree(req.dynamic, req.dynState, req.dynLen, budget, tree);
      if (req.references) this._addCountTree(req.references, req.refState, req.refLen, budget, tree);
      this._addCountTree(corpus, req.staticState, req.staticLen, budget, tree);
    }
    return tree.build(budget, Math.max(req.dynLen, req.refLen, req.staticLen));
  }

  end(requestId: string, output?: readonly number[]): void {
    this._requests.delete(requestId);
    if (output && output.length > 0) {
      checkTokens(output, `sam: output of ${requestId}`);
      this._corpus.addOutput(Int32Array.from(output));
      // Index (and recount) now, after the request, rather than on the next request's path.
      this._corpus.ready();
      this._notePeak();
    }
  }

  setDocument(docId: string, tokens: readonly number[]): void {
    checkTokens(tokens, `sam: document ${docId}`);
    this._corpus.setDocument(docId, Int32Array.from(tokens));
    this._notePeak();
  }

  removeDocument(docId: string): void {
    this._corpus.removeDocument(docId);
  }

  clearHistory(): void {
    this._corpus.setHistory([]);
  }

  exportHistory(): Uint8Array {
    const history = this._corpus.history;
    const bytes = new Uint8Array(12 + 4 * history.length + 4 * this._corpus.historyTokens);
    const view = new DataView(bytes.buffer);
    view.setUint32(0, HISTORY_MAGIC, true);
    view.setUint32(4, HISTORY_FORMAT, true);
    view.setUint32(8, history.length, true);
    let at = 12;
    for (const out of history) {
      view.setUint32(at, out.length, true);
      at += 4;
      for (let i = 0; i < out.length; i++, at += 4) view.setUint32(at, out[i]!, true);
    }
    return bytes;
  }

  importHistory(data: Uint8Array): void {
    const fail = (why: string): never => {
      throw new Error(`sam: cannot import history: ${why}`);
    };
    if (data.length < 12) fail(`buffer of ${data.length} bytes is shorter than the 12-byte header`);
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    if (view.getUint32(0, true) !== HISTORY_MAGIC) fail('bad magic (not a sam history)');
    if (view.getUint32(4, true) !== HISTORY_FORMAT) fail(`unsupported format ${view.getUint32(4, true)}`);
    const count = view.getUint32(8, true);
    const history: Int32Array[] = [];
    let at = 12;
    for (let k = 0; k < count; k++) {
      if (at + 4 > data.length) fail(`truncated at output ${k}`);
      const length = view.getUint32(at, true);
      at += 4;
      if (at + 4 * length > data.length) fail(`output ${k} claims ${length} tokens past the end`);
      const out = new Int32Array(length);
      for (let i = 0; i < length; i++, at += 4) {
        const t = view.getUint32(at, true);
        if (t > MAX_TOKEN_ID) fail(`output ${k} token ${i} is ${t}, above ${MAX_TOKEN_ID}`);
        out[i] = t;
      }
      history.push(out);
    }
    if (at !== data.length) fail(`${data.length - at} trailing bytes`);
    this._corpus.setHistory(history);
  }

  estimateBytes(): number {
    let bytes = this._corpus.automaton.estimateBytes() + 4 * this._corpus.historyTokens;
    for (const doc of this._corpus.documents.values()) bytes += doc.byteLength;
    for (const req of this._requests.values()) bytes += req.dynamic.estimateBytes() + (req.references?.estimateBytes() ?? 0);
    return bytes;
  }

  peakBytes(): number {
    return this._peakBytes;
  }

  hasRequest(requestId: string): boolean {
    return this._requests.has(requestId);
  }

  /**
   * Current match lengths: dynamic (the context before its newest token), references (this request's) and
   * static (workspace documents and past outputs).
   */
  matchLengths(requestId: string): { dynamic: number; references: number; static: number } {
    const req = this._request(requestId);
    this._refreshStatic(req, this._corpus.ready());
    return { dynamic: req.dynLen, references: req.refLen, static: req.staticLen };
  }

  private _push(req: SamRequest, tokens: readonly number[]): void {
    const dyn = req.dynamic;
    const corpus = this._corpus.automaton;
    const staticFresh = req.staticVersion === this._corpus.version;
    for (const t of tokens) {
      const [state, len] = dyn.advance(req.dynState, req.dynLen, t);
      dyn.append(t);
      req.dynState = dyn.normalize(state, len);
      req.dynLen = len;
      // The earliest occurrence is also sticky: while the copied text keeps matching, it stays the earliest.
      req.copyPos = len > 0 ? dyn.firstPos(req.dynState) + 1 : -1;
      if (req.references) [req.refState, req.refLen] = req.references.advance(req.refState, req.refLen, t);
      if (staticFresh) [req.staticState, req.staticLen] = corpus.advance(req.staticState, req.staticLen, t);
    }
    if (!staticFresh) req.staticVersion = -1;
  }

  /** After the corpus changed, rematches the context's tail against it. */
  private _refreshStatic(req: SamRequest, corpus: SuffixAutomaton): void {
    if (req.staticVersion === this._corpus.version) return;
    const text = req.dynamic.text;
    const from = Math.max(0, req.dynamic.textLength - this._rematchWindow);
    let state = 0;
    let len = 0;
    for (let i = from; i < req.dynamic.textLength; i++) [state, len] = corpus.advance(state, len, text[i]!);
    req.staticState = state;
    req.staticLen = len;
    req.staticVersion = this._corpus.version;
  }

  /** Estimated acceptance of the first drafted token after a match of this length. */
  private _confidence(matchLen: number): number {
    return matchLen / (matchLen + 1);
  }

  private _draftLength(matchLen: number, budget: number): number {
    return Math.min(budget, 1 + Math.floor(this._slope * matchLen));
  }

  private _addDynamicChain(req: SamRequest, budget: number, tree: DraftTreeBuilder): void {
    if (req.dynLen === 0 || req.copyPos < 0) return;
    const dyn = req.dynamic;
    const n = this._draftLength(req.dynLen, budget);
    let p = this._confidence(req.dynLen);
    let parent = -1;
    for (let j = 0, pos = req.copyPos; j < n && pos < dyn.textLength; j++, pos++) {
      const t = dyn.text[pos]!;
      if (t === SEPARATOR) break;
      parent = tree.add(parent, t, p, 'sam');
      p *= this._decay;
    }
  }

  /** Best-first tree over an automaton's continuations, path probability = product of count ratios. */
  private _addCountTree(corpus: SuffixAutomaton, matchState: number, matchLen: number, budget: number, tree: DraftTreeBuilder): void {
    if (matchLen === 0) return;
    const n = this._draftLength(matchLen, budget);
    const scale = this._confidence(matchLen);
    // Frontier of candidate nodes: automaton state, parent tree node (-1 = root), token, count probability,
    // and its rank (count probability decayed by depth, the estimate the tree stores).
    const states: number[] = [];
    const parents: number[] = [];
    const tokens: number[] = [];
    const probs: number[] = [];
    const depths: number[] = [];
    const ranks: number[] = [];
    const expand = (state: number, node: number, prob: number, depth: number): void => {
      const total = corpus.count(state);
      if (total === 0) return;
      corpus.forEachEdge(state, (token, target) => {
        if (token === SEPARATOR) return;
        const childProb = (prob * corpus.count(target)) / total;
        if (childProb < this._minTokenProb) return;
        states.push(target);
        parents.push(node);
        tokens.push(token);
        probs.push(childProb);
        depths.push(depth);
        ranks.push(childProb * this._decay ** depth);
      });
    };
    expand(matchState, -1, 1, 0);
    for (let added = 0; added < n && states.length > 0; added++) {
      let best = 0;
      for (let k = 1; k < states.length; k++) if (ranks[k]! > ranks[best]!) best = k;
      const state = states[best]!;
      const parent = parents[best]!;
      const token = tokens[best]!;
      const prob = probs[best]!;
      const depth = depths[best]!;
      const rank = ranks[best]!;
      const last = states.length - 1;
      states[best] = states[last]!;
      parents[best] = parents[last]!;
      tokens[best] = tokens[last]!;
      probs[best] = probs[last]!;
      depths[best] = depths[last]!;
      ranks[best] = ranks[last]!;
      states.pop();
      parents.pop();
      tokens.pop();
      probs.pop();
      depths.pop();
      ranks.pop();
      const node = tree.add(parent, token, scale * rank, 'sam');
      expand(state, node, prob, depth + 1);
    }
  }

  private _request(requestId: string): SamRequest {
    const req = this._requests.get(requestId);
    if (!req) throw new Error(`sam: unknown request '${requestId}' (call begin first)`);
    return req;
  }

  private _notePeak(): void {
    const bytes = this.estimateBytes();
    if (bytes > this._peakBytes) this._peakBytes = bytes;
  }
}

function positive(value: number, name: string): number {
  if (!(Number.isFinite(value) && value > 0)) throw new Error(`sam: ${name} must be a positive number, got ${value}`);
  return value;
}
