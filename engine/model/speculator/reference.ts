// The speculator's step as naive float64 loops: the oracle the ONNX graph is tested against.
import { mixingWeights, SPECULATOR_LN_EPS, type SpeculatorCheckpoint } from './checkpoint';

function gelu(x: number): number {
  // exact GELU (erf form), as torch.nn.functional.gelu and ONNX's Gelu default
  return 0.5 * x * (1 + erf(x / Math.SQRT2));
}

/** erf to about 1e-15 (series near 0, continued fraction beyond): Math has no erf. */
export function erf(x: number): number {
  const s = Math.sign(x);
  const a = Math.abs(x);
  if (a < 2.5) {
    let term = a;
    let sum = a;
    for (let n = 1; n < 80; n++) {
      term *= (-a * a) / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17) break;
    }
    return (s * 2 * sum) / Math.sqrt(Math.PI);
  }
  // erfc continued fraction (Lentz), accurate for a >= 2.5
  let f = a;
  let c = a;
  let d = 0;
  for (let n = 1; n < 200; n++) {
    const an = n / 2;
    d = a + an * d;
    d = 1 / d;
    c = a + an / c;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  const erfc = Math.exp(-a * a) / (f * Math.sqrt(Math.PI));
  return s * (1 - erfc);
}

/**
 * Head `index` for each row: state [rows, in] (the base hidden state at head 0), token [rows].
 * Returns the next state [rows, inner] and logits [rows, vocab], both float64.
 */
export function speculatorStepReference(ckpt: SpeculatorCheckpoint, index: number, state: Float64Array, tokens: readonly number[]): { state: Float64Array; logits: Float64Array } {
  const c = ckpt.config;
  const h = ckpt.heads[index]!;
  const rows = tokens.length;
  const inDim = h.projIn;
  const I = c.innerDim;
  const V = c.vocabSize;
  const { stateWeight, embWeight } = mixingWeights(c);
  const next = new Float64Array(rows * I);
  const logits = new Float64Array(rows * V);
  for (let r = 0; r < rows; r++) {
    let x = Array.from(state.subarray(r * inDim, (r + 1) * inDim));
    if (index === 0 && c.scaleInput) {
      const ms = x.reduce((a, v) => a + v * v, 0) / inDim;
      const inv = 1 / Math.sqrt(ms + SPECULATOR_LN_EPS) / Math.SQRT2;
      x = x.map((v) => v * inv);
    }
    const z = new Float64Array(I);
    for (let o = 0; o < I; o++) {
      let acc = 0;
      for (let k = 0; k < inDim; k++) acc += h.proj[o * inDim + k]! * x[k]!;
      z[o] = acc + h.emb[tokens[r]! * I + o]! * (embWeight / stateWeight);
    }
    let ms = 0;
    for (let o = 0; o < I; o++) ms += z[o]! * z[o]!;
    const inv = 1 / Math.sqrt(ms / I + SPECULATOR_LN_EPS);
    for (let o = 0; o < I; o++) next[r * I + o] = gelu(z[o]! * inv * h.lnWeight[o]! + h.lnBias[o]!);
    for (let v = 0; v < V; v++) {
      let acc = 0;
      for (let k = 0; k < I; k++) acc += h.head[v * I + k]! * next[r * I + k]!;
      logits[r * V + v] = acc;
    }
  }
  return { state: next, logits };
}
