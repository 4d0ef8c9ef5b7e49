// Naive reference forward pass in plain TypeScript (float64 loops), independent of the ONNX graph builder.
// Used by tests as the oracle: logits for a linear token sequence decoded from scratch.
import { ropeInvFreq, type ModelConfig } from './config';
import { layerPrefix } from './weights';

export type WeightLookup = (name: string) => Float32Array;

function rmsNorm(x: Float64Array, w: Float32Array, eps: number): Float64Array {
  let ss = 0;
  for (let i = 0; i < x.length; i++) ss += x[i]! * x[i]!;
  const inv = 1 / Math.sqrt(ss / x.length + eps);
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = x[i]! * inv * w[i]!;
  return out;
}

/** y = W x (+ b), with W stored [out, in] as in Hugging Face checkpoints. */
function linear(x: Float64Array, w: Float32Array, outDim: number, bias?: Float32Array): Float64Array {
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

function applyRope(v: Float64Array, heads: number, headDim: number, pos: number, invFreq: Float64Array): void {
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

/** Logits [tokens.length][vocab] for positions 0..n-1 with a causal mask. */
export function referenceLogits(c: ModelConfig, weight: WeightLookup, tokens: readonly number[]): Float64Array[] {
  const H = c.hiddenSize;
  const D = c.headDim;
  const group = c.numHeads / c.numKvHeads;
  const invFreq = ropeInvFreq(c);
  // Round inv_freq like transformers does (float32) so long positions agree.
  const inv32 = Float64Array.from(new Float32Array(invFreq));
  const emb = weight('model.embed_tokens.weight');
  let hidden = tokens.map((t) => Float64Array.from(emb.subarray(t * H, (t + 1) * H)));
  const opt = (name: string, on: boolean): Float32Array | undefined => (on ? weight(name) : undefined);
  for (let l = 0; l < c.numLayers; l++) {
    const p = layerPrefix(l);
    const keys: Float64Array[] = [];
    const values: Float64Array[] = [];
    const queries: Float64Array[] = [];
    hidden.forEach((x, pos) => {
      const xn = rmsNorm(x, weight(`${p}.input_layernorm.weight`), c.rmsNormEps);
      const q = linear(xn, weight(`${p}.self_attn.q_proj.weight`), c.numHeads * D, opt(`${p}.self_attn.q_proj.bias`, c.qkvBias));
      const k = linear(xn, weight(`${p}.self_attn.k_proj.weight`), c.numKvHeads * D, opt(`${p}.self_attn.k_proj.bias`, c.qkvBias));
      const v = linear(xn, weight(`${p}.self_attn.v_proj.weight`), c.numKvHeads * D, opt(`${p}.self_attn.v_proj.bias`, c.qkvBias));
      applyRope(q, c.numHeads, D, pos, inv32);
      applyRope(k, c.numKvHeads, D, pos, inv32);
      queries.push(q);
      keys.push(k);
      values.push(v);
    });
    const scale = 1 / Math.sqrt(D);
    hidden = hidden.map((x, pos) => {
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
      const o = linear(attn, weight(`${p}.self_attn.o_proj.weight`), H, opt(`${p}.self_attn.o_proj.bias`, c.oBias));
      const h1 = new Float64Array(H);
      for (let i = 0; i < H; i++) h1[i] = x[i]! + o[i]!;
      const hn = rmsNorm(h1, weight(`${p}.post_attention_layernorm.weight`), c.rmsNormEps);
      const gate = linear(hn, weight(`${p}.mlp.gate_proj.weight`), c.intermediateSize, opt(`${p}.mlp.gate_proj.bias`, c.mlpBias));
      const up = linear(hn, weight(`${p}.mlp.up_proj.weight`), c.intermediateSize, opt(`${p}.mlp.up_proj.bias`, c.mlpBias));
      for (let i = 0; i < gate.length; i++) gate[i] = (gate[i]! / (1 + Math.exp(-gate[i]!))) * up[i]!;
      const down = linear(gate, weight(`${p}.mlp.down_proj.weight`), H, opt(`${p}.mlp.down_proj.bias`, c.mlpBias));
      for (let i = 0; i < H; i++) h1[i]! += down[i]!;
      return h1;
    });
  }
  const head = c.tieWordEmbeddings ? emb : weight('lm_head.weight');
  return hidden.map((x) => linear(rmsNorm(x, weight('model.norm.weight'), c.rmsNormEps), head, c.vocabSize));
}
