// A compact occurrence index over token sequences: one token arena plus two hash chains (every position is
// linked to the previous position ending the same 3-gram, and the same token). About 14–18 bytes per token
// and O(1) per appended token, so a large workspace and the output history fit where a suffix tree does not.
// Queries walk a chain from the most recent occurrence and measure each match backwards, which yields the
// same (occurrence, match length) pairs a suffix structure would, best-first by recency.
const NONE = -1;
/** Ends every sequence in the arena so that matches and continuations never cross sequences. */
export const SEPARATOR = -1;

export interface Occurrence {
  /** Arena position of the last matched token; the continuation starts at pos + 1. */
  pos: number;
  matchLen: number;
}

export interface QueryOptions {
  /** Longest match measured (default 64). */
  maxMatch?: number;
  /** Chain entries visited at most per query (bounds latency, default 48). */
  maxVisit?: number;
  /** Occurrences returned at most (default 24). */
  maxResults?: number;
  /** Arena position never reported (the context's own end, when the context lives in this index). */
  skip?: number;
}

function hash3(a: number, b: number, c: number): number {
  return (Math.imul(a, 0x9e3779b1) ^ Math.imul(b + 0x7f4a7c15, 0x85ebca77) ^ Math.imul(c + 0x165667b1, 0xc2b2ae3d)) >>> 0;
}

export class TokenIndex {
  private _arena = new Int32Array(1024);
  private _prev3 = new Int32Array(1024);
  private _prev1 = new Int32Array(1024);
  private _length = 0;
  private _head3 = new Int32Array(1024).fill(NONE);
  private _head1 = new Int32Array(1024).fill(NONE);
  private _deadTokens = 0;
  /** Live sequences in insertion order: id → arena start and length (the open one has no separator yet). */
  private readonly _seqs = new Map<string, { start: number; length: number; open: boolean }>();
  /** The one sequence still open, if any (found without scanning _seqs: closing stays O(1) per sequence). */
  private _open: { start: number; length: number; open: boolean } | undefined;
  /** Arena start of every sequence ever added since the last compaction, in arena order, with its id. */
  private _starts: number[] = [];
  private _startIds: string[] = [];

  get arena(): Int32Array {
    return this._arena;
  }

  get length(): number {
    return this._length;
  }

  get liveTokens(): number {
    let n = 0;
    for (const s of this._seqs.values()) n += s.length;
    return n;
  }

  get sequenceIds(): string[] {
    return [...this._seqs.keys()];
  }

  has(id: string): boolean {
    return this._seqs.has(id);
  }

  /** Appends tokens to sequence `id`; a new id starts a sequence, only the last sequence can grow. */
  append(id: string, tokens: ArrayLike<number>): void {
    let seq = this._seqs.get(id);
    if (!seq) {
      this._closeOpen();
      seq = { start: this._length, length: 0, open: true };
      this._open = seq;
      this._seqs.set(id, seq);
      this._starts.push(seq.start);
      this._startIds.push(id);
    } else if (!seq.open) throw new Error(`token index: sequence '${id}' is closed; remove it before adding it again`);
    for (let i = 0; i < tokens.length; i++) {
      const t = tokens[i]!;
      if (!Number.isInteger(t) || t < 0 || t > 0x7fffffff) throw new Error(`token index: token ${i} of '${id}' is ${String(t)}, expected a non-negative integer`);
      this._push(t);
    }
    seq.length += tokens.length;
  }

  /** Adds a whole sequence and closes it. */
  add(id: string, tokens: ArrayLike<number>): void {
    if (this._seqs.has(id)) this.remove(id);
    this.append(id, tokens);
    this._closeOpen();
  }

  /** Tombstones a sequence (its tokens become separators); compacts once half the arena is dead. */
  remove(id: string): void {
    const seq = this._seqs.get(id);
    if (!seq) return;
    this._arena.fill(SEPARATOR, seq.start, seq.start + seq.length);
    this._deadTokens += seq.length;
    this._seqs.delete(id);
    // A removed open sequence was tombstoned and needs no separator.
    if (seq === this._open) this._open = undefined;
    if (this._deadTokens > 4096 && this._deadTokens > this.liveTokens) this.compact();
  }

  /** Id of the sequence holding arena position pos (removed sequences too, until a compaction). */
  sequenceAt(pos: number): string | undefined {
    let lo = 0;
    let hi = this._starts.length - 1;
    if (hi < 0 || pos < this._starts[0]!) return undefined;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this._starts[mid]! <= pos) lo = mid;
      else hi = mid - 1;
    }
    return this._startIds[lo];
  }

  /** Tokens of a live sequence. */
  sequence(id: string): Int32Array {
    const s = this._seqs.get(id);
    if (!s) throw new Error(`token index: unknown sequence '${id}'`);
    return this._arena.slice(s.start, s.start + s.length);
  }

  /** Rebuilds the arena and chains from the live sequences. */
  compact(): void {
    const live = [...this._seqs.entries()].map(([id, s]) => ({ id, tokens: this._arena.slice(s.start, s.start + s.length), open: s.open }));
    this.clear();
    for (const s of live) {
      this.append(s.id, s.tokens);
      if (!s.open) this._closeOpen();
    }
  }

  clear(): void {
    this._arena = new Int32Array(1024);
    this._prev3 = new Int32Array(1024);
    this._prev1 = new Int32Array(1024);
    this._head3 = new Int32Array(1024).fill(NONE);
    this._head1 = new Int32Array(1024).fill(NONE);
    this._length = 0;
    this._deadTokens = 0;
    this._seqs.clear();
    this._open = undefined;
    this._starts = [];
    this._startIds = [];
  }

  /** Drops the oldest sequences (except those kept) until estimateBytes() <= maxBytes; returns their ids. */
  evict(maxBytes: number, keep?: (id: string) => boolean): string[] {
    const removed: string[] = [];
    for (const id of [...this._seqs.keys()]) {
      if (this.estimateBytes() <= maxBytes) break;
      if (keep?.(id)) continue;
      this.remove(id);
      removed.push(id);
    }
    if (this._deadTokens > 0 && this.estimateBytes() > maxBytes) this.compact();
    return removed;
  }

  /**
   * Occurrences of the end of `ctx[0, ctxEnd)` in the index, most recent first, each with its match length
   * (the longest common suffix, up to maxMatch). Uses the 3-gram chain, or the token chain for shorter contexts
   * and when no 3-gram occurs.
   */
  query(ctx: ArrayLike<number>, ctxEnd: number, options: QueryOptions = {}): Occurrence[] {
    const maxMatch = options.maxMatch ?? 64;
    const maxVisit = options.maxVisit ?? 48;
    const maxResults = options.maxResults ?? 24;
    const skip = options.skip ?? NONE;
    const out: Occurrence[] = [];
    if (ctxEnd <= 0) return out;
    const a = this._arena;
    const last = ctx[ctxEnd - 1]!;
    if (ctxEnd >= 3) {
      const h = hash3(ctx[ctxEnd - 3]!, ctx[ctxEnd - 2]!, last) & (this._head3.length - 1);
      let visited = 0;
      for (let p = this._head3[h]!; p !== NONE && visited < maxVisit && out.length < maxResults; p = this._prev3[p]!, visited++) {
        if (p === skip || a[p] !== last || p + 1 >= this._length || a[p + 1]! < 0) continue;
        const m = this._matchBack(ctx, ctxEnd, p, maxMatch);
        if (m >= 3) out.push({ pos: p, matchLen: m });
      }
      if (out.length > 0) return out;
    }
    if (last >= this._head1.length) return out;
    let visited = 0;
    for (let p = this._head1[last]!; p !== NONE && visited < maxVisit && out.length < maxResults; p = this._prev1[p]!, visited++) {
      if (p === skip || a[p] !== last || p + 1 >= this._length || a[p + 1]! < 0) continue;
      out.push({ pos: p, matchLen: this._matchBack(ctx, ctxEnd, p, maxMatch) });
    }
    return out;
  }

  /** Bytes held by the arena, the two chains and the two head tables. */
  estimateBytes(): number {
    return this._length * 12 + this._head3.byteLength + this._head1.byteLength + this._seqs.size * 64;
  }

  /** Bytes actually allocated (capacity included). */
  allocatedBytes(): number {
    return this._arena.byteLength + this._prev3.byteLength + this._prev1.byteLength + this._head3.byteLength + this._head1.byteLength;
  }

  private _matchBack(ctx: ArrayLike<number>, ctxEnd: number, p: number, maxMatch: number): number {
    const a = this._arena;
    let m = 0;
    while (m < maxMatch && m < ctxEnd && m <= p) {
      const t = a[p - m]!;
      if (t < 0 || t !== ctx[ctxEnd - 1 - m]) break;
      m++;
    }
    return m;
  }

  private _closeOpen(): void {
    const s = this._open;
    this._open = undefined;
    if (s) {
      s.open = false;
      this._push(SEPARATOR);
      // The separator belongs to no sequence but occupies the arena: count it as dead.
      this._deadTokens++;
    }
  }

  private _push(t: number): void {
    if (this._length === this._arena.length) this._grow();
    const p = this._length++;
    this._arena[p] = t;
    this._prev1[p] = NONE;
    this._prev3[p] = NONE;
    if (t < 0) return;
    if (t >= this._head1.length) {
      let cap = this._head1.length;
      while (cap <= t) cap *= 2;
      const h = new Int32Array(cap).fill(NONE);
      h.set(this._head1);
      this._head1 = h;
    }
    this._prev1[p] = this._head1[t]!;
    this._head1[t] = p;
    if (p >= 2) {
      const x = this._arena[p - 2]!;
      const y = this._arena[p - 1]!;
      if (x >= 0 && y >= 0) {
        const h = hash3(x, y, t) & (this._head3.length - 1);
        this._prev3[p] = this._head3[h]!;
        this._head3[h] = p;
      }
    }
  }

  private _grow(): void {
    const cap = this._arena.length * 2;
    const grow = (src: Int32Array): Int32Array<ArrayBuffer> => {
      const b = new Int32Array(cap);
      b.set(src);
      return b;
    };
    this._arena = grow(this._arena);
    this._prev1 = grow(this._prev1);
    this._prev3 = grow(this._prev3);
    // Keep about two positions per 3-gram bucket: rebuild the 3-gram chains into a table of cap / 2 heads.
    const buckets = Math.max(1024, cap >> 1);
    if (buckets > this._head3.length) this._rehash3(buckets);
  }

  private _rehash3(buckets: number): void {
    this._head3 = new Int32Array(buckets).fill(NONE);
    const a = this._arena;
    for (let p = 0; p < this._length; p++) {
      this._prev3[p] = NONE;
      if (p < 2) continue;
      const x = a[p - 2]!;
      const y = a[p - 1]!;
      const t = a[p]!;
      if (x < 0 || y < 0 || t < 0) continue;
      const h = hash3(x, y, t) & (buckets - 1);
      this._prev3[p] = this._head3[h]!;
      this._head3[h] = p;
    }
  }
}
