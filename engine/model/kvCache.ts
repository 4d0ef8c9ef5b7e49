// The KV cache seam between the model session and where the cache lives. `KvCache` is what session.ts uses;
// `HostKvCache` keeps it in host memory; a device implementation keeps it in GPU buffers behind the same verbs.
//
// HostKvCache: per-layer key/value storage laid out [kvHead, position, headDim]: each head's committed prefix is
// one contiguous [P, headDim] view that feeds the graph's past input for that head without copying (and in the
// layout MatMul reads directly, so the graph never transposes the cache). A forward stages its new entries after
// the prefix; commit moves only the accepted entries down.
import type { Tensor } from 'onnxruntime-node';
import { isRootPath } from './treeMask';

type TensorConstructor = typeof import('onnxruntime-node').Tensor;

export interface KvCache {
  /** Positions committed so far. */
  readonly length: number;
  /** Graph outputs the cache wants left where the session produced them (preferredOutputLocation 'gpu-buffer'). */
  readonly deviceOutputs: readonly string[];
  /** Finishes device work that commit/truncate queued (they are synchronous); runs before every forward. */
  flush(): Promise<void>;
  /** The graph's past inputs for a forward of `count` new tokens (checks room). */
  pastFeeds(count: number): Record<string, Tensor>;
  /** Takes the new entries (new_key.<l> / new_value.<l> outputs) of a forward over a tree with these parents. */
  stageOutputs(parents: readonly number[], outputs: Readonly<Record<string, Tensor>>): void;
  /** Keeps the accepted staged nodes (a root path, in order) as the next committed positions. */
  commit(accepted: readonly number[]): void;
  /** Drops staged entries without committing any. */
  discardStaged(): void;
  /** Shrinks the committed context to its first n positions. */
  truncate(n: number): void;
  /** Benchmarks only: treats n positions (zeros or stale values) as committed, without running the model. */
  fillSynthetic(n: number): void;
  /** Frees device memory, if any. */
  dispose(): void;
}

export class HostKvCache implements KvCache {
  readonly deviceOutputs: readonly string[] = [];
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
    private readonly tensor?: TensorConstructor,
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

  async flush(): Promise<void> {
    // host memory: commit and truncate already took effect
  }

  pastFeeds(count: number): Record<string, Tensor> {
    const T = this.tensor;
    if (!T) throw new Error('HostKvCache: constructed without the onnxruntime Tensor class');
    this.reserve(count);
    const feeds: Record<string, Tensor> = {};
    const dims = [1, 1, this.committed, this.headDim];
    for (let l = 0; l < this.layers; l++) {
      for (let h = 0; h < this.kvHeads; h++) {
        const kv = this.past(l, h);
        feeds[`past_key.${l}.${h}`] = new T('float32', kv.key, dims);
        feeds[`past_value.${l}.${h}`] = new T('float32', kv.value, dims);
      }
    }
    return feeds;
  }

  stageOutputs(parents: readonly number[], outputs: Readonly<Record<string, Tensor>>): void {
    const keys: Float32Array[] = [];
    const values: Float32Array[] = [];
    for (let l = 0; l < this.layers; l++) {
      keys.push(outputs[`new_key.${l}`]!.data as Float32Array);
      values.push(outputs[`new_value.${l}`]!.data as Float32Array);
    }
    this.stage(parents, keys, values);
  }

  dispose(): void {
    this.staged = undefined;
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
