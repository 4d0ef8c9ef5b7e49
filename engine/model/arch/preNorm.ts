// The pre-norm decoder every architecture here shares, in both forms: the ONNX graph (over blocks.ts) and the
// float64 reference (over referenceBlocks.ts). Embedding, then per layer x + attn(norm(x)) and h + mlp(norm(h)),
// then the final norm and the LM head. A family supplies its norm, attention and feed-forward; the optional
// scalars cover granite (embedding, residual, head) and gemma (embedding); gemma's extra norms go in its hooks.
import type { ModelConfig } from '../config';
import type { DecoderGraph, Projection } from './blocks';
import { applyRope, causalAttention, linear, windowedAttention } from './referenceBlocks';
import { layerPrefix, type WeightLookup } from './types';

/** A layer's attention: projects q/k/v through `project`, attends, returns the merged heads (before o_proj). */
export type TreeAttention = (layer: number, project: (which: Projection, outDim: number) => string) => string;

/** A graph constant that multiplies the stream: its initializer name and value. */
export interface GraphScalar {
  name: string;
  value: number;
}

export interface PreNormGraphLayers {
  /** Normalises `x` with the tensors under `prefix` (`${p}.input_layernorm`, `model.norm`). */
  norm(x: string, prefix: string): string;
  /** The attention of layer `l` from its normed input `xn` (`p` is the layer's tensor prefix), before o_proj. */
  attention(l: number, xn: string, p: string): string;
  /** o_proj and anything after it (gemma's post-attention norm); the Llama o_proj when absent. */
  attentionOutput?(attn: string, p: string): string;
  /** The norm in front of the feed-forward, under the layer prefix; `post_attention_layernorm` when absent. */
  mlpNorm?: string;
  /** The feed-forward of the normed residual stream. */
  mlp(hn: string, p: string): string;
  /** Multiplies the token embeddings (gemma sqrt(hidden), granite embedding_multiplier). */
  embeddingScale?: GraphScalar;
  /** Multiplies each block's output before it joins the residual stream (granite residual_multiplier). */
  residualScale?: GraphScalar;
  /** Multiplies the final normed hidden state before the (bias-free) head (granite 1 / logits_scaling). */
  headScale?: GraphScalar;
}

/** Host or device tree attention with `rope`, or, when the config has a sliding window, every layer windowed (1/sqrt(head_dim) scale). */
export function ropeTreeAttention(b: DecoderGraph, rope: (x: string) => string = b.rotary()): TreeAttention {
  const window = b.config.slidingWindow;
  if (window === undefined) return b.options.kvCache === 'device' ? b.deviceTreeAttention(rope) : b.treeAttention(rope);
  const attention = b.windowedTreeAttention({ scale: 1 / Math.sqrt(b.config.headDim), softcap: null });
  return (l, project) => attention(l, project, { rope, window });
}

/**
 * Separate q/k/v projections of `xn` (`self_attn.q_proj` …), with the config's q/k/v bias; `then` transforms a
 * projection before attention takes it (qwen3's per-head norms, granite's q scale).
 */
export function separateProjections(b: DecoderGraph, xn: string, p: string, then?: (y: string, which: Projection) => string): (which: Projection, outDim: number) => string {
  return (which, outDim) => {
    const y = b.linear(xn, `${p}.self_attn.${which}`, outDim, b.config.hiddenSize, b.config.qkvBias);
    return then ? then(y, which) : y;
  };
}

/** Adds embedding, layers, final norm and LM head to the graph; `onProgress` gets the fraction of layers built. */
export function buildPreNormGraph(b: DecoderGraph, layers: PreNormGraphLayers, onProgress?: (fraction: number) => void): void {
  const c = b.config;
  const H = c.hiddenSize;
  const embedding = b.embedding();
  let x = layers.embeddingScale ? b.scaled(embedding.hidden, layers.embeddingScale.name, layers.embeddingScale.value) : embedding.hidden;
  const residual = layers.residualScale && b.g.scalar(layers.residualScale.name, layers.residualScale.value);
  const join = (stream: string, block: string): string => b.g.op('Add', [stream, residual ? b.g.op('Mul', [block, residual]) : block]);
  const mlpNorm = layers.mlpNorm ?? 'post_attention_layernorm';
  for (let l = 0; l < c.numLayers; l++) {
    const p = layerPrefix(l);
    const attn = layers.attention(l, layers.norm(x, `${p}.input_layernorm`), p);
    const o = layers.attentionOutput ? layers.attentionOutput(attn, p) : b.linear(attn, `${p}.self_attn.o_proj`, H, c.numHeads * c.headDim, c.oBias);
    const h1 = join(x, o);
    x = join(h1, layers.mlp(layers.norm(h1, `${p}.${mlpNorm}`), p));
    onProgress?.((l + 1) / c.numLayers);
  }
  const final = layers.norm(x, 'model.norm');
  b.lmHead(layers.headScale ? b.scaled(final, layers.headScale.name, layers.headScale.value) : final, embedding.table);
}

/** One position's q and k (after rope) and v. */
export interface ReferenceQkv {
  q: Float64Array;
  k: Float64Array;
  v: Float64Array;
}

export interface PreNormReferenceLayers {
  /** Normalises `x` with the tensors under `prefix`, as the graph's norm does. */
  norm(x: Float64Array, prefix: string): Float64Array;
  /** q/k/v of position `pos` in layer `l` from its normed input. */
  qkv(xn: Float64Array, p: string, pos: number, l: number): ReferenceQkv;
  /** The attention output of position `pos` in layer `l` over the layer's queries, keys and values. */
  attend(queries: readonly Float64Array[], keys: readonly Float64Array[], values: readonly Float64Array[], pos: number, l: number): Float64Array;
  /** o_proj and anything after it; the Llama o_proj when absent. */
  attentionOutput?(attn: Float64Array, p: string): Float64Array;
  /** As in the graph: the norm in front of the feed-forward, `post_attention_layernorm` when absent. */
  mlpNorm?: string;
  mlp(hn: Float64Array, p: string): Float64Array;
  embeddingScale?: number;
  residualScale?: number;
  /** Applied to each row of logits (granite's division, gemma's soft cap). */
  logits?(row: Float64Array): Float64Array;
}

/** `linear` of the `${name}.weight` tensor, plus `${name}.bias` when `bias`. */
export function referenceProjection(weight: WeightLookup): (x: Float64Array, name: string, outDim: number, bias: boolean) => Float64Array {
  return (x, name, outDim, bias) => linear(x, weight(`${name}.weight`), outDim, bias ? weight(`${name}.bias`) : undefined);
}

/**
 * Separate q/k/v projections (the config's bias) and rope with the layer's inverse frequencies; `beforeRope`
 * transforms q and k in place first (qwen3's and gemma3's per-head norms).
 */
export function referenceRopedQkv(
  c: ModelConfig,
  weight: WeightLookup,
  invFreqOf: (layer: number) => Float64Array,
  beforeRope?: (q: Float64Array, k: Float64Array, p: string) => void,
): PreNormReferenceLayers['qkv'] {
  const proj = referenceProjection(weight);
  const D = c.headDim;
  return (xn, p, pos, l) => {
    const q = proj(xn, `${p}.self_attn.q_proj`, c.numHeads * D, c.qkvBias);
    const k = proj(xn, `${p}.self_attn.k_proj`, c.numKvHeads * D, c.qkvBias);
    const v = proj(xn, `${p}.self_attn.v_proj`, c.numKvHeads * D, c.qkvBias);
    beforeRope?.(q, k, p);
    const inv = invFreqOf(l);
    applyRope(q, c.numHeads, D, pos, inv);
    applyRope(k, c.numKvHeads, D, pos, inv);
    return { q, k, v };
  };
}

/** Causal attention scaled by `scale`, or with the config's sliding window (1/sqrt(head_dim) scale) when it has one. */
export function referenceRopeAttention(c: ModelConfig, scale = 1 / Math.sqrt(c.headDim)): PreNormReferenceLayers['attend'] {
  const window = c.slidingWindow;
  if (window === undefined) return (queries, keys, values, pos) => causalAttention(c, queries, keys, values, pos, scale);
  return (queries, keys, values, pos) => windowedAttention(c, queries, keys, values, pos, { scale: 1 / Math.sqrt(c.headDim), softcap: null, window });
}

/** Logits [tokens.length][vocab] for positions 0..n-1 with a causal mask, in float64 (the tests' oracle). */
export function preNormReferenceLogits(c: ModelConfig, weight: WeightLookup, tokens: readonly number[], layers: PreNormReferenceLayers): Float64Array[] {
  const H = c.hiddenSize;
  const proj = referenceProjection(weight);
  const emb = weight('model.embed_tokens.weight');
  const embeddingScale = layers.embeddingScale;
  let hidden: Float64Array[] = tokens.map((t) => {
    const row = emb.subarray(t * H, (t + 1) * H);
    return embeddingScale === undefined ? Float64Array.from(row) : Float64Array.from(row, (v) => v * embeddingScale);
  });
  const r = layers.residualScale;
  const join = (stream: Float64Array, block: Float64Array): Float64Array => stream.map((s, i) => (r === undefined ? s + block[i]! : s + block[i]! * r));
  const mlpNorm = layers.mlpNorm ?? 'post_attention_layernorm';
  for (let l = 0; l < c.numLayers; l++) {
    const p = layerPrefix(l);
    const queries: Float64Array[] = [];
    const keys: Float64Array[] = [];
    const values: Float64Array[] = [];
    hidden.forEach((x, pos) => {
      const { q, k, v } = layers.qkv(layers.norm(x, `${p}.input_layernorm`), p, pos, l);
      queries.push(q);
      keys.push(k);
      values.push(v);
    });
    hidden = hidden.map((x, pos) => {
      const attn = layers.attend(queries, keys, values, pos, l);
      const o = layers.attentionOutput ? layers.attentionOutput(attn, p) : proj(attn, `${p}.self_attn.o_proj`, H, c.oBias);
      const h1 = join(x, o);
      return join(h1, layers.mlp(layers.norm(h1, `${p}.${mlpNorm}`), p));
    });
  }
  const head = c.tieWordEmbeddings ? emb : weight('lm_head.weight');
  return hidden.map((x) => {
    const row = linear(layers.norm(x, 'model.norm'), head, c.vocabSize);
    return layers.logits ? layers.logits(row) : row;
  });
}
