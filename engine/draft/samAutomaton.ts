// The suffix automaton behind SAM-Decoding (arXiv 2411.10666): the data structure only; the drafter that keeps
// one per request, one over the request's references and one over the workspace is sam.ts.
//
// States and transitions live in typed arrays: per state (len, link, firstPos, firstEdge, count), per edge
// (from, token, target, next) and an open-addressing hash table keyed by (state, token). Appending a token is the
// classic online construction (O(1) amortized); occurrence counts are either kept by append (a bounded
// suffix-link walk) or recomputed in O(n).
import { growInt32, MAX_TOKEN_ID } from './tokens';

/** Token that separates concatenated documents; never matched, never drafted. */
export const SEPARATOR = MAX_TOKEN_ID + 1;

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
