// Shared graph blocks (norm, linear, rope, tree attention over the KV cache, MLP, embedding, LM head) that the
// architecture modules compose, like llama.cpp's build_norm / build_qkv / build_attn / build_ffn.
// The graph's interface is the same for every architecture (session.ts depends on it):
// inputs input_ids [1,S], position_ids [1,S], attention_bias [1,1,S,P+S] (additive float), logit_rows [R] (the
// nodes whose logits are wanted), past_key.<layer>.<kvHead> / past_value.<layer>.<kvHead> [1,1,P,headDim];
// outputs logits [1,R,vocab] (and hidden_states [1,R,hidden] when built with hiddenStates), new_key.<layer> / new_value.<layer> [1,S,kvHeads,headDim] (only the new entries).
// Blocks create their constants when they are made, so an architecture that builds them in the same order
// yields the same bytes (and the same graph-cache entry).
import type { onnx } from 'onnx-proto';
import type { ModelConfig } from '../config';
import type { GraphBuildOptions } from '../graph';
import { quantizeWeight } from '../quantize';
import { ExternalData, FLOAT, INT64, OnnxGraph, transpose, UINT8, valueInfo } from './onnxGraph';
import { ropeInvFreq } from './rope';
import { layerPrefix, type WeightSource } from './types';

export type Projection = 'q_proj' | 'k_proj' | 'v_proj';

/** A graph variant (e.g. the device KV cache) that this architecture cannot build; the loader uses the host graph. */
export class UnsupportedGraphVariant extends Error {}

export class DecoderGraph {
  readonly g: OnnxGraph;
  readonly inputs: onnx.IValueInfoProto[];
  readonly outputs: onnx.IValueInfoProto[];
  /** 0 for float weights, else the MatMulNBits bit width. */
  readonly quantBits: 0 | 4 | 8;
  /** A tied, quantized embedding's initializers, which the LM head reuses (set by embedding()). */
  private tiedHead: { data: string; scales: string } | undefined;

  constructor(
    readonly config: ModelConfig,
    readonly weights: WeightSource,
    readonly options: GraphBuildOptions,
    external: ExternalData,
  ) {
    this.g = new OnnxGraph(external);
    this.quantBits = options.quantization === 'int4' ? 4 : options.quantization === 'int8' ? 8 : 0;
    if (this.quantBits && (options.blockSize < 16 || (options.blockSize & (options.blockSize - 1)) !== 0)) {
      throw new Error(`quantization block size must be a power of two >= 16, got ${options.blockSize}`);
    }
    // A device cache's graph takes only the tree's own columns of the bias: the past is visible to every node.
    const biasColumns = options.kvCache === 'device' ? 'seq' : 'total';
    this.inputs = [valueInfo('input_ids', INT64, [1, 'seq']), valueInfo('position_ids', INT64, [1, 'seq']), valueInfo('attention_bias', FLOAT, [1, 1, 'seq', biasColumns]), valueInfo('logit_rows', INT64, ['rows'])];
    this.outputs = [valueInfo('logits', FLOAT, [1, 'rows', config.vocabSize])];
  }

  /** y = x Wᵀ (+ b) for a Hugging Face [out, in] weight `${name}.weight`; MatMulNBits when quantized. */
  linear(x: string, name: string, outDim: number, inDim: number, bias: boolean): string {
    const { g, options, quantBits } = this;
    const w = this.weights(`${name}.weight`, [outDim, inDim]);
    let y: string;
    if (quantBits) {
      const q = quantizeWeight(w, outDim, inDim, quantBits, options.blockSize);
      const blob = (options.blockSize * quantBits) / 8;
      const b = g.tensor(`${name}.qweight`, UINT8, [outDim, q.blocksPerCol, blob], q.data);
      const s = g.floats(`${name}.scales`, q.scales, [outDim * q.blocksPerCol]);
      y = g.op('MatMulNBits', [x, b, s], { K: inDim, N: outDim, bits: quantBits, block_size: options.blockSize, accuracy_level: options.accuracyLevel }, 'com.microsoft');
    } else {
      y = g.op('MatMul', [x, g.floats(`${name}.weight_t`, transpose(w, outDim, inDim), [inDim, outDim])]);
    }
    if (bias) y = g.op('Add', [y, g.floats(`${name}.bias`, this.weights(`${name}.bias`, [outDim]), [outDim])]);
    return y;
  }

  /** RMSNorm over the hidden size: x / sqrt(mean(x²) + eps) · w. */
  rmsNorm(): (x: string, weightName: string) => string {
    const { g, config: c } = this;
    const two = g.scalar('const.two', 2);
    const eps = g.scalar('const.eps', c.rmsNormEps);
    return (x, name) => {
      const ms = g.op('ReduceMean', [g.op('Pow', [x, two])], { axes: [-1], keepdims: 1 });
      const normed = g.op('Div', [x, g.op('Sqrt', [g.op('Add', [ms, eps])])]);
      return g.op('Mul', [normed, g.floats(name, this.weights(name, [c.hiddenSize]), [c.hiddenSize])]);
    };
  }

  /** Rotary embedding (rotate-half layout) of [1,S,heads,D] at this call's position_ids. */
  rotary(): (x: string) => string {
    const { g, config: c } = this;
    const D = c.headDim;
    // Rotary tables for this call's positions: cos/sin [1,S,1,D].
    const invFreq = Float32Array.from(ropeInvFreq(c));
    const posF = g.op('Unsqueeze', [g.op('Cast', ['position_ids'], { to: FLOAT }), g.ints('const.axis2', [2])]);
    const freqs = g.op('Mul', [posF, g.floats('rope.inv_freq', invFreq, [D / 2])]);
    const angles = g.op('Unsqueeze', [g.op('Concat', [freqs, freqs], { axis: -1 }), g.ints('const.axis2b', [2])]);
    const cos = g.op('Cos', [angles]);
    const sin = g.op('Sin', [angles]);
    const halves = g.ints('const.halves', [D / 2, D / 2]);
    return (x) => {
      const a = `${x}_lo`;
      const b = `${x}_hi`;
      g.op('Split', [x, halves], { axis: -1 }, '', [a, b]);
      const rotated = g.op('Concat', [g.op('Neg', [b]), a], { axis: -1 });
      return g.op('Add', [g.op('Mul', [x, cos]), g.op('Mul', [rotated, sin])]);
    };
  }

  /** Splits a [1, kvHeads, …] tensor into one tensor per KV head (the tensor itself when there is one head). */
  private kvHeadSplitter(kvH: number, headSplit: string): (x: string) => string[] {
    return (x) => {
      if (kvH === 1) return [x];
      const outs = Array.from({ length: kvH }, (_, h) => `${x}_h${h}`);
      this.g.op('Split', [x, headSplit], { axis: 1 }, '', outs);
      return outs;
    };
  }

  /** The head sizes and the shape constants both attention variants start from (declared once per graph). */
  private attentionShapes() {
    const { g, config: c } = this;
    const D = c.headDim;
    const nH = c.numHeads;
    const kvH = c.numKvHeads;
    return {
      D, nH, kvH,
      group: nH / kvH,
      qShape: g.ints('const.q_shape', [0, 0, nH, D]),
      kvShape: g.ints('const.kv_shape', [0, 0, kvH, D]),
      groupedShape: g.ints('const.grouped_shape', [1, kvH, -1, D]),
      headsShape: g.ints('const.heads_shape', [1, nH, -1, D]),
      mergedShape: g.ints('const.merged_shape', [0, 0, nH * D]),
      scale: g.scalar('const.scale', 1 / Math.sqrt(D)),
    };
  }

  /**
   * Grouped-query attention of the S new tokens over the cached past plus themselves, under the tree bias.
   * The returned function projects q/k/v through `project`, rotates q and k, exposes the new K/V as the
   * layer's outputs, declares the layer's past inputs, and returns the merged heads [1,S,heads·D].
   */
  treeAttention(rope: (x: string) => string): (layer: number, project: (which: Projection, outDim: number) => string) => string {
    const { g, config: c } = this;
    if (this.options.kvCache === 'device') throw new UnsupportedGraphVariant(`${c.architecture}: the host-cache attention was asked for in a device KV cache graph`);
    const { D, nH, kvH, group, qShape, kvShape, groupedShape, headsShape, mergedShape, scale } = this.attentionShapes();
    // Query heads h = kv * group + g share kv head `kv`: grouped rows are ordered (g, s), so the [S, P+S] bias tiles `group` times.
    const bias = group > 1 ? g.op('Tile', ['attention_bias', g.ints('const.bias_tile', [1, 1, group, 1])]) : 'attention_bias';
    const headSplit = g.ints('const.head_split', Array.from({ length: kvH }, () => 1));
    const perKvHead = this.kvHeadSplitter(kvH, headSplit);
    // [P, S] split sizes of the score columns, computed once from the input shapes.
    let splitSizes: string | undefined;
    const pastAndNew = (): string =>
      (splitSizes ??= g.op('Concat', [
        g.op('Shape', ['past_key.0.0'], { start: 2, end: 3 }),
        g.op('Shape', ['input_ids'], { start: 1, end: 2 }),
      ], { axis: 0 }));
    const toHeads = (x: string): string => g.op('Transpose', [x], { perm: [0, 2, 1, 3] }); // [1,S,kvH,D] -> [1,kvH,S,D]
    const zero = g.scalar('const.canonical_zero', 0);
    const lastFrom = g.ints('const.canonical_last_from', [-1]);
    const lastTo = g.ints('const.canonical_last_to', [2 ** 31 - 1]);
    const lastAxis = g.ints('const.canonical_last_axis', [3]);
    // tree_index / tree_bias / tree_inverse [S, S] (treeMask.ts canonicalTree), tiled over the query groups like the bias.
    type Canonical = { index: string; inverse: string; canonicalBias: string; pastBias: string };
    let canonicalParts: Canonical | undefined;
    const canonical = (): Canonical => {
      if (canonicalParts) return canonicalParts;
      this.inputs.push(valueInfo('tree_index', INT64, ['seq', 'seq']), valueInfo('tree_bias', FLOAT, ['seq', 'seq']), valueInfo('tree_inverse', INT64, ['seq', 'seq']));
      const leading = g.ints('const.canonical_axes', [0, 1]);
      const tile = group > 1 ? g.ints('const.canonical_tile', [1, 1, group, 1]) : '';
      const tiled = (x: string): string => {
        const r = g.op('Unsqueeze', [x, leading]); // [1,1,S,S]
        return tile ? g.op('Tile', [r, tile]) : r;
      };
      const pastLen = g.op('Shape', ['past_key.0.0'], { start: 2, end: 3 });
      const pastBias = g.op('Slice', [bias, g.ints('const.canonical_from', [0]), pastLen, g.ints('const.canonical_axis', [3])]);
      return (canonicalParts = { index: tiled('tree_index'), inverse: tiled('tree_inverse'), canonicalBias: tiled('tree_bias'), pastBias });
    };

    return (l, project) => {
      const q = rope(g.op('Reshape', [project('q_proj', nH * D), qShape]));
      g.op('Identity', [rope(g.op('Reshape', [project('k_proj', kvH * D), kvShape]))], {}, '', [`new_key.${l}`]);
      g.op('Reshape', [project('v_proj', kvH * D), kvShape], {}, '', [`new_value.${l}`]);
      this.outputs.push(valueInfo(`new_key.${l}`, FLOAT, [1, 'seq', kvH, D]), valueInfo(`new_value.${l}`, FLOAT, [1, 'seq', kvH, D]));
      const qg = g.op('Reshape', [g.op('Transpose', [g.op('Mul', [q, scale])], { perm: [0, 2, 1, 3] }), groupedShape]); // [1,kvH,G*S,D]
      const qs = perKvHead(qg);
      const ks = perKvHead(toHeads(`new_key.${l}`));
      const vs = perKvHead(toHeads(`new_value.${l}`));
      // Batch-invariant order: the softmax runs over each node's keys laid out as a sequential decode holds them
      // (past, ancestors from the root, itself; tree_index / tree_bias), and the values are summed by one MatMul
      // over [past; new] in column order, so that a node's logits do not depend on the tree around it or on
      // whether its ancestors sit in the cache or in this forward (speculative output equals greedy bit for bit).
      const { index, inverse, canonicalBias, pastBias } = canonical();
      // Each kv head reads its cached [P, D] block as stored: K through FusedMatMul's transB, V directly.
      const heads = qs.map((qh, h) => {
        const pastK = `past_key.${l}.${h}`;
        const pastV = `past_value.${l}.${h}`;
        this.inputs.push(valueInfo(pastK, FLOAT, [1, 1, 'past', D]), valueInfo(pastV, FLOAT, [1, 1, 'past', D]));
        const newScores = g.op('GatherElements', [g.op('FusedMatMul', [qh, ks[h]!], { transB: 1 }, 'com.microsoft'), index], { axis: 3 });
        const scores = g.op('Concat', [g.op('Add', [g.op('FusedMatMul', [qh, pastK], { transB: 1 }, 'com.microsoft'), pastBias]), g.op('Add', [newScores, canonicalBias])], { axis: -1 });
        const probs = g.op('Softmax', [scores], { axis: -1 }); // [1,1,G*S,P+S], new columns in canonical order
        const pPast = `${probs}_past`;
        const pCanonical = `${probs}_new`;
        g.op('Split', [probs, pastAndNew()], { axis: -1 }, '', [pPast, pCanonical]);
        // Back to tree columns; a column the node does not see reads an appended zero.
        const zeroColumn = g.op('Mul', [g.op('Slice', [pCanonical, lastFrom, lastTo, lastAxis]), zero]);
        const pTree = g.op('GatherElements', [g.op('Concat', [pCanonical, zeroColumn], { axis: -1 }), inverse], { axis: 3 });
        return g.op('MatMul', [g.op('Concat', [pPast, pTree], { axis: -1 }), g.op('Concat', [pastV, vs[h]!], { axis: 2 })]);
      });
      const ctx = heads.length === 1 ? heads[0]! : g.op('Concat', heads, { axis: 1 }); // [1,kvH,G*S,D]
      return g.op('Reshape', [g.op('Transpose', [g.op('Reshape', [ctx, headsShape])], { perm: [0, 2, 1, 3] }), mergedShape]);
    };
  }

  /**
   * The same attention for a KV cache that stays on the device (graph variant `kvCache: 'device'`). Inputs
   * past_key.<l> / past_value.<l> [1,kvHeads,P,D], whose slot 0 is a sink that every node masks out (WebGPU
   * crashes on zero-length inputs, so the past is never empty); attention_bias is the tree's [1,1,S,S] part only.
   * Outputs present_key.<l> / present_value.<l> [1,kvHeads,P+S,D] = past followed by the new entries, which the
   * session leaves on the device and the next forward (after compaction) takes as its past.
   */
  deviceTreeAttention(rope: (x: string) => string): (layer: number, project: (which: Projection, outDim: number) => string) => string {
    const { g } = this;
    const { D, nH, kvH, group, qShape, kvShape, groupedShape, headsShape, mergedShape, scale } = this.attentionShapes();
    const INT64_ZERO = new Uint8Array(8);
    const INT64_ONE = new Uint8Array(BigInt64Array.of(1n).buffer);
    // Past columns of the bias, built on the device: -inf at the sink (slot 0), 0 elsewhere; then the tree part.
    const pastLen = g.op('Shape', ['past_key.0'], { start: 2, end: 3 });
    const seqLen = g.op('Shape', ['input_ids'], { start: 1, end: 2 });
    const slots = g.op('Range', [g.tensor('const.zero_i64', INT64, [], INT64_ZERO), g.op('Squeeze', [pastLen]), g.tensor('const.one_i64', INT64, [], INT64_ONE)]);
    const isSink = g.op('Equal', [slots, 'const.zero_i64']);
    const pastRow = g.op('Where', [isSink, g.scalar('const.neg_inf', -Infinity), g.scalar('const.zero_f', 0)]);
    const pastBias = g.op('Expand', [g.op('Reshape', [pastRow, g.ints('const.row_shape', [1, 1, 1, -1])]), g.op('Concat', [g.ints('const.one_one', [1, 1]), seqLen, pastLen], { axis: 0 })]);
    const fullBias = g.op('Concat', [pastBias, 'attention_bias'], { axis: -1 }); // [1,1,S,P+S]
    const bias = group > 1 ? g.op('Tile', [fullBias, g.ints('const.bias_tile', [1, 1, group, 1])]) : fullBias;
    const toHeads = (x: string): string => g.op('Transpose', [x], { perm: [0, 2, 1, 3] }); // [1,S,kvH,D] -> [1,kvH,S,D]

    return (l, project) => {
      const q = rope(g.op('Reshape', [project('q_proj', nH * D), qShape]));
      const k = rope(g.op('Reshape', [project('k_proj', kvH * D), kvShape]));
      const v = g.op('Reshape', [project('v_proj', kvH * D), kvShape]);
      const pastK = `past_key.${l}`;
      const pastV = `past_value.${l}`;
      this.inputs.push(valueInfo(pastK, FLOAT, [1, kvH, 'past', D]), valueInfo(pastV, FLOAT, [1, kvH, 'past', D]));
      const presentK = g.op('Concat', [pastK, toHeads(k)], { axis: 2 }, '', [`present_key.${l}`]);
      const presentV = g.op('Concat', [pastV, toHeads(v)], { axis: 2 }, '', [`present_value.${l}`]);
      this.outputs.push(valueInfo(presentK, FLOAT, [1, kvH, 'present', D]), valueInfo(presentV, FLOAT, [1, kvH, 'present', D]));
      const qg = g.op('Reshape', [g.op('Transpose', [g.op('Mul', [q, scale])], { perm: [0, 2, 1, 3] }), groupedShape]); // [1,kvH,G*S,D]
      const scores = g.op('FusedMatMul', [qg, presentK], { transB: 1 }, 'com.microsoft'); // [1,kvH,G*S,P+S]
      const probs = g.op('Softmax', [g.op('Add', [scores, bias])], { axis: -1 });
      const ctx = g.op('MatMul', [probs, presentV]); // [1,kvH,G*S,D]
      return g.op('Reshape', [g.op('Transpose', [g.op('Reshape', [ctx, headsShape])], { perm: [0, 2, 1, 3] }), mergedShape]);
    };
  }

  /** LayerNorm with weight and bias over the hidden size (`${name}.weight`, `${name}.bias`), eps = the config's. */
  layerNorm(): (x: string, name: string) => string {
    const { g, config: c } = this;
    const H = c.hiddenSize;
    return (x, name) => {
      const w = g.floats(`${name}.weight`, this.weights(`${name}.weight`, [H]), [H]);
      const b = g.floats(`${name}.bias`, this.weights(`${name}.bias`, [H]), [H]);
      return g.op('LayerNormalization', [x, w, b], { axis: -1, epsilon: { float: c.rmsNormEps } });
    };
  }

  /** RMSNorm of each head of a [1,S,heads·D] projection with one [headDim] weight (qwen3 q_norm / k_norm). */
  headRmsNorm(): (x: string, weightName: string, heads: number) => string {
    const { g, config: c } = this;
    const D = c.headDim;
    const two = g.scalar('const.head_norm_two', 2);
    const eps = g.scalar('const.head_norm_eps', c.rmsNormEps);
    const merged = g.ints('const.head_norm_merged', [0, 0, -1]);
    const shapes = new Map<number, string>();
    const headShape = (heads: number): string => {
      let s = shapes.get(heads);
      if (!s) shapes.set(heads, (s = g.ints(`const.head_norm_shape_${heads}`, [0, 0, heads, D])));
      return s;
    };
    return (x, name, heads) => {
      const perHead = g.op('Reshape', [x, headShape(heads)]);
      const ms = g.op('ReduceMean', [g.op('Pow', [perHead, two])], { axes: [-1], keepdims: 1 });
      const normed = g.op('Div', [perHead, g.op('Sqrt', [g.op('Add', [ms, eps])])]);
      return g.op('Reshape', [g.op('Mul', [normed, g.floats(name, this.weights(name, [D]), [D])]), merged]);
    };
  }

  /** GELU feed-forward (StarCoder2): c_proj(gelu_tanh(c_fc(x))), the tanh approximation as ORT's FastGelu. */
  geluMlp(x: string, prefix: string, bias: boolean): string {
    const { g, config: c } = this;
    const H = c.hiddenSize;
    const up = this.linear(x, `${prefix}.c_fc`, c.intermediateSize, H, bias);
    return this.linear(g.op('FastGelu', [up], {}, 'com.microsoft'), `${prefix}.c_proj`, H, c.intermediateSize, bias);
  }

  /** x · value, for the scalar multipliers some families put on the residual stream (granite). */
  scaled(x: string, name: string, value: number): string {
    return this.g.op('Mul', [x, this.g.scalar(name, value)]);
  }

  /** SwiGLU feed-forward: down(silu(gate(x)) · up(x)). */
  swigluMlp(x: string, prefix: string, bias: boolean): string {
    const { g, config: c } = this;
    const H = c.hiddenSize;
    const gate = this.linear(x, `${prefix}.gate_proj`, c.intermediateSize, H, bias);
    const up = this.linear(x, `${prefix}.up_proj`, c.intermediateSize, H, bias);
    const act = g.op('Mul', [g.op('Mul', [gate, g.op('Sigmoid', [gate])]), up]);
    return this.linear(act, `${prefix}.down_proj`, H, c.intermediateSize, bias);
  }

  /**
   * Token embedding of input_ids. Quantized models keep the table quantized too (GatherBlockQuantized) when whole
   * blocks fit a row; `table` names the fp32 table for a tied head, '' when it was not materialised.
   */
  embedding(): { hidden: string; table: string } {
    const { g, config: c, options, quantBits } = this;
    const H = c.hiddenSize;
    const embedW = this.weights('model.embed_tokens.weight', [c.vocabSize, H]);
    if (quantBits > 0 && c.tieWordEmbeddings) {
      // One quantized copy serves the lookup and the tied head: MatMulNBits' B [vocab, blocks, blob] is the
      // table's row layout, and GatherBlockQuantized reads the same initializer with the blocks as an axis
      // (scales [vocab, blocks, 1], MatMulNBits' default zero point). Rows padded to whole blocks are cut after.
      // The scales (1/8 of the data at int4) exist twice, as the kernels want different ranks: [vocab, blocks]
      // for MatMulNBits, [vocab, blocks, 1] for the lookup. fp16 scales would make the lookup's output fp16
      // (its output type is the scales' type), a 5e-4 relative error on every embedding.
      const q = quantizeWeight(embedW, c.vocabSize, H, quantBits as 4 | 8, options.blockSize);
      const blob = (options.blockSize * quantBits) / 8;
      const data = g.tensor('model.embed_tokens.qweight', UINT8, [c.vocabSize, q.blocksPerCol, blob], q.data);
      const scales = g.floats('model.embed_tokens.scales', q.scales, [c.vocabSize, q.blocksPerCol]);
      this.tiedHead = { data, scales };
      const lookupScales = g.floats('model.embed_tokens.scales_3d', q.scales, [c.vocabSize, q.blocksPerCol, 1]);
      const rows = g.op('GatherBlockQuantized', [data, 'input_ids', lookupScales], { gather_axis: 0, quantize_axis: 2, block_size: options.blockSize, bits: quantBits }, 'com.microsoft'); // [1,S,blocks,blockSize]
      let hidden = g.op('Reshape', [rows, g.ints('const.embed_flat', [0, 0, -1])]);
      if (q.blocksPerCol * options.blockSize !== H) hidden = g.op('Slice', [hidden, g.ints('const.embed_from', [0]), g.ints('const.embed_to', [H]), g.ints('const.embed_axis', [2])]);
      return { hidden, table: '' };
    }
    if (quantBits > 0 && H % options.blockSize === 0) {
      const q = quantizeWeight(embedW, c.vocabSize, H, quantBits as 4 | 8, options.blockSize);
      const data = g.tensor('model.embed_tokens.qweight', UINT8, [c.vocabSize, (H * quantBits) / 8], q.data);
      const scales = g.floats('model.embed_tokens.scales', q.scales, [c.vocabSize, q.blocksPerCol]);
      const zeroPerRow = quantBits === 4 ? Math.ceil(q.blocksPerCol / 2) : q.blocksPerCol;
      const zeros = g.tensor('model.embed_tokens.zero_points', UINT8, [c.vocabSize, zeroPerRow], new Uint8Array(c.vocabSize * zeroPerRow).fill(quantBits === 4 ? 0x88 : 128));
      const hidden = g.op('GatherBlockQuantized', [data, 'input_ids', scales, zeros], { gather_axis: 0, quantize_axis: 1, block_size: options.blockSize, bits: quantBits }, 'com.microsoft');
      return { hidden, table: '' };
    }
    const table = g.floats('model.embed_tokens.weight', embedW, [c.vocabSize, H]);
    return { hidden: g.op('Gather', [table, 'input_ids'], { axis: 0 }), table };
  }

  /**
   * The `logits` output from the final hidden state, for the `logit_rows` nodes only: the projection to the
   * vocabulary is most of a long prompt's work and memory, and acceptance reads only those rows. A tied head
   * reads the embedding table.
   */
  lmHead(hidden: string, embedTable: string): void {
    const { g, config: c, options, quantBits } = this;
    const H = c.hiddenSize;
    const x = g.op('Gather', [hidden, 'logit_rows'], { axis: 1 });
    if (options.hiddenStates) {
      // The last hidden state (after the final norm) of the same rows, for a learned speculator: computed anyway.
      g.op('Identity', [x], {}, '', ['hidden_states']);
      this.outputs.push(valueInfo('hidden_states', FLOAT, [1, 'rows', H]));
    }
    const headName = c.tieWordEmbeddings ? 'model.embed_tokens' : 'lm_head';
    if (quantBits && this.tiedHead) {
      const { data, scales } = this.tiedHead;
      g.op('MatMulNBits', [x, data, scales], { K: H, N: c.vocabSize, bits: quantBits, block_size: options.blockSize, accuracy_level: options.accuracyLevel }, 'com.microsoft', ['logits']);
    } else if (quantBits) {
      const w = this.weights(`${headName}.weight`, [c.vocabSize, H]);
      const q = quantizeWeight(w, c.vocabSize, H, quantBits, options.blockSize);
      const blob = (options.blockSize * quantBits) / 8;
      const b = g.tensor('lm_head.qweight', UINT8, [c.vocabSize, q.blocksPerCol, blob], q.data);
      const s = g.floats('lm_head.scales', q.scales, [c.vocabSize * q.blocksPerCol]);
      g.op('MatMulNBits', [x, b, s], { K: H, N: c.vocabSize, bits: quantBits, block_size: options.blockSize, accuracy_level: options.accuracyLevel }, 'com.microsoft', ['logits']);
    } else {
      // Gemm with transB reads the [vocab, hidden] matrix as stored, so tied embeddings are not duplicated.
      const headW = c.tieWordEmbeddings ? embedTable : g.floats('lm_head.weight', this.weights('lm_head.weight', [c.vocabSize, H]), [c.vocabSize, H]);
      const flat = g.op('Reshape', [x, g.ints('const.flat', [-1, H])]);
      const logits2d = g.op('Gemm', [flat, headW], { transB: 1 });
      g.op('Reshape', [logits2d, g.ints('const.logits_shape', [1, -1, c.vocabSize])], {}, '', ['logits']);
    }
  }

  /**
   * The attention bias of a sliding-window layer: the tree bias with every key `window` or more positions before
   * its query masked out (transformers: kv_idx > q_idx - sliding_window). Keys of the committed past sit at
   * positions 0..P-1 (the cache holds the context in order), the tree's own nodes at their position_ids.
   * Made once per window size and shared by the layers that use it.
   */
  slidingBias(window: number): string {
    const key = `sliding.bias_${window}`;
    const known = this.slidingBiases.get(key);
    if (known) return known;
    const g = this.g;
    const zero = g.tensor('sliding.zero', INT64, [], new Uint8Array(8));
    const one = g.tensor('sliding.one', INT64, [], new Uint8Array(BigInt64Array.of(1n).buffer));
    const pastLen = g.op('Squeeze', [g.op('Shape', ['past_key.0.0'], { start: 2, end: 3 })]);
    const keyPositions = g.op('Concat', [g.op('Range', [zero, pastLen, one]), g.op('Squeeze', ['position_ids', g.ints('sliding.axis0', [0])])], { axis: 0 }); // [P+S]
    const distance = g.op('Sub', [g.op('Unsqueeze', ['position_ids', g.ints('sliding.axis2', [2])]), keyPositions]); // [1,S,P+S]
    const limit = g.tensor(`sliding.limit_${window}`, INT64, [], new Uint8Array(BigInt64Array.of(BigInt(window - 1)).buffer));
    const tooFar = g.op('Unsqueeze', [g.op('Greater', [distance, limit]), g.ints('sliding.axis1', [1])]); // [1,1,S,P+S]
    const bias = g.op('Where', [tooFar, g.scalar(`sliding.neg_inf_${window}`, -Infinity), 'attention_bias']);
    this.slidingBiases.set(key, bias);
    return bias;
  }

  private readonly slidingBiases = new Map<string, string>();

  /**
   * Tree attention (host KV cache, same inputs and outputs as treeAttention) with what later families vary per
   * layer: the score scale, tanh soft-capping of the scores, a sliding window, the layer's own rope and a
   * transform of the [1,S,heads,D] q and k before rope (gemma3's q/k norm). The device-cache graph variant is
   * refused, so loading falls back to the host graph.
   */
  windowedTreeAttention(o: { scale: number; softcap: number | null }): (
    layer: number,
    project: (which: Projection, outDim: number) => string,
    per: { rope: (x: string) => string; window: number | null; beforeRope?: (x: string, which: 'q' | 'k') => string },
  ) => string {
    const { g, config: c } = this;
    if (this.options.kvCache === 'device') throw new UnsupportedGraphVariant(`${c.architecture}: the device KV cache graph has no sliding-window/soft-capped attention yet`);
    const D = c.headDim;
    const nH = c.numHeads;
    const kvH = c.numKvHeads;
    const group = nH / kvH;
    const qShape = g.ints('wattn.q_shape', [0, 0, nH, D]);
    const kvShape = g.ints('wattn.kv_shape', [0, 0, kvH, D]);
    const groupedShape = g.ints('wattn.grouped_shape', [1, kvH, -1, D]);
    const headsShape = g.ints('wattn.heads_shape', [1, nH, -1, D]);
    const mergedShape = g.ints('wattn.merged_shape', [0, 0, nH * D]);
    const scale = g.scalar('wattn.scale', o.scale);
    const cap = o.softcap === null ? undefined : g.scalar('wattn.softcap', o.softcap);
    const headSplit = g.ints('wattn.head_split', Array.from({ length: kvH }, () => 1));
    const tile = g.ints('wattn.bias_tile', [1, 1, group, 1]);
    const biases = new Map<number | null, string>();
    // Query heads h = kv * group + g share kv head `kv`: grouped rows are ordered (g, s), so the bias tiles `group` times.
    const biasFor = (window: number | null): string => {
      let bias = biases.get(window);
      if (!bias) {
        const plain = window === null ? 'attention_bias' : this.slidingBias(window);
        biases.set(window, (bias = group > 1 ? g.op('Tile', [plain, tile]) : plain));
      }
      return bias;
    };
    const perKvHead = this.kvHeadSplitter(kvH, headSplit);
    let splitSizes: string | undefined;
    const pastAndNew = (): string =>
      (splitSizes ??= g.op('Concat', [g.op('Shape', ['past_key.0.0'], { start: 2, end: 3 }), g.op('Shape', ['input_ids'], { start: 1, end: 2 })], { axis: 0 }));
    const toHeads = (x: string): string => g.op('Transpose', [x], { perm: [0, 2, 1, 3] });

    return (l, project, per) => {
      const qHeads = g.op('Reshape', [project('q_proj', nH * D), qShape]);
      const kHeads = g.op('Reshape', [project('k_proj', kvH * D), kvShape]);
      const q = per.rope(per.beforeRope ? per.beforeRope(qHeads, 'q') : qHeads);
      g.op('Identity', [per.rope(per.beforeRope ? per.beforeRope(kHeads, 'k') : kHeads)], {}, '', [`new_key.${l}`]);
      g.op('Reshape', [project('v_proj', kvH * D), kvShape], {}, '', [`new_value.${l}`]);
      this.outputs.push(valueInfo(`new_key.${l}`, FLOAT, [1, 'seq', kvH, D]), valueInfo(`new_value.${l}`, FLOAT, [1, 'seq', kvH, D]));
      const qg = g.op('Reshape', [g.op('Transpose', [g.op('Mul', [q, scale])], { perm: [0, 2, 1, 3] }), groupedShape]);
      const qs = perKvHead(qg);
      const ks = perKvHead(toHeads(`new_key.${l}`));
      const vs = perKvHead(toHeads(`new_value.${l}`));
      const bias = biasFor(per.window);
      const heads = qs.map((qh, h) => {
        const pastK = `past_key.${l}.${h}`;
        const pastV = `past_value.${l}.${h}`;
        this.inputs.push(valueInfo(pastK, FLOAT, [1, 1, 'past', D]), valueInfo(pastV, FLOAT, [1, 1, 'past', D]));
        let scores = g.op('Concat', [g.op('FusedMatMul', [qh, pastK], { transB: 1 }, 'com.microsoft'), g.op('FusedMatMul', [qh, ks[h]!], { transB: 1 }, 'com.microsoft')], { axis: -1 });
        if (cap) scores = g.op('Mul', [g.op('Tanh', [g.op('Div', [scores, cap])]), cap]);
        const probs = g.op('Softmax', [g.op('Add', [scores, bias])], { axis: -1 });
        const pPast = `${probs}_past`;
        const pNew = `${probs}_new`;
        g.op('Split', [probs, pastAndNew()], { axis: -1 }, '', [pPast, pNew]);
        return g.op('Add', [g.op('MatMul', [pPast, pastV]), g.op('MatMul', [pNew, vs[h]!])]);
      });
      const ctx = heads.length === 1 ? heads[0]! : g.op('Concat', heads, { axis: 1 });
      return g.op('Reshape', [g.op('Transpose', [g.op('Reshape', [ctx, headsShape])], { perm: [0, 2, 1, 3] }), mergedShape]);
    };
  }

  /**
   * Rotary embedding from a given frequency table (a layer type's own base, partial rotary, longrope): the first
   * 2·invFreq.length dims of each [1,S,heads,D] head rotate (rotate-half), the rest pass through; cos/sin are
   * scaled by attentionFactor. With `long`, the long table takes over when the forward's largest position is
   * >= long.from (transformers' longrope update: seq_len > original_max_position_embeddings). `name` keeps each
   * table's constants apart.
   */
  rotaryTable(name: string, invFreq: Float64Array, o: { attentionFactor?: number; long?: { invFreq: Float64Array; from: number } } = {}): (x: string) => string {
    const { g, config: c } = this;
    const D = c.headDim;
    const half = invFreq.length;
    const R = 2 * half;
    if (R > D) throw new Error(`${name}: rotary dims ${R} exceed head_dim ${D}`);
    const posF = g.op('Cast', ['position_ids'], { to: FLOAT });
    let inv = g.floats(`${name}.inv_freq`, Float32Array.from(invFreq), [half]);
    if (o.long) {
      const useLong = g.op('Greater', [g.op('ReduceMax', [posF], { keepdims: 0 }), g.scalar(`${name}.long_from`, o.long.from - 1)]);
      inv = g.op('Where', [useLong, g.floats(`${name}.inv_freq_long`, Float32Array.from(o.long.invFreq), [half]), inv]);
    }
    const freqs = g.op('Mul', [g.op('Unsqueeze', [posF, g.ints(`${name}.axis2`, [2])]), inv]); // [1,S,half]
    const angles = g.op('Unsqueeze', [g.op('Concat', [freqs, freqs], { axis: -1 }), g.ints(`${name}.axis2b`, [2])]); // [1,S,1,R]
    let cos = g.op('Cos', [angles]);
    let sin = g.op('Sin', [angles]);
    if (o.attentionFactor !== undefined && o.attentionFactor !== 1) {
      const f = g.scalar(`${name}.attention_factor`, o.attentionFactor);
      cos = g.op('Mul', [cos, f]);
      sin = g.op('Mul', [sin, f]);
    }
    const halves = g.ints(`${name}.halves`, [half, half]);
    const rotPass = R < D ? g.ints(`${name}.rot_pass`, [R, D - R]) : undefined;
    return (x) => {
      let rot = x;
      let pass: string | undefined;
      if (rotPass) {
        rot = `${x}_rot`;
        pass = `${x}_pass`;
        g.op('Split', [x, rotPass], { axis: -1 }, '', [rot, pass]);
      }
      const a = `${rot}_lo`;
      const b = `${rot}_hi`;
      g.op('Split', [rot, halves], { axis: -1 }, '', [a, b]);
      const rotated = g.op('Concat', [g.op('Neg', [b]), a], { axis: -1 });
      const out = g.op('Add', [g.op('Mul', [rot, cos]), g.op('Mul', [rotated, sin])]);
      return pass ? g.op('Concat', [out, pass], { axis: -1 }) : out;
    };
  }

  /** Gemma's RMSNorm, x / sqrt(mean(x²) + eps) · (1 + w), over the last axis of any shape; (1 + w) is folded at build time. */
  offsetRmsNorm(): (x: string, weightName: string, dim: number) => string {
    const { g, config: c } = this;
    const two = g.scalar('offset_norm.two', 2);
    const eps = g.scalar('offset_norm.eps', c.rmsNormEps);
    return (x, name, dim) => {
      const w = Float32Array.from(this.weights(name, [dim]), (v) => 1 + v);
      const ms = g.op('ReduceMean', [g.op('Pow', [x, two])], { axes: [-1], keepdims: 1 });
      return g.op('Mul', [g.op('Div', [x, g.op('Sqrt', [g.op('Add', [ms, eps])])]), g.floats(name, w, [dim])]);
    };
  }

  /** GeGLU feed-forward (gemma): down(gelu_tanh(gate(x)) · up(x)), the tanh GELU as ORT's FastGelu. */
  gegluMlp(x: string, prefix: string): string {
    const { g, config: c } = this;
    const H = c.hiddenSize;
    const gate = this.linear(x, `${prefix}.gate_proj`, c.intermediateSize, H, false);
    const up = this.linear(x, `${prefix}.up_proj`, c.intermediateSize, H, false);
    return this.linear(g.op('Mul', [g.op('FastGelu', [gate], {}, 'com.microsoft'), up]), `${prefix}.down_proj`, H, c.intermediateSize, false);
  }

  /** Splits the last axis of x into pieces of the given sizes (fused projections: phi3 qkv_proj, gate_up_proj). */
  splitLast(x: string, sizes: number[]): string[] {
    const outs = sizes.map((_, i) => `${x}_part${i}`);
    const name = `split.${sizes.join('_')}`;
    if (!this.splitSizes.has(name)) this.splitSizes.add(this.g.ints(name, sizes));
    this.g.op('Split', [x, name], { axis: -1 }, '', outs);
    return outs;
  }

  private readonly splitSizes = new Set<string>();

  /** SwiGLU over a fused [gate; up] projection (phi3 `mlp.gate_up_proj`, then `mlp.down_proj`). */
  fusedSwigluMlp(x: string, prefix: string): string {
    const { g, config: c } = this;
    const I = c.intermediateSize;
    const [gate, up] = this.splitLast(this.linear(x, `${prefix}.gate_up_proj`, 2 * I, c.hiddenSize, false), [I, I]);
    const act = g.op('Mul', [g.op('Mul', [gate!, g.op('Sigmoid', [gate!])]), up!]);
    return this.linear(act, `${prefix}.down_proj`, c.hiddenSize, I, false);
  }

  /** Soft-caps the `logits` output: cap · tanh(logits / cap) (gemma final_logit_softcapping). Call after lmHead. */
  capLogits(cap: number): void {
    const producer = this.g.nodes.find((n) => n.output?.includes('logits'));
    if (!producer) throw new Error('capLogits: no logits output yet (call lmHead first)');
    producer.output = producer.output!.map((o) => (o === 'logits' ? 'logits_uncapped' : o));
    const capValue = this.g.scalar('logits.softcap', cap);
    this.g.op('Mul', [this.g.op('Tanh', [this.g.op('Div', ['logits_uncapped', capValue])]), capValue], {}, '', ['logits']);
  }
}

export { layerPrefix };
