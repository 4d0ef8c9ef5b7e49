// A KV cache that stays on the GPU (WebGPU): the forward of the graph variant `kvCache: 'device'` returns
// present_key.<l> / present_value.<l> = past + new entries as gpu-buffer tensors, which the next forward takes
// as its past. Accepting a tree path runs a small compaction graph on the device (Slice the committed prefix,
// Gather the accepted nodes, Concat), so per step only ids, positions, the tree's bias, the logits and the
// accepted indices cross the bus, never the cache. Slot 0 of every layer is a sink the graph masks out: WebGPU
// crashes on zero-length inputs, so the past is never empty.
//
// What onnxruntime-node 1.30 offers here: `preferredOutputLocation: 'gpu-buffer'` (all outputs or per name)
// returns WebGPU tensors, and such tensors are accepted as inputs by later runs of the same or another session.
// There is no IO binding of preallocated outputs, so a forward cannot append in place: each step's Concat copies
// the cache once on the device. getData() on a gpu-buffer tensor aborts the process, so reading the cache back
// (tests only) goes through a session whose outputs stay on the CPU.
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import { onnx } from 'onnx-proto';
import type { KvCache } from './kvCache';
import { isRootPath } from './treeMask';

type Ort = typeof import('onnxruntime-node');

const FLOAT = onnx.TensorProto.DataType.FLOAT;
const INT64 = onnx.TensorProto.DataType.INT64;

/** dst.<name> = Concat(Slice(src.<name>, 0..keep), Gather(src.<name>, tail)) along the position axis, per cache tensor. */
export function compactionGraph(names: readonly string[], kvHeads: number, headDim: number): Uint8Array {
  const dims = (p: string): onnx.ITensorShapeProto => ({ dim: [{ dimValue: 1 }, { dimValue: kvHeads }, { dimParam: p }, { dimValue: headDim }] });
  const nodes: onnx.INodeProto[] = [];
  const axis = { name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 2 };
  const zero = { name: 'const.zero', dataType: INT64, dims: [1], rawData: new Uint8Array(8) };
  const two = { name: 'const.two', dataType: INT64, dims: [1], rawData: new Uint8Array(BigInt64Array.of(2n).buffer) };
  for (const n of names) {
    nodes.push({ opType: 'Slice', input: [`src.${n}`, 'const.zero', 'keep', 'const.two'], output: [`${n}.prefix`] });
    nodes.push({ opType: 'Gather', input: [`src.${n}`, 'tail'], output: [`${n}.tail`], attribute: [axis] });
    nodes.push({ opType: 'Concat', input: [`${n}.prefix`, `${n}.tail`], output: [`dst.${n}`], attribute: [axis] });
  }
  const input: onnx.IValueInfoProto[] = [
    ...names.map((n) => ({ name: `src.${n}`, type: { tensorType: { elemType: FLOAT, shape: dims('src') } } })),
    { name: 'keep', type: { tensorType: { elemType: INT64, shape: { dim: [{ dimValue: 1 }] } } } },
    { name: 'tail', type: { tensorType: { elemType: INT64, shape: { dim: [{ dimParam: 'accepted' }] } } } },
  ];
  const output = names.map((n) => ({ name: `dst.${n}`, type: { tensorType: { elemType: FLOAT, shape: dims('dst') } } }));
  return onnx.ModelProto.encode(
    onnx.ModelProto.create({ irVersion: 8, producerName: 'presage', opsetImport: [{ domain: '', version: 17 }], graph: { name: 'kv_compaction', node: nodes, initializer: [zero, two], input, output } }),
  ).finish();
}

export interface DeviceKvCacheOptions {
  /** Test hook: every feed and fetch of the cache's own runs (to count the bytes that cross the bus). */
  onRun?: (feeds: Readonly<Record<string, Tensor>>, outputs: Readonly<Record<string, Tensor>>) => void;
}

type Pending = { keep: number; tail: number[] };

export class DeviceKvCache implements KvCache {
  readonly deviceOutputs: readonly string[];
  private readonly names: string[];
  /** Cache tensors in `names` order ([1,kvHeads,1+committed,D]); CPU tensors until the first forward uploads them. */
  private past: Tensor[];
  private committed = 0;
  private staged: { parents: readonly number[]; present: Tensor[] } | undefined;
  /** A compaction of `past` to run before the next forward (commit and truncate are synchronous). */
  private pending: Pending | undefined;

  private constructor(
    private readonly ort: Ort,
    private readonly compact: InferenceSession,
    private readonly readback: InferenceSession,
    readonly layers: number,
    readonly kvHeads: number,
    readonly headDim: number,
    readonly maxContext: number,
    private readonly options: DeviceKvCacheOptions,
  ) {
    this.names = [];
    for (let l = 0; l < layers; l++) this.names.push(`key.${l}`, `value.${l}`);
    this.deviceOutputs = this.names.map((n) => `present_${n}`);
    this.past = this.sinkOnly();
  }

  static async create(ort: Ort, layers: number, kvHeads: number, headDim: number, maxContext: number, options: DeviceKvCacheOptions = {}): Promise<DeviceKvCache> {
    const names: string[] = [];
    for (let l = 0; l < layers; l++) names.push(`key.${l}`, `value.${l}`);
    const graph = compactionGraph(names, kvHeads, headDim);
    const base: InferenceSession.SessionOptions = { executionProviders: ['webgpu'], logSeverityLevel: 3 };
    const compact = await ort.InferenceSession.create(graph, { ...base, preferredOutputLocation: 'gpu-buffer' });
    const readback = await ort.InferenceSession.create(graph, base);
    return new DeviceKvCache(ort, compact, readback, layers, kvHeads, headDim, maxContext, options);
  }

  /** Tests only: counts what the cache's own runs move across the bus. */
  instrument(onRun: DeviceKvCacheOptions['onRun']): void {
    this.options.onRun = onRun;
  }

  get length(): number {
    return this.committed;
  }

  private sinkOnly(): Tensor[] {
    const zeros = new this.ort.Tensor('float32', new Float32Array(this.kvHeads * this.headDim), [1, this.kvHeads, 1, this.headDim]);
    return this.names.map(() => zeros);
  }

  private replacePast(next: Tensor[]): void {
    for (const t of this.past) if (!next.includes(t) && t.location === 'gpu-buffer') t.dispose();
    this.past = next;
  }

  /** Runs the compaction graph over `src`: slots [0, keep) then the slots in `tail`. */
  private async compactFrom(src: readonly Tensor[], keep: number, tail: readonly number[], session = this.compact): Promise<Tensor[]> {
    const T = this.ort.Tensor;
    const feeds: Record<string, Tensor> = {
      keep: new T('int64', BigInt64Array.of(BigInt(keep)), [1]),
      tail: new T('int64', BigInt64Array.from(tail, (i) => BigInt(i)), [tail.length]),
    };
    this.names.forEach((n, i) => (feeds[`src.${n}`] = src[i]!));
    const out = await session.run(feeds);
    this.options.onRun?.(feeds, out);
    return this.names.map((n) => out[`dst.${n}`]!);
  }

  /** Applies a pending compaction, and moves a host-side past (synthetic context) to the device once. */
  async flush(): Promise<void> {
    const pending = this.pending;
    this.pending = undefined;
    if (pending) this.replacePast(await this.compactFrom(this.past, pending.keep, pending.tail));
    else if (this.committed > 0 && this.past[0]!.location === 'cpu') this.replacePast(await this.compactFrom(this.past, this.committed, [this.committed]));
  }

  pastFeeds(count: number): Record<string, Tensor> {
    if (this.pending) throw new Error('DeviceKvCache: flush() must run before pastFeeds()');
    if (this.committed + count > this.maxContext) throw new Error(`context of ${this.committed + count} tokens exceeds the model's maximum of ${this.maxContext}`);
    const feeds: Record<string, Tensor> = {};
    this.names.forEach((n, i) => (feeds[`past_${n}`] = this.past[i]!));
    return feeds;
  }

  stageOutputs(parents: readonly number[], outputs: Readonly<Record<string, Tensor>>): void {
    this.discardStaged();
    this.staged = { parents, present: this.names.map((n) => outputs[`present_${n}`]!) };
  }

  commit(accepted: readonly number[]): void {
    const staged = this.staged;
    if (!staged) {
      if (accepted.length === 0) return;
      throw new Error('commit: no forward pass to commit from');
    }
    if (!isRootPath(accepted, staged.parents)) throw new Error(`commit: nodes [${accepted.join(', ')}] are not a root path of the last tree`);
    this.staged = undefined;
    if (accepted.length === 0) {
      for (const t of staged.present) t.dispose();
      return;
    }
    const base = 1 + this.committed; // the sink plus the committed positions
    this.replacePast(staged.present);
    // A linear run accepted whole is already laid out right; otherwise move the accepted nodes down.
    if (accepted.length !== staged.parents.length || accepted.some((n, i) => n !== i)) this.pending = { keep: base, tail: accepted.map((n) => base + n) };
    this.committed += accepted.length;
  }

  discardStaged(): void {
    if (!this.staged) return;
    for (const t of this.staged.present) t.dispose();
    this.staged = undefined;
  }

  truncate(n: number): void {
    if (!Number.isInteger(n) || n < 0 || n > this.committed) throw new Error(`truncate: ${n} is not within the committed context of ${this.committed}`);
    this.discardStaged();
    if (n === this.committed) return;
    if (n === 0) {
      this.pending = undefined;
      this.replacePast(this.sinkOnly());
    } else {
      // Keep slots 0..n (the sink and n positions). Slot n goes through the Gather, which never gets an empty
      // index list; a compaction still pending is shortened instead (its slots are [0, keep) then its tail).
      const p = this.pending ?? { keep: this.committed + 1, tail: [] };
      this.pending = n + 1 <= p.keep ? { keep: n, tail: [n] } : { keep: p.keep, tail: p.tail.slice(0, n + 1 - p.keep) };
    }
    this.committed = n;
  }

  fillSynthetic(n: number): void {
    if (n > this.maxContext) throw new Error(`context of ${n} tokens exceeds the model's maximum of ${this.maxContext}`);
    this.discardStaged();
    this.pending = undefined;
    const size = this.kvHeads * (n + 1) * this.headDim;
    this.replacePast(this.names.map(() => new this.ort.Tensor('float32', new Float32Array(size), [1, this.kvHeads, n + 1, this.headDim])));
    this.committed = n;
  }

  /** Tests only (not for the decode loop): the committed cache copied to the host, per layer [kvHead][position][D]. */
  async download(): Promise<{ keys: Float32Array[]; values: Float32Array[] }> {
    await this.flush();
    const keys: Float32Array[] = [];
    const values: Float32Array[] = [];
    if (this.committed === 0) {
      for (let l = 0; l < this.layers; l++) {
        keys.push(new Float32Array(0));
        values.push(new Float32Array(0));
      }
      return { keys, values };
    }
    // The sink (keep = 1) then slots 1..committed, through the session whose outputs stay on the CPU.
    const out = await this.compactFrom(this.past, 1, Array.from({ length: this.committed }, (_, i) => i + 1), this.readback);
    const d = this.headDim;
    const c = this.committed;
    out.forEach((t, i) => {
      const data = t.data as Float32Array;
      const stripped = new Float32Array(this.kvHeads * c * d);
      for (let h = 0; h < this.kvHeads; h++) stripped.set(data.subarray((h * (c + 1) + 1) * d, (h + 1) * (c + 1) * d), h * c * d);
      (i % 2 === 0 ? keys : values).push(stripped);
    });
    return { keys, values };
  }

  dispose(): void {
    this.discardStaged();
    this.replacePast([]);
    void this.compact.release().catch(() => undefined);
    void this.readback.release().catch(() => undefined);
  }
}
