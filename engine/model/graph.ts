// Builds the ONNX graph of a Llama/Qwen2 decoder with a tree-attention bias input, using onnx-proto.
// Inputs: input_ids [1,S], position_ids [1,S], attention_bias [1,1,S,P+S] (additive float),
// past_key.<layer>.<kvHead> / past_value.<layer>.<kvHead> [1,1,P,headDim]. Outputs: logits [1,S,vocab],
// new_key.<layer> / new_value.<layer> [1,S,kvHeads,headDim] (only the new entries).
// Weights go to an external data file (models over 2 GB cannot live inside one protobuf).
import fs from 'node:fs';
import { onnx } from 'onnx-proto';
import { ropeInvFreq, type ModelConfig } from './config';
import { quantizeWeight } from './quantize';
import { layerPrefix } from './weights';
import type { Quantization } from './types';

export const GRAPH_BUILDER_VERSION = 4;

export interface GraphBuildOptions {
  quantization: Quantization;
  /** Block size of MatMulNBits quantization (power of two, >= 16). */
  blockSize: number;
  /** MatMulNBits accuracy_level: 0 = float compute, 4 = int8 activations (faster on CPU). */
  accuracyLevel: number;
}

export const DEFAULT_BUILD_OPTIONS: GraphBuildOptions = { quantization: 'none', blockSize: 32, accuracyLevel: 4 };

export type WeightSource = (name: string, shape: readonly number[]) => Float32Array;

const FLOAT = onnx.TensorProto.DataType.FLOAT;
const INT64 = onnx.TensorProto.DataType.INT64;
const UINT8 = onnx.TensorProto.DataType.UINT8;
const ALIGN = 4096;

/** Appends tensor bytes to the external data file, page-aligned so ORT can map them. */
class ExternalData {
  private offset = 0;
  constructor(private readonly fd: number, readonly location: string) {}
  append(bytes: Uint8Array): { offset: number; length: number } {
    const pad = (ALIGN - (this.offset % ALIGN)) % ALIGN;
    if (pad) {
      fs.writeSync(this.fd, new Uint8Array(pad));
      this.offset += pad;
    }
    const at = this.offset;
    let done = 0;
    while (done < bytes.length) done += fs.writeSync(this.fd, bytes, done, Math.min(bytes.length - done, 1 << 30));
    this.offset += bytes.length;
    return { offset: at, length: bytes.length };
  }
}

type Attr = number | number[] | string | { float: number };

class Graph {
  readonly nodes: onnx.INodeProto[] = [];
  readonly initializers: onnx.ITensorProto[] = [];
  private counter = 0;
  constructor(private readonly external: ExternalData) {}

  op(type: string, inputs: string[], attrs: Record<string, Attr> = {}, domain = '', outputs?: string[]): string {
    const out = outputs ?? [`${type}_${this.counter++}`];
    const attribute: onnx.IAttributeProto[] = Object.entries(attrs).map(([name, v]) => {
      if (typeof v === 'number') return { name, type: onnx.AttributeProto.AttributeType.INT, i: v };
      if (typeof v === 'string') return { name, type: onnx.AttributeProto.AttributeType.STRING, s: new TextEncoder().encode(v) };
      if (Array.isArray(v)) return { name, type: onnx.AttributeProto.AttributeType.INTS, ints: v };
      return { name, type: onnx.AttributeProto.AttributeType.FLOAT, f: v.float };
    });
    this.nodes.push({ opType: type, input: inputs, output: out, attribute, domain, name: `${type}_${this.nodes.length}` });
    return out[0]!;
  }

  tensor(name: string, dataType: number, dims: number[], bytes: Uint8Array): string {
    if (bytes.length <= 1024) {
      this.initializers.push({ name, dataType, dims, rawData: bytes });
    } else {
      const { offset, length } = this.external.append(bytes);
      this.initializers.push({
        name,
        dataType,
        dims,
        dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
        externalData: [
          { key: 'location', value: this.external.location },
          { key: 'offset', value: String(offset) },
          { key: 'length', value: String(length) },
        ],
      });
    }
    return name;
  }

  floats(name: string, data: Float32Array, dims: number[]): string {
    return this.tensor(name, FLOAT, dims, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  }

  ints(name: string, values: number[]): string {
    const data = BigInt64Array.from(values.map((v) => BigInt(v)));
    return this.tensor(name, INT64, [values.length], new Uint8Array(data.buffer));
  }

  scalar(name: string, value: number): string {
    return this.floats(name, Float32Array.of(value), []);
  }
}

/** [rows, cols] -> [cols, rows], in 64×64 tiles to stay cache-friendly on large matrices. */
export function transpose(w: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(w.length);
  const T = 64;
  for (let r0 = 0; r0 < rows; r0 += T) {
    const r1 = Math.min(rows, r0 + T);
    for (let c0 = 0; c0 < cols; c0 += T) {
      const c1 = Math.min(cols, c0 + T);
      for (let r = r0; r < r1; r++) for (let c = c0; c < c1; c++) out[c * rows + r] = w[r * cols + c]!;
    }
  }
  return out;
}

function valueInfo(name: string, elemType: number, dims: (number | string)[]): onnx.IValueInfoProto {
  return {
    name,
    type: { tensorType: { elemType, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
  };
}

export interface BuiltGraph {
  /** Serialized ModelProto; initializers over 1 KB point into the external data file. */
  model: Uint8Array;
  inputNames: string[];
  outputNames: string[];
}

/**
 * Builds the graph, writing weights to `externalFd` (to be saved as `externalLocation` next to the model).
 * `onProgress` gets the fraction of layers done.
 */
export function buildGraph(
  c: ModelConfig,
  weights: WeightSource,
  options: GraphBuildOptions,
  externalFd: number,
  externalLocation: string,
  onProgress?: (fraction: number) => void,
): BuiltGraph {
  const g = new Graph(new ExternalData(externalFd, externalLocation));
  const H = c.hiddenSize;
  const D = c.headDim;
  const nH = c.numHeads;
  const kvH = c.numKvHeads;
  const group = nH / kvH;
  const quantBits = options.quantization === 'int4' ? 4 : options.quantization === 'int8' ? 8 : 0;
  if (quantBits && (options.blockSize < 16 || (options.blockSize & (options.blockSize - 1)) !== 0)) {
    throw new Error(`quantization block size must be a power of two >= 16, got ${options.blockSize}`);
  }

  const linear = (x: string, name: string, outDim: number, inDim: number, bias: boolean): string => {
    const w = weights(`${name}.weight`, [outDim, inDim]);
    let y: string;
    if (quantBits) {
      const q = quantizeWeight(w, outDim, inDim, quantBits as 4 | 8, options.blockSize);
      const blob = (options.blockSize * quantBits) / 8;
      const b = g.tensor(`${name}.qweight`, UINT8, [outDim, q.blocksPerCol, blob], q.data);
      const s = g.floats(`${name}.scales`, q.scales, [outDim * q.blocksPerCol]);
      y = g.op('MatMulNBits', [x, b, s], { K: inDim, N: outDim, bits: quantBits, block_size: options.blockSize, accuracy_level: options.accuracyLevel }, 'com.microsoft');
    } else {
      y = g.op('MatMul', [x, g.floats(`${name}.weight_t`, transpose(w, outDim, inDim), [inDim, outDim])]);
    }
    if (bias) y = g.op('Add', [y, g.floats(`${name}.bias`, weights(`${name}.bias`, [outDim]), [outDim])]);
    return y;
  };

  const two = g.scalar('const.two', 2);
  const eps = g.scalar('const.eps', c.rmsNormEps);
  const rmsNorm = (x: string, name: string): string => {
    const ms = g.op('ReduceMean', [g.op('Pow', [x, two])], { axes: [-1], keepdims: 1 });
    const normed = g.op('Div', [x, g.op('Sqrt', [g.op('Add', [ms, eps])])]);
    return g.op('Mul', [normed, g.floats(name, weights(name, [H]), [H])]);
  };

  // Rotary tables for this call's positions: cos/sin [1,S,1,D].
  const invFreq = Float32Array.from(ropeInvFreq(c));
  const posF = g.op('Unsqueeze', [g.op('Cast', ['position_ids'], { to: FLOAT }), g.ints('const.axis2', [2])]);
  const freqs = g.op('Mul', [posF, g.floats('rope.inv_freq', invFreq, [D / 2])]);
  const angles = g.op('Unsqueeze', [g.op('Concat', [freqs, freqs], { axis: -1 }), g.ints('const.axis2b', [2])]);
  const cos = g.op('Cos', [angles]);
  const sin = g.op('Sin', [angles]);
  const halves = g.ints('const.halves', [D / 2, D / 2]);
  const rope = (x: string): string => {
    const a = `${x}_lo`;
    const b = `${x}_hi`;
    g.op('Split', [x, halves], { axis: -1 }, '', [a, b]);
    const rotated = g.op('Concat', [g.op('Neg', [b]), a], { axis: -1 });
    return g.op('Add', [g.op('Mul', [x, cos]), g.op('Mul', [rotated, sin])]);
  };

  const qShape = g.ints('const.q_shape', [0, 0, nH, D]);
  const kvShape = g.ints('const.kv_shape', [0, 0, kvH, D]);
  const groupedShape = g.ints('const.grouped_shape', [1, kvH, -1, D]);
  const headsShape = g.ints('const.heads_shape', [1, nH, -1, D]);
  const mergedShape = g.ints('const.merged_shape', [0, 0, nH * D]);
  const scale = g.scalar('const.scale', 1 / Math.sqrt(D));
  // Query heads h = kv * group + g share kv head `kv`: grouped rows are ordered (g, s), so the [S, P+S] bias tiles `group` times.
  const bias = group > 1 ? g.op('Tile', ['attention_bias', g.ints('const.bias_tile', [1, 1, group, 1])]) : 'attention_bias';

  const headSplit = g.ints('const.head_split', Array.from({ length: kvH }, () => 1));
  const perKvHead = (x: string): string[] => {
    if (kvH === 1) return [x];
    const outs = Array.from({ length: kvH }, (_, h) => `${x}_h${h}`);
    g.op('Split', [x, headSplit], { axis: 1 }, '', outs);
    return outs;
  };
  // [P, S] split sizes of the score columns, computed once from the input shapes.
  let splitSizes: string | undefined;
  const pastAndNew = (): string =>
    (splitSizes ??= g.op('Concat', [
      g.op('Shape', ['past_key.0.0'], { start: 2, end: 3 }),
      g.op('Shape', ['input_ids'], { start: 1, end: 2 }),
    ], { axis: 0 }));
  // Quantized models keep the embedding table quantized too (GatherBlockQuantized) when whole blocks fit a row;
  // the fp32 table is only materialised when the unquantized head needs it.
  const embedW = weights('model.embed_tokens.weight', [c.vocabSize, H]);
  const quantizeEmbedding = quantBits > 0 && H % options.blockSize === 0;
  let embed = '';
  let x: string;
  if (quantizeEmbedding) {
    const q = quantizeWeight(embedW, c.vocabSize, H, quantBits as 4 | 8, options.blockSize);
    const data = g.tensor('model.embed_tokens.qweight', UINT8, [c.vocabSize, (H * quantBits) / 8], q.data);
    const scales = g.floats('model.embed_tokens.scales', q.scales, [c.vocabSize, q.blocksPerCol]);
    const zeroPerRow = quantBits === 4 ? Math.ceil(q.blocksPerCol / 2) : q.blocksPerCol;
    const zeros = g.tensor('model.embed_tokens.zero_points', UINT8, [c.vocabSize, zeroPerRow], new Uint8Array(c.vocabSize * zeroPerRow).fill(quantBits === 4 ? 0x88 : 128));
    x = g.op('GatherBlockQuantized', [data, 'input_ids', scales, zeros], { gather_axis: 0, quantize_axis: 1, block_size: options.blockSize, bits: quantBits }, 'com.microsoft');
  } else {
    embed = g.floats('model.embed_tokens.weight', embedW, [c.vocabSize, H]);
    x = g.op('Gather', [embed, 'input_ids'], { axis: 0 });
  }
  const inputs = [valueInfo('input_ids', INT64, [1, 'seq']), valueInfo('position_ids', INT64, [1, 'seq']), valueInfo('attention_bias', FLOAT, [1, 1, 'seq', 'total'])];
  const outputs = [valueInfo('logits', FLOAT, [1, 'seq', c.vocabSize])];

  for (let l = 0; l < c.numLayers; l++) {
    const p = layerPrefix(l);
    const xn = rmsNorm(x, `${p}.input_layernorm.weight`);
    const q = rope(g.op('Reshape', [linear(xn, `${p}.self_attn.q_proj`, nH * D, H, c.qkvBias), qShape]));
    g.op('Identity', [rope(g.op('Reshape', [linear(xn, `${p}.self_attn.k_proj`, kvH * D, H, c.qkvBias), kvShape]))], {}, '', [`new_key.${l}`]);
    g.op('Reshape', [linear(xn, `${p}.self_attn.v_proj`, kvH * D, H, c.qkvBias), kvShape], {}, '', [`new_value.${l}`]);
    outputs.push(valueInfo(`new_key.${l}`, FLOAT, [1, 'seq', kvH, D]), valueInfo(`new_value.${l}`, FLOAT, [1, 'seq', kvH, D]));
    const qg = g.op('Reshape', [g.op('Transpose', [g.op('Mul', [q, scale])], { perm: [0, 2, 1, 3] }), groupedShape]); // [1,kvH,G*S,D]
    const toHeads = (x: string): string => g.op('Transpose', [x], { perm: [0, 2, 1, 3] }); // [1,S,kvH,D] -> [1,kvH,S,D]
    const qs = perKvHead(qg);
    const ks = perKvHead(toHeads(`new_key.${l}`));
    const vs = perKvHead(toHeads(`new_value.${l}`));
    // Each kv head reads its cached [P, D] block as stored: K through FusedMatMul's transB, V directly.
    const heads = qs.map((qh, h) => {
      const pastK = `past_key.${l}.${h}`;
      const pastV = `past_value.${l}.${h}`;
      inputs.push(valueInfo(pastK, FLOAT, [1, 1, 'past', D]), valueInfo(pastV, FLOAT, [1, 1, 'past', D]));
      const scores = g.op('Concat', [g.op('FusedMatMul', [qh, pastK], { transB: 1 }, 'com.microsoft'), g.op('FusedMatMul', [qh, ks[h]!], { transB: 1 }, 'com.microsoft')], { axis: -1 });
      const probs = g.op('Softmax', [g.op('Add', [scores, bias])], { axis: -1 }); // [1,1,G*S,P+S]
      const pPast = `${probs}_past`;
      const pNew = `${probs}_new`;
      g.op('Split', [probs, pastAndNew()], { axis: -1 }, '', [pPast, pNew]);
      return g.op('Add', [g.op('MatMul', [pPast, pastV]), g.op('MatMul', [pNew, vs[h]!])]);
    });
    const ctx = heads.length === 1 ? heads[0]! : g.op('Concat', heads, { axis: 1 }); // [1,kvH,G*S,D]
    const merged = g.op('Reshape', [g.op('Transpose', [g.op('Reshape', [ctx, headsShape])], { perm: [0, 2, 1, 3] }), mergedShape]);
    const h1 = g.op('Add', [x, linear(merged, `${p}.self_attn.o_proj`, H, nH * D, c.oBias)]);
    const hn = rmsNorm(h1, `${p}.post_attention_layernorm.weight`);
    const gate = linear(hn, `${p}.mlp.gate_proj`, c.intermediateSize, H, c.mlpBias);
    const up = linear(hn, `${p}.mlp.up_proj`, c.intermediateSize, H, c.mlpBias);
    const act = g.op('Mul', [g.op('Mul', [gate, g.op('Sigmoid', [gate])]), up]);
    x = g.op('Add', [h1, linear(act, `${p}.mlp.down_proj`, H, c.intermediateSize, c.mlpBias)]);
    onProgress?.((l + 1) / c.numLayers);
  }

  const xf = rmsNorm(x, 'model.norm.weight');
  const headName = c.tieWordEmbeddings ? 'model.embed_tokens' : 'lm_head';
  if (quantBits) {
    const w = weights(`${headName}.weight`, [c.vocabSize, H]);
    const q = quantizeWeight(w, c.vocabSize, H, quantBits as 4 | 8, options.blockSize);
    const blob = (options.blockSize * quantBits) / 8;
    const b = g.tensor('lm_head.qweight', UINT8, [c.vocabSize, q.blocksPerCol, blob], q.data);
    const s = g.floats('lm_head.scales', q.scales, [c.vocabSize * q.blocksPerCol]);
    g.op('MatMulNBits', [xf, b, s], { K: H, N: c.vocabSize, bits: quantBits, block_size: options.blockSize, accuracy_level: options.accuracyLevel }, 'com.microsoft', ['logits']);
  } else {
    // Gemm with transB reads the [vocab, hidden] matrix as stored, so tied embeddings are not duplicated.
    const headW = c.tieWordEmbeddings ? embed : g.floats('lm_head.weight', weights('lm_head.weight', [c.vocabSize, H]), [c.vocabSize, H]);
    const flat = g.op('Reshape', [xf, g.ints('const.flat', [-1, H])]);
    const logits2d = g.op('Gemm', [flat, headW], { transB: 1 });
    g.op('Reshape', [logits2d, g.ints('const.logits_shape', [1, -1, c.vocabSize])], {}, '', ['logits']);
  }

  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'presage',
    producerVersion: String(GRAPH_BUILDER_VERSION),
    opsetImport: [
      { domain: '', version: 17 },
      { domain: 'com.microsoft', version: 1 },
    ],
    graph: { name: c.architecture, node: g.nodes, initializer: g.initializers, input: inputs, output: outputs },
  });
  return {
    model: onnx.ModelProto.encode(model).finish(),
    inputNames: inputs.map((i) => i.name!),
    outputNames: outputs.map((o) => o.name!),
  };
}
