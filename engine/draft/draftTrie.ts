// The one draft trie: drafters that gather several candidate continuations (sam, hybrid) merge them here
// (shared prefixes once, per-node estimates combined), then keep the best nodes within the budget, best-first.
// The best-first heap is shared with the suffix tree's own expansion (suffixTree.ts).
import type { Draft } from './types';

/** How the estimates of several candidates through one node combine. */
export type Combine = 'max' | 'sum' | 'noisy-or';

/** The root node (the context's end); it is never drafted. */
export const TRIE_ROOT = 0;

/**
 * Max-heap of frontier entries keyed by probability; equal probabilities pop by the smaller tie key. Parallel
 * arrays: one probability, one tie key and three integers of payload per entry, no object per entry kept.
 */
export class ProbHeap {
  private readonly _prob: number[] = [];
  private readonly _tie: number[] = [];
  private readonly _a: number[] = [];
  private readonly _b: number[] = [];
  private readonly _c: number[] = [];
  /** Payload of the last pop. */
  a = 0;
  b = 0;
  c = 0;

  get size(): number {
    return this._prob.length;
  }

  clear(): void {
    this._prob.length = this._tie.length = this._a.length = this._b.length = this._c.length = 0;
  }

  push(prob: number, tie: number, a: number, b = 0, c = 0): void {
    let i = this._prob.length;
    this._prob.push(prob);
    this._tie.push(tie);
    this._a.push(a);
    this._b.push(b);
    this._c.push(c);
    while (i > 0) {
      const up = (i - 1) >> 1;
      if (!this._before(i, up)) break;
      this._swap(i, up);
      i = up;
    }
  }

  /** Removes the best entry; returns its probability and leaves its payload in a, b, c. */
  pop(): number {
    const prob = this._prob[0]!;
    this.a = this._a[0]!;
    this.b = this._b[0]!;
    this.c = this._c[0]!;
    const last = this._prob.length - 1;
    this._swap(0, last);
    this._prob.pop();
    this._tie.pop();
    this._a.pop();
    this._b.pop();
    this._c.pop();
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < last && this._before(l, m)) m = l;
      if (r < last && this._before(r, m)) m = r;
      if (m === i) break;
      this._swap(i, m);
      i = m;
    }
    return prob;
  }

  private _before(i: number, j: number): boolean {
    const d = this._prob[i]! - this._prob[j]!;
    return d > 0 || (d === 0 && this._tie[i]! < this._tie[j]!);
  }

  private _swap(i: number, j: number): void {
    if (i === j) return;
    [this._prob[i], this._prob[j]] = [this._prob[j]!, this._prob[i]!];
    [this._tie[i], this._tie[j]] = [this._tie[j]!, this._tie[i]!];
    [this._a[i], this._a[j]] = [this._a[j]!, this._a[i]!];
    [this._b[i], this._b[j]] = [this._b[j]!, this._b[i]!];
    [this._c[i], this._c[j]] = [this._c[j]!, this._c[i]!];
  }
}

export interface DraftTrieOptions {
  /** How candidates through one node combine (default 'max'). */
  combine?: Combine;
  /** Nodes held at most, root included; child() returns -1 once full (default unbounded). */
  maxNodes?: number;
  /**
   * Equal estimates: 'shallower' (default) takes the shallower node first, then the older one, a total order;
   * 'heap' leaves them in heap order (what hybrid's statistics were tuned with, kept so its numbers hold).
   */
  ties?: 'shallower' | 'heap';
}

/**
 * A trie of candidate continuations in typed arrays. Node 0 is the root; children are a singly linked list,
 * newest first. Every node's estimate must not exceed its parent's (a candidate's estimate never grows along
 * its path), so best-first selection keeps exactly the most probable nodes and every kept node's ancestors.
 */
export class DraftTrie {
  private readonly _combine: Combine;
  private readonly _maxNodes: number;
  private readonly _orderTies: boolean;
  private _token = new Int32Array(64);
  private _child = new Int32Array(64);
  private _next = new Int32Array(64);
  private _depth = new Int32Array(64);
  private _weight = new Float64Array(64);
  private _source = new Uint8Array(64);
  private _size = 1;
  private _rootMass = 0;
  private readonly _heap = new ProbHeap();

  /** @param sources names of the node sources, by id (at most 256), for the draft's per-node `sources`. */
  constructor(
    private readonly _sources: readonly string[],
    options: DraftTrieOptions = {},
  ) {
    if (_sources.length === 0 || _sources.length > 256) throw new Error(`draft trie: 1 to 256 source names, got ${_sources.length}`);
    this._combine = options.combine ?? 'max';
    this._maxNodes = options.maxNodes ?? Infinity;
    this._orderTies = (options.ties ?? 'shallower') === 'shallower';
    if (!(this._maxNodes >= 2)) throw new Error(`draft trie: maxNodes must be at least 2, got ${String(options.maxNodes)}`);
    this.reset();
  }

  /** Nodes held, root included. */
  get size(): number {
    return this._size;
  }

  reset(): void {
    this._size = 1;
    this._child[TRIE_ROOT] = -1;
    this._next[TRIE_ROOT] = -1;
    this._depth[TRIE_ROOT] = 0;
    this._weight[TRIE_ROOT] = 0;
    this._rootMass = 0;
  }

  /** The child of parent holding token, created (owned by source) when missing; -1 when the trie is full. */
  child(parent: number, token: number, source = 0): number {
    let c = this._child[parent]!;
    while (c !== -1 && this._token[c] !== token) c = this._next[c]!;
    if (c !== -1 || this._size >= this._maxNodes) return c;
    if (this._size === this._token.length) this._grow();
    c = this._size++;
    this._token[c] = token;
    this._child[c] = -1;
    this._next[c] = this._child[parent]!;
    this._child[parent] = c;
    this._depth[c] = this._depth[parent]! + 1;
    this._weight[c] = 0;
    this._source[c] = source;
    return c;
  }

  /** Adds one candidate's estimate p to a node (noisy-or keeps the sum of log(1 - p) until selection). */
  add(node: number, p: number): void {
    if (this._combine === 'sum') this._weight[node]! += p;
    else if (this._combine === 'max') this._weight[node] = Math.max(this._weight[node]!, p);
    else this._weight[node]! += Math.log1p(-Math.min(p, 0.999999));
  }

  /** The child of parent holding token with p added to its estimate; -1 when the trie is full. */
  addChild(parent: number, token: number, p: number, source = 0): number {
    const c = this.child(parent, token, source);
    if (c >= 0) this.add(c, p);
    return c;
  }

  /** Mass of the candidates entering at the root: with 'sum', estimates are normalised by it when above 1. */
  addRootMass(p: number): void {
    this._rootMass += p;
  }

  /** A node's combined estimate in [0, 1]. */
  prob(node: number): number {
    const w = this._weight[node]!;
    if (this._combine === 'sum') return Math.min(1, w / Math.max(1, this._rootMass));
    if (this._combine === 'max') return Math.min(1, w);
    return 1 - Math.exp(w);
  }

  /** Adds another drafter's tree below the root, each node with weight(its own probability). */
  insertDraft(d: Draft, weight: (prob: number) => number, source = 0): void {
    const map = new Int32Array(d.tokens.length);
    for (let j = 0; j < d.tokens.length; j++) {
      const p = d.parents[j]!;
      const parent = p < 0 ? TRIE_ROOT : map[p]!;
      const w = weight(Math.min(1, Math.max(0, d.probs[j] ?? 0)));
      map[j] = parent < 0 ? -1 : this.addChild(parent, d.tokens[j]!, w, source);
      if (p < 0) this._rootMass += w;
    }
  }

  /**
   * The budget best nodes, best-first (highest estimate first, ties as the options say): every prefix of the
   * result is a valid tree in topological order.
   */
  select(budget: number, matchLen: number): Draft {
    const draft: Draft = { tokens: [], parents: [], probs: [], score: 0, matchLen, sources: [] };
    const heap = this._heap;
    heap.clear();
    this._pushChildren(TRIE_ROOT, -1);
    while (draft.tokens.length < budget && heap.size > 0) {
      const prob = heap.pop();
      const node = heap.a;
      const idx = draft.tokens.length;
      draft.tokens.push(this._token[node]!);
      draft.parents.push(heap.b);
      draft.probs.push(prob);
      draft.sources!.push(this._sources[this._source[node]!] ?? this._sources[0]!);
      draft.score += prob;
      this._pushChildren(node, idx);
    }
    return draft;
  }

  private _pushChildren(node: number, idx: number): void {
    for (let c = this._child[node]!; c !== -1; c = this._next[c]!) this._heap.push(this.prob(c), this._orderTies ? this._depth[c]! * 0x100000000 + c : 0, c, idx);
  }

  private _grow(): void {
    const size = this._token.length * 2;
    const i32 = (a: Int32Array<ArrayBuffer>): Int32Array<ArrayBuffer> => {
      const b = new Int32Array(size);
      b.set(a);
      return b;
    };
    this._token = i32(this._token);
    this._child = i32(this._child);
    this._next = i32(this._next);
    this._depth = i32(this._depth);
    const w = new Float64Array(size);
    w.set(this._weight);
    this._weight = w;
    const s = new Uint8Array(size);
    s.set(this._source);
    this._source = s;
  }
}

/** Longest root path of the draft whose tokens equal truth[from], truth[from+1], … (greedy acceptance). */
export function acceptedLength(draft: Draft, truth: ArrayLike<number>, from: number): number {
  const n = draft.tokens.length;
  // depth[j] > 0 when the whole root path of node j matches the truth; nodes come after their parents.
  const depth = new Int32Array(n);
  let best = 0;
  for (let j = 0; j < n; j++) {
    const p = draft.parents[j]!;
    const d = p < 0 ? 1 : depth[p]! > 0 ? depth[p]! + 1 : 0;
    if (d > 0 && from + d - 1 < truth.length && draft.tokens[j] === truth[from + d - 1]) {
      depth[j] = d;
      if (d > best) best = d;
    }
  }
  return best;
}
