// Per-layer key/value storage laid out [kvHead, position, headDim]: each head's committed prefix is one contiguous
// [P, headDim] view that feeds the graph's past input for that head without copying (and in the layout MatMul
// reads directly, so the graph never transposes the cache). A forward stages its new entries after the prefix;
// commit moves only the accepted entries down.
import { isRootPath } from './treeMask';

export class KvCache {
  private keys: Float32Array[];
  private values: Float32Array[];
  private capacity: number;
  private committed = 0;
  private staged: readonly number[] | undefined;

  constructor(
    readonly layers: number,
    readonly kvHeads: number,
    readonly headDim: number,
    readonly maxContext: number,
    initialCapacity = 256,
  ) {
    this.capacity = Math.max(1, Math.min(initialCapacity, maxContext));
    this.keys = Array.from({ length: layers }, () => new Float32Array(kvHeads * this.capacity * headDim));
    this.values = Array.from({ length: layers }, () => new Float32Array(kvHeads * this.capacity * headDim));
  }

  get length(): number {
    return this.committed;
  }

  /** Zero-copy views [P, headDim] of the committed prefix of one layer's head. */
  past(layer: number, head: number): { key: Float32Array; value: Float32Array } {
    const start = head * this.capacity * this.headDim;
    const end = start + this.committed * this.headDim;
    return { key: this.keys[layer]!.subarray(start, end), value: this.values[layer]!.subarray(start, end) };
  }

  private ensure(positions: number): void {
    if (positions > this.maxContext) throw new Error(`context of ${positions} tokens exceeds the model's maximum of ${this.maxContext}`);
    if (positions <= this.capacity) return;
    let cap = this.capacity;
    while (cap < positions) cap *= 2;
    cap = Math.min(cap, this.maxContext);
    const keep = this.committed * this.headDim;
    const grow = (old: Float32Array): Float32Array => {
      const next = new Float32Array(this.kvHeads * cap * this.headDim);
      for (let h = 0; h < this.kvHeads; h++) {
        const from = h * this.capacity * this.headDim;
        next.set(old.subarray(from, from + keep), h * cap * this.headDim);
      }
      return next;
    };
    this.keys = this.keys.map(grow);
    this.values = this.values.map(grow);
    this.capacity = cap;
  }

  /** Checks room for `count` new entries (before running the model). */
  reserve(count: number): void {
    this.ensure(this.committed + count);
  }

  /** Stores the last forward's new entries ([S, kvHeads, headDim] per layer) after the committed prefix. */
  stage(parents: readonly number[], newKeys: readonly Float32Array[], newValues: readonly Float32Array[]): void {
    this.ensure(this.committed + parents.length);
    const d = this.headDim;
    for (let l = 0; l < this.layers; l++) {
      const k = this.keys[l]!;
      const v = this.values[l]!;
      const nk = newKeys[l]!;
      const nv = newValues[l]!;
      for (let j = 0; j < parents.length; j++) {
        for (let h = 0; h < this.kvHeads; h++) {
          const src = (j * this.kvHeads + h) * d;
          const dst = (h * this.capacity + this.committed + j) * d;
          k.set(nk.subarray(src, src + d), dst);
          v.set(nv.subarray(src, src + d), dst);
        }
      }
    }
    this.staged = parents;
  }

  /** Keeps the accepted staged nodes (a root path, in order) as the next committed positions. */
  commit(accepted: readonly number[]): void {
    const parents = this.staged;
    if (!parents) {
      if (accepted.length === 0) return;
      throw new Error('commit: no forward pass to commit from');
    }
    if (!isRootPath(accepted, parents)) throw new Error(`commit: nodes [${accepted.join(', ')}] are not a root path of the last tree`);
    const d = this.headDim;
    for (let i = 0; i < accepted.length; i++) {
      const from = this.committed + accepted[i]!;
      const to = this.committed + i;
      if (from === to) continue;
      for (let l = 0; l < this.layers; l++) {
        for (let h = 0; h < this.kvHeads; h++) {
          const base = h * this.capacity;
          this.keys[l]!.copyWithin((base + to) * d, (base + from) * d, (base + from + 1) * d);
          this.values[l]!.copyWithin((base + to) * d, (base + from) * d, (base + from + 1) * d);
        }
      }
    }
    this.committed += accepted.length;
    this.staged = undefined;
  }

  /** Drops staged entries without committing any. */
  discardStaged(): void {
    this.staged = undefined;
  }

  /** Benchmarks only: treats n positions (zeros or stale values) as committed, without running the model. */
  fillSynthetic(n: number): void {
    this.ensure(n);
    this.committed = n;
    this.staged = undefined;
  }

  truncate(n: number): void {
    if (!Number.isInteger(n) || n < 0 || n > this.committed) throw new Error(`truncate: ${n} is not within the committed context of ${this.committed}`);
    this.committed = n;
    this.staged = undefined;
  }
}
