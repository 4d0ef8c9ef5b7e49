// SuffixDecoding's suffix tree (arXiv 2411.04975, ArcticInference csrc/suffix_decoding) in flat typed arrays.
//
// Every suffix of every sequence, truncated at maxDepth tokens, is a root path. Nodes carry occurrence counts
// (exact: count(path) = number of start positions where the path occurs), edges are path-compressed
// references into one token arena, and children are kept in a singly linked list ordered by count.
// Sequences are appended token by token (the active points of a sequence are the nodes of its last
// maxDepth suffixes) and removed by walking each of their suffixes down and decrementing. Removed tokens stay
// in the arena until a compaction rebuilds the tree from the live sequences. Eviction drops whole sequences,
// oldest first, until estimateBytes() fits the byte budget.
import { ProbHeap } from './draftTrie';
import type { Draft } from './types';

export interface SuffixTreeOptions {
  /** Longest root path kept (64 in ArcticInference, 24 in vLLM); at most 255. */
  maxDepth?: number;
  /** Byte budget for evict(); Infinity keeps everything. */
  maxBytes?: number;
}

export interface SpeculateOptions {
  maxTokens: number;
  /** Budget factor: at most floor(alpha * matchLen + offset) tokens (SuffixDecoding's adaptive budget). */
  alpha?: number;
  offset?: number;
  /** Nodes whose path probability falls below this are pruned (0.1 in SuffixDecoding). */
  minTokenProb?: number;
  /** Longest context suffix tried (default maxDepth). */
  maxMatch?: number;
}

/** Bytes per node: start (4), count (4), first child (4), next sibling (4), edge length (1). */
const NODE_BYTES = 17;
const ROOT = 0;
const NONE = -1;

interface SequenceState {
  start: number;
  length: number;
  /** Nodes ending the sequence's last suffixes (depth d at index d-1); only while it is being appended. */
  active: number[] | null;
}

export class SuffixTree {
  readonly maxDepth: number;
  maxBytes: number;
  private _arena = new Int32Array(1024);
  private _arenaLength = 0;
  private _deadTokens = 0;
  private _start = new Int32Array(256);
  private _len = new Uint8Array(256);
  private _count = new Int32Array(256);
  private _child = new Int32Array(256).fill(NONE);
  private _next = new Int32Array(256).fill(NONE);
  private _nodeTop = 1;
  private _freeHead = NONE;
  private _liveNodes = 1;
  /** Root children indexed by token id (the root has one child per distinct token). */
  private _rootChild = new Int32Array(1024).fill(NONE);
  private _rootChildren = 0;
  private readonly _seqs = new Map<number, SequenceState>();
  private _version = 0;

  constructor(options: SuffixTreeOptions = {}) {
    this.maxDepth = options.maxDepth ?? 64;
    this.maxBytes = options.maxBytes ?? Infinity;
    if (!Number.isInteger(this.maxDepth) || this.maxDepth < 1 || this.maxDepth > 255) {
      throw new Error(`suffix tree: maxDepth must be an integer in [1, 255], got ${String(options.maxDepth)}`);
    }
    if (!(this.maxBytes > 0)) throw new Error(`suffix tree: maxBytes must be positive, got ${String(options.maxBytes)}`);
  }

  /** Changes whenever the tree changes, so that cached match points can be revalidated. */
  get version(): number {
    return this._version;
  }

  get sequenceIds(): number[] {
    return [...this._seqs.keys()];
  }

  get liveTokens(): number {
    return this._arenaLength - this._deadTokens;
  }

  get nodeCount(): number {
    return this._liveNodes;
  }

  hasSequence(seqId: number): boolean {
    return this._seqs.has(seqId);
  }

  sequenceLength(seqId: number): number {
    return this._seqs.get(seqId)?.length ?? 0;
  }

  /** Appends tokens to a sequence (creating it when new). */
  append(seqId: number, tokens: ArrayLike<number>): void {
    let seq = this._seqs.get(seqId);
    if (!seq) {
      seq = { start: this._arenaLength, length: 0, active: [] };
      this._seqs.set(seqId, seq);
    } else if (!seq.active) {
      throw new Error(`suffix tree: sequence ${seqId} is sealed; remove it before appending again`);
    } else if (seq.start + seq.length !== this._arenaLength) {
      throw new Error(`suffix tree: sequence ${seqId} is not the most recent one; only the last sequence can grow`);
    }
    for (let i = 0; i < tokens.length; i++) {
      const t = tokens[i]!;
      if (!Number.isInteger(t) || t < 0 || t > 0x7fffffff) throw new Error(`suffix tree: token ${i} is ${String(t)}, expected a non-negative integer`);
      this._appendToken(seq, t);
    }
    this._version++;
  }

  /** Marks a sequence complete; it can no longer grow (frees its active points). */
  seal(seqId: number): void {
    const seq = this._seqs.get(seqId);
    if (seq) seq.active = null;
  }

  /** Removes a sequence: every count it contributed is taken back, nodes reaching zero are freed. */
  remove(seqId: number): void {
    const seq = this._seqs.get(seqId);
    if (!seq) return;
    const end = seq.start + seq.length;
    for (let p = seq.start; p < end; p++) this._removeSuffix(p, Math.min(end, p + this.maxDepth));
    this._seqs.delete(seqId);
    this._deadTokens += seq.length;
    this._version++;
    if (this._deadTokens > 4096 && this._deadTokens > this.liveTokens) this.compact();
  }

  /** Rebuilds the tree from the live sequences, dropping removed tokens from the arena. */
  compact(): void {
    const seqs = [...this._seqs.entries()].map(([id, s]) => ({ id, tokens: this._arena.slice(s.start, s.start + s.length), open: s.active !== null }));
    this._reset();
    for (const s of seqs) {
      this.append(s.id, s.tokens);
      if (!s.open) this.seal(s.id);
    }
    this._version++;
  }

  /** Drops whole sequences, oldest first, until estimateBytes() <= maxBytes. Returns the ids removed. */
  evict(keep?: (seqId: number) => boolean): number[] {
    const removed: number[] = [];
    for (const id of [...this._seqs.keys()]) {
      if (this.estimateBytes() <= this.maxBytes) break;
      if (keep?.(id)) continue;
      this.remove(id);
      removed.push(id);
    }
    if (removed.length > 0 && this._deadTokens > 0 && this.estimateBytes() > this.maxBytes) this.compact();
    return removed;
  }

  clear(): void {
    this._reset();
    this._version++;
  }

  /** Tokens of a live sequence. */
  sequence(seqId: number): Int32Array {
    const s = this._seqs.get(seqId);
    if (!s) throw new Error(`suffix tree: unknown sequence ${seqId}`);
    return this._arena.slice(s.start, s.start + s.length);
  }

  /** Occurrence count of a root path (0 when absent or longer than maxDepth). */
  count(path: ArrayLike<number>): number {
    if (path.length === 0) return this.liveTokens;
    const point = this.match(path, 0, path.length);
    return point ? this._count[point.node]! : 0;
  }

  /** Follows path[from, to) from the root; the node whose edge holds the last token and the offset after it. */
  match(path: ArrayLike<number>, from: number, to: number): { node: number; offset: number } | null {
    if (to - from > this.maxDepth || to <= from) return null;
    let node = this._findChild(ROOT, path[from]!);
    if (node === NONE) return null;
    let offset = 1;
    for (let i = from + 1; i < to; i++) {
      const t = path[i]!;
      if (offset < this._len[node]!) {
        if (this._arena[this._start[node]! + offset] !== t) return null;
        offset++;
      } else {
        node = this._findChild(node, t);
        if (node === NONE) return null;
        offset = 1;
      }
    }
    return { node, offset };
  }

  /**
   * SuffixDecoding speculation: for each match length m (longest first), match the last m context tokens,
   * grow a tree best-first by path probability within floor(alpha*m + offset) tokens, prune below minTokenProb,
   * and keep the draft with the highest score (sum of probabilities).
   */
  speculate(context: ArrayLike<number>, options: SpeculateOptions): Draft {
    const alpha = options.alpha ?? 1;
    const offsetTokens = options.offset ?? 0;
    const minProb = options.minTokenProb ?? 0.1;
    const maxMatch = Math.min(options.maxMatch ?? this.maxDepth, this.maxDepth - 1, context.length);
    let best: Draft = { tokens: [], parents: [], probs: [], score: 0, matchLen: 0 };
    let lastCount = -1;
    let lastBudget = -1;
    const n = context.length;
    for (let m = maxMatch; m >= 1; m--) {
      const point = this.match(context, n - m, n);
      if (!point) continue;
      const c = this._count[point.node]!;
      const budget = Math.min(options.maxTokens, Math.floor(alpha * m + offsetTokens), this.maxDepth - m);
      // A shorter match with the same count has the same occurrences, so it can only do better when the depth
      // cap leaves it a larger budget (a 63-token match at depth 64 has room for 1 token, a 48-token one for 16).
      if (c === lastCount && budget <= lastBudget) continue;
      lastCount = c;
      lastBudget = budget;
      if (budget <= 0) continue;
      const draft = this.grow(point.node, point.offset, budget, minProb, m);
      if (draft.score > best.score) best = draft;
    }
    return best;
  }

  /** Best-first draft tree below a match point (node, offset into its edge); equal probabilities pop oldest first. */
  grow(node: number, offset: number, budget: number, minProb: number, matchLen: number): Draft {
    const draft: Draft = { tokens: [], parents: [], probs: [], score: 0, matchLen };
    // Frontier of candidate draft nodes: prob, then payload (tree node, offset after its token, draft parent).
    const heap = new ProbHeap();
    let pushed = 0;
    const push = (prob: number, v: number, off: number, parent: number): void => heap.push(prob, pushed++, v, off, parent);
    this._pushChildren(push, node, offset, 1, -1, minProb);
    while (draft.tokens.length < budget && heap.size > 0) {
      const prob = heap.pop();
      const v = heap.a;
      const off = heap.b;
      const idx = draft.tokens.length;
      draft.tokens.push(this._arena[this._start[v]! + off - 1]!);
      draft.parents.push(heap.c);
      draft.probs.push(prob);
      draft.score += prob;
      this._pushChildren(push, v, off, prob, idx, minProb);
    }
    return draft;
  }

  /** Children of a match point as candidates; the denominator is the occurrences that continue. */
  private _pushChildren(push: (prob: number, node: number, offset: number, parent: number) => void, node: number, offset: number, prob: number, parent: number, minProb: number): void {
    if (node !== ROOT && offset < this._len[node]!) {
      push(prob, node, offset + 1, parent);
      return;
    }
    let total = 0;
    let scanned = 0;
    for (let c = this._child[node]!; c !== NONE && scanned < 64; c = this._next[c]!, scanned++) total += this._count[c]!;
    if (scanned === 64) total = Math.max(total, this._count[node]!);
    if (total === 0) return;
    for (let c = this._child[node]!; c !== NONE; c = this._next[c]!) {
      const p = (prob * this._count[c]!) / total;
      if (p < minProb) break; // children are ordered by count
      push(p, c, 1, parent);
    }
  }

  /** Bytes held: node table, token arena, root table and per-sequence bookkeeping. */
  estimateBytes(): number {
    let bytes = this._nodeTop * NODE_BYTES + this._arenaLength * 4 + this._rootChild.byteLength;
    for (const s of this._seqs.values()) bytes += 48 + (s.active ? s.active.length * 8 : 0);
    return bytes;
  }

  /**
   * Checks every invariant: counts equal the sum of each node's occurrences, children are ordered by count
   * with distinct first tokens, depths stay within maxDepth, the free list and live node count agree.
   * Throws with a description of the first violation.
   */
  checkIntegrity(): void {
    let reached = 1;
    const visit = (node: number, depth: number): void => {
      let prevCount = Infinity;
      const firstTokens = new Set<number>();
      let childSum = 0;
      for (const c of this._childList(node)) {
        reached++;
        const len = this._len[c]!;
        const count = this._count[c]!;
        if (len < 1) throw new Error(`suffix tree: node ${c} has an empty edge`);
        if (depth + len > this.maxDepth) throw new Error(`suffix tree: node ${c} ends at depth ${depth + len} > ${this.maxDepth}`);
        if (count < 1) throw new Error(`suffix tree: node ${c} has count ${count}`);
        if (node !== ROOT && count > prevCount) throw new Error(`suffix tree: children of ${node} are not ordered by count`);
        const s = this._start[c]!;
        if (s < 0 || s + len > this._arenaLength) throw new Error(`suffix tree: node ${c} points outside the arena`);
        const first = this._arena[s]!;
        if (firstTokens.has(first)) throw new Error(`suffix tree: node ${node} has two children starting with token ${first}`);
        firstTokens.add(first);
        if (node === ROOT && this._rootChild[first] !== c) throw new Error(`suffix tree: root table entry ${first} is misplaced`);
        prevCount = count;
        childSum += count;
        visit(c, depth + len);
      }
      if (node === ROOT) {
        let total = 0;
        for (const s of this._seqs.values()) total += s.length;
        if (childSum !== total) throw new Error(`suffix tree: root children count ${childSum}, sequences hold ${total} tokens`);
        if (firstTokens.size !== this._rootChildren) throw new Error(`suffix tree: root has ${firstTokens.size} children, ${this._rootChildren} recorded`);
      } else if (childSum > this._count[node]!) throw new Error(`suffix tree: children of ${node} count ${childSum} > ${this._count[node]}`);
    };
    visit(ROOT, 0);
    if (reached !== this._liveNodes) throw new Error(`suffix tree: ${reached} nodes reachable but ${this._liveNodes} live`);
    let free = 0;
    for (let f = this._freeHead; f !== NONE; f = this._next[f]!) free++;
    if (free + this._liveNodes !== this._nodeTop) throw new Error(`suffix tree: ${free} free + ${this._liveNodes} live != ${this._nodeTop} allocated`);
  }

  /** Children of a node in list order (the root's come from its token table). */
  private _childList(node: number): number[] {
    const out: number[] = [];
    if (node === ROOT) {
      for (let t = 0; t < this._rootChild.length; t++) if (this._rootChild[t] !== NONE) out.push(this._rootChild[t]!);
    } else for (let c = this._child[node]!; c !== NONE; c = this._next[c]!) out.push(c);
    return out;
  }

  /** Every root path (expanded token by token) with its count, for tests: "t1,t2,..." → count. */
  dumpPaths(): Map<string, number> {
    const out = new Map<string, number>();
    const walk = (node: number, prefix: number[]): void => {
      for (const c of this._childList(node)) {
        const path = prefix.slice();
        for (let k = 0; k < this._len[c]!; k++) {
          path.push(this._arena[this._start[c]! + k]!);
          out.set(path.join(','), this._count[c]!);
        }
        walk(c, path);
      }
    };
    walk(ROOT, []);
    return out;
  }

  // ---- internals ----

  private _appendToken(seq: SequenceState, t: number): void {
    const q = this._arenaLength;
    this._pushArena(t);
    seq.length++;
    const active = seq.active!;
    // Deepest first: active[d-1] is the node ending the suffix of depth d; each grows by one token.
    const limit = Math.min(active.length, this.maxDepth - 1);
    for (let d = limit; d >= 1; d--) active[d] = this._extend(active[d - 1]!, t, q);
    if (active.length > this.maxDepth) active.length = this.maxDepth;
    active[0] = this._extend(ROOT, t, q);
  }

  /** Extends the path ending at node v by token t (at arena position q); returns the node ending the new path. */
  private _extend(v: number, t: number, q: number): number {
    // A leaf holding a single occurrence that ends right before q grows in place (path compression).
    if (v !== ROOT && this._child[v] === NONE && this._count[v] === 1 && this._start[v]! + this._len[v]! === q) {
      this._len[v]!++;
      return v;
    }
    if (v === ROOT) {
      this._growRootTable(t);
      let c = this._rootChild[t]!;
      if (c === NONE) {
        c = this._newNode(q, 1, 1);
        this._rootChild[t] = c;
        this._rootChildren++;
        return c;
      }
      if (this._len[c]! > 1) c = this._splitFirst(ROOT, NONE, c);
      this._count[c]!++;
      return c;
    }
    let prev = NONE;
    let c = this._child[v]!;
    while (c !== NONE && this._arena[this._start[c]!] !== t) {
      prev = c;
      c = this._next[c]!;
    }
    if (c === NONE) {
      const leaf = this._newNode(q, 1, 1);
      if (prev === NONE) this._child[v] = leaf;
      else this._next[prev] = leaf;
      return leaf;
    }
    if (this._len[c]! > 1) c = this._splitFirst(v, prev, c);
    this._count[c]!++;
    if (prev !== NONE && this._count[prev]! < this._count[c]!) this._moveUp(v, c);
    return c;
  }

  /** Splits child c of v after its first token; the new upper node (same count) takes c's place. */
  private _splitFirst(v: number, prev: number, c: number): number {
    const u = this._newNode(this._start[c]!, 1, this._count[c]!);
    this._start[c]!++;
    this._len[c]!--;
    this._child[u] = c;
    this._next[u] = this._next[c]!;
    this._next[c] = NONE;
    if (v === ROOT) this._rootChild[this._arena[this._start[u]!]!] = u;
    else if (prev === NONE) this._child[v] = u;
    else this._next[prev] = u;
    return u;
  }

  /** Restores count order after c's count grew: moves c before the siblings it now outnumbers. */
  private _moveUp(v: number, c: number): void {
    const cnt = this._count[c]!;
    let before = NONE;
    let x = this._child[v]!;
    while (x !== c && this._count[x]! >= cnt) {
      before = x;
      x = this._next[x]!;
    }
    if (x === c) return;
    let p = x;
    while (this._next[p] !== c) p = this._next[p]!;
    this._next[p] = this._next[c]!;
    if (before === NONE) {
      this._next[c] = this._child[v]!;
      this._child[v] = c;
    } else {
      this._next[c] = this._next[before]!;
      this._next[before] = c;
    }
  }

  /** Restores count order after c's count shrank: moves c after the siblings that now outnumber it. */
  private _moveDown(v: number, prev: number, c: number): void {
    const cnt = this._count[c]!;
    let after = this._next[c]!;
    if (after === NONE || this._count[after]! <= cnt) return;
    if (prev === NONE) this._child[v] = after;
    else this._next[prev] = after;
    while (this._next[after] !== NONE && this._count[this._next[after]!]! > cnt) after = this._next[after]!;
    this._next[c] = this._next[after]!;
    this._next[after] = c;
  }

  /** Walks the suffix arena[p, end) from the root, taking back one occurrence. */
  private _removeSuffix(p: number, end: number): void {
    let v = ROOT;
    let i = p;
    while (i < end) {
      const t = this._arena[i]!;
      let prev = NONE;
      let c: number;
      if (v === ROOT) c = t < this._rootChild.length ? this._rootChild[t]! : NONE;
      else {
        c = this._child[v]!;
        while (c !== NONE && this._arena[this._start[c]!] !== t) {
          prev = c;
          c = this._next[c]!;
        }
      }
      if (c === NONE) throw new Error(`suffix tree: corrupt, suffix at ${p} is missing`);
      this._count[c]!--;
      if (this._count[c] === 0) {
        if (v === ROOT) {
          this._rootChild[t] = NONE;
          this._rootChildren--;
        } else if (prev === NONE) this._child[v] = this._next[c]!;
        else this._next[prev] = this._next[c]!;
        this._freeSubtree(c);
        return;
      }
      if (v !== ROOT) this._moveDown(v, prev, c);
      i += this._len[c]!;
      v = c;
    }
  }

  private _freeSubtree(c: number): void {
    const stack = [c];
    while (stack.length > 0) {
      const x = stack.pop()!;
      for (let y = this._child[x]!; y !== NONE; y = this._next[y]!) stack.push(y);
      this._child[x] = NONE;
      this._next[x] = this._freeHead;
      this._freeHead = x;
      this._liveNodes--;
    }
  }

  private _findChild(v: number, t: number): number {
    if (v === ROOT) return t < this._rootChild.length ? this._rootChild[t]! : NONE;
    let c = this._child[v]!;
    while (c !== NONE && this._arena[this._start[c]!] !== t) c = this._next[c]!;
    return c;
  }

  private _newNode(start: number, len: number, count: number): number {
    let x: number;
    if (this._freeHead !== NONE) {
      x = this._freeHead;
      this._freeHead = this._next[x]!;
    } else {
      if (this._nodeTop === this._start.length) this._growNodes();
      x = this._nodeTop++;
    }
    this._start[x] = start;
    this._len[x] = len;
    this._count[x] = count;
    this._child[x] = NONE;
    this._next[x] = NONE;
    this._liveNodes++;
    return x;
  }

  private _growNodes(): void {
    const cap = this._start.length * 2;
    const grow32 = (a: Int32Array, fill: number): Int32Array<ArrayBuffer> => {
      const b = new Int32Array(cap);
      if (fill !== 0) b.fill(fill, a.length);
      b.set(a);
      return b;
    };
    this._start = grow32(this._start, 0);
    this._count = grow32(this._count, 0);
    this._child = grow32(this._child, NONE);
    this._next = grow32(this._next, NONE);
    const len = new Uint8Array(cap);
    len.set(this._len);
    this._len = len;
  }

  private _growRootTable(t: number): void {
    if (t < this._rootChild.length) return;
    let cap = this._rootChild.length;
    while (cap <= t) cap *= 2;
    const b = new Int32Array(cap).fill(NONE);
    b.set(this._rootChild);
    this._rootChild = b;
  }

  private _pushArena(t: number): void {
    if (this._arenaLength === this._arena.length) {
      const b = new Int32Array(this._arena.length * 2);
      b.set(this._arena);
      this._arena = b;
    }
    this._arena[this._arenaLength++] = t;
  }

  private _reset(): void {
    this._arena = new Int32Array(1024);
    this._arenaLength = 0;
    this._deadTokens = 0;
    this._start = new Int32Array(256);
    this._len = new Uint8Array(256);
    this._count = new Int32Array(256);
    this._child = new Int32Array(256).fill(NONE);
    this._next = new Int32Array(256).fill(NONE);
    this._nodeTop = 1;
    this._freeHead = NONE;
    this._liveNodes = 1;
    this._rootChild = new Int32Array(1024).fill(NONE);
    this._rootChildren = 0;
    this._seqs.clear();
  }
}
