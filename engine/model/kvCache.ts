// Per-layer key/value storage laid out [position, kvHeads, headDim], so the committed prefix is one contiguous
// view that feeds the graph's past input without copying. New entries are staged after it; commit moves
// only the accepted entries down.
import { isRootPath } from './treeMask';

export class KvCache {
  private keys: Float32Array[];
  private values: Float32Array[];
  private capacity: number;
  private committed = 0;
  private staged: readonly number[] | undefined;

  constructor(
    readonly layers: number,
    /** Floats per position (kvHeads * headDim). */
    readonly stride: number,
    readonly maxContext: number,
    initialCapacity = 256,
  ) {
    this.capacity = Math.max(1, Math.min(initialCapacity, maxContext));
    this.keys = Array.from({ length: layers }, () => new Float32Array(this.capacity * stride));
    this.values = Array.from({ length: layers }, () => new Float32Array(this.capacity * stride));
  }

  get length(): number {
    return this.committed;
  }

  /** Zero-copy views of the committed prefix of one layer. */
  past(layer: number): { key: Float32Array; value: Float32Array } {
    const n = this.committed * this.stride;
    return { key: this.keys[layer]!.subarray(0, n), value: this.values[layer]!.subarray(0, n) };
  }

  private ensure(positions: number): void {
    if (positions > this.maxContext) throw new Error(`context of ${positions} tokens exceeds the model's maximum of ${this.maxContext}`);
    if (positions <= this.capacity) return;
    let cap = this.capacity;
    while (cap < positions) cap *= 2;
    cap = Math.min(cap, this.maxContext);
    const keep = this.committed * this.stride;
    const grow = (old: Float32Array): Float32Array => {
      const next = new Float32Array(cap * this.stride);
      next.set(old.subarray(0, keep));
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
    const at = this.committed * this.stride;
    for (let l = 0; l < this.layers; l++) {
      this.keys[l]!.set(newKeys[l]!, at);
      this.values[l]!.set(newValues[l]!, at);
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
    const s = this.stride;
    for (let i = 0; i < accepted.length; i++) {
      const from = this.committed + accepted[i]!;
      const to = this.committed + i;
      if (from === to) continue;
      for (let l = 0; l < this.layers; l++) {
        this.keys[l]!.copyWithin(to * s, from * s, (from + 1) * s);
        this.values[l]!.copyWithin(to * s, from * s, (from + 1) * s);
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
