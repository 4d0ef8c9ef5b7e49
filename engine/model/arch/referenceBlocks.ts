// Float64 versions of the shared blocks for the naive reference forward pass (the tests' oracle). They are
// written independently of the ONNX graph blocks: plain loops, one token at a time.
import { ropeInvFreq } from './rope';
import type { ModelConfig } from '../config';

export function rmsNorm(x: Float64Array, w: Float32Array, eps: number): Float64Array {
  let ss = 0;
  for (let i = 0; i < x.length; i++) ss += x[i]! * x[i]!;
  const inv = 1 / Math.sqrt(ss / x.length + eps);
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = x[i]! * inv * w[i]!;
  return out;
}

/** y = W x (+ b), with W stored [out, in] as in Hugging Face checkpoints. */
export function linear(x: Float64Array, w: Float32Array, outDim: number, bias?: Float32Array): Float64Array {
  const inDim = x.length;
  const y = new Float64Array(outDim);
  for (let o = 0; o < outDim; o++) {
    let s = bias ? bias[o]! : 0;
    const row = o * inDim;
    for (let i = 0; i < inDim; i++) s += w[row + i]! * x[i]!;
    y[o] = s;
  }
  return y;
}

/** inv_freq rounded like transformers does (float32), so long positions agree. */
export function referenceInvFreq(c: ModelConfig): Float64Array {
  return Float64Array.from(new Float32Array(ropeInvFreq(c)));
}

/** Rotates `heads` consecutive head vectors of v in place (rotate-half layout) for position `pos`. */
export function applyRope(v: Float64Array, heads: number, headDim: number, pos: number, invFreq: Float64Array): void {
  const half = headDim / 2;
  for (let h = 0; h < heads; h++) {
    const base = h * headDim;
    for (let i = 0; i < half; i++) {
      const angle = pos * invFreq[i]!;
      const c = Math.cos(angle);
      const s = Math.sin(angle);
      const a = v[base + i]!;
      const b = v[base + i + half]!;
      v[base + i] = a * c - b * s;
      v[base + i + half] = b * c + a * s;
    }
  }
}

/** Causal grouped-query attention of position `pos` over positions 0..pos: the merged heads [heads·D]. */
export function causalAttention(c: ModelConfig, queries: readonly Float64Array[], keys: readonly Float64Array[], values: readonly Float64Array[], pos: number, scale = 1 / Math.sqrt(c.headDim)): Float64Array {
  const D = c.headDim;
  const group = c.numHeads / c.numKvHeads;
  const attn = new Float64Array(c.numHeads * D);
  for (let h = 0; h < c.numHeads; h++) {
    const kvh = Math.floor(h / group);
    const scores = new Float64Array(pos + 1);
    let max = -Infinity;
    for (let j = 0; j <= pos; j++) {
      let s = 0;
      for (let d = 0; d < D; d++) s += queries[pos]![h * D + d]! * keys[j]![kvh * D + d]!;
      scores[j] = s * scale;
      if (scores[j]! > max) max = scores[j]!;
    }
    let sum = 0;
    for (let j = 0; j <= pos; j++) {
      scores[j] = Math.exp(scores[j]! - max);
      sum += scores[j]!;
    }
    for (let j = 0; j <= pos; j++) {
      const w = scores[j]! / sum;
      for (let d = 0; d < D; d++) attn[h * D + d]! += w * values[j]![kvh * D + d]!;
    }
  }
  return attn;
}

/** silu(gate) · up, in place into gate. */
export function swiglu(gate: Float64Array, up: Float64Array): Float64Array {
  for (let i = 0; i < gate.length; i++) gate[i] = (gate[i]! / (1 + Math.exp(-gate[i]!))) * up[i]!;
  return gate;
}

/** LayerNorm with weight and bias: (x - mean) / sqrt(var + eps) · w + b (biased variance, as torch). */
export function layerNorm(x: Float64Array, w: Float32Array, b: Float32Array, eps: number): Float64Array {
  let mean = 0;
  for (let i = 0; i < x.length; i++) mean += x[i]!;
  mean /= x.length;
  let variance = 0;
  for (let i = 0; i < x.length; i++) variance += (x[i]! - mean) ** 2;
  const inv = 1 / Math.sqrt(variance / x.length + eps);
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = (x[i]! - mean) * inv * w[i]! + b[i]!;
  return out;
}

/** RMSNorm of each consecutive head of v in place, with one [headDim] weight (qwen3 q_norm / k_norm). */
export function headRmsNorm(v: Float64Array, heads: number, headDim: number, w: Float32Array, eps: number): void {
  for (let h = 0; h < heads; h++) v.set(rmsNorm(v.subarray(h * headDim, (h + 1) * headDim), w, eps), h * headDim);
}

/** gelu_pytorch_tanh: 0.5·x·(1 + tanh(sqrt(2/π)·(x + 0.044715·x³))), in place. */
export function geluTanh(x: Float64Array): Float64Array {
  const k = Math.sqrt(2 / Math.PI);
  for (let i = 0; i < x.length; i++) x[i] = 0.5 * x[i]! * (1 + Math.tanh(k * (x[i]! + 0.044715 * x[i]! ** 3)));
  return x;
}

/** Gemma's RMSNorm: x / sqrt(mean(x²) + eps) · (1 + w). */
export function offsetRmsNorm(x: Float64Array, w: Float32Array, eps: number): Float64Array {
  let ss = 0;
  for (let i = 0; i < x.length; i++) ss += x[i]! * x[i]!;
  const inv = 1 / Math.sqrt(ss / x.length + eps);
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = x[i]! * inv * (1 + w[i]!);
  return out;
}

/**
 * Grouped-query attention of position `pos` over the positions it may see: all earlier ones, or with a window
 * only pos - window + 1 .. pos; scores are q·k·scale, then cap·tanh(s/cap) when soft-capped.
 */
export function windowedAttention(
  c: ModelConfig,
  queries: readonly Float64Array[],
  keys: readonly Float64Array[],
  values: readonly Float64Array[],
  pos: number,
  o: { scale: number; softcap: number | null; window: number | null },
): Float64Array {
  const D = c.headDim;
  const group = c.numHeads / c.numKvHeads;
  const first = o.window === null ? 0 : Math.max(0, pos - o.window + 1);
  const attn = new Float64Array(c.numHeads * D);
  for (let h = 0; h < c.numHeads; h++) {
    const kvh = Math.floor(h / group);
    const weights: number[] = [];
    for (let j = first; j <= pos; j++) {
      let s = 0;
      for (let d = 0; d < D; d++) s += queries[pos]![h * D + d]! * keys[j]![kvh * D + d]!;
      s *= o.scale;
      weights.push(o.softcap === null ? s : o.softcap * Math.tanh(s / o.softcap));
    }
    const max = Math.max(...weights);
    const exps = weights.map((s) => Math.exp(s - max));
    const sum = exps.reduce((a, b) => a + b, 0);
    exps.forEach((e, i) => {
      for (let d = 0; d < D; d++) attn[h * D + d]! += (e / sum) * values[first + i]![kvh * D + d]!;
    });
  }
  return attn;
}

/**
 * Rotates the first 2·invFreq.length dims of each of `heads` head vectors in place (rotate-half within them;
 * the rest pass through), with cos/sin scaled by attentionFactor (partial rotary, longrope).
 */
export function applyRotary(v: Float64Array, heads: number, headDim: number, pos: number, invFreq: Float64Array, attentionFactor = 1): void {
  const half = invFreq.length;
  for (let h = 0; h < heads; h++) {
    const base = h * headDim;
    for (let i = 0; i < half; i++) {
      const angle = pos * invFreq[i]!;
      const c = Math.cos(angle) * attentionFactor;
      const s = Math.sin(angle) * attentionFactor;
      const a = v[base + i]!;
      const b = v[base + i + half]!;
      v[base + i] = a * c - b * s;
      v[base + i + half] = b * c + a * s;
    }
  }
}
