// RoPE inverse frequencies with the configured scaling, shared by the graph blocks and the reference.
import type { ModelConfig } from '../config';

/** RoPE inverse frequencies, [headDim / 2], with the configured scaling applied (as in transformers). */
export function ropeInvFreq(config: ModelConfig): Float64Array {
  const half = config.headDim / 2;
  const inv = new Float64Array(half);
  for (let i = 0; i < half; i++) inv[i] = 1 / Math.pow(config.ropeTheta, (2 * i) / config.headDim);
  const s = config.ropeScaling;
  if (s.type === 'linear') for (let i = 0; i < half; i++) inv[i]! /= s.factor;
  if (s.type === 'llama3') {
    const lowFreqWavelen = s.originalMaxPosition / s.lowFreqFactor;
    const highFreqWavelen = s.originalMaxPosition / s.highFreqFactor;
    for (let i = 0; i < half; i++) {
      const f = inv[i]!;
      const wavelen = (2 * Math.PI) / f;
      if (wavelen > lowFreqWavelen) inv[i] = f / s.factor;
      else if (wavelen >= highFreqWavelen) {
        const smooth = (s.originalMaxPosition / wavelen - s.lowFreqFactor) / (s.highFreqFactor - s.lowFreqFactor);
        inv[i] = (1 - smooth) * (f / s.factor) + smooth * f;
      }
    }
  }
  return inv;
}

/**
 * RoPE inverse frequencies for a base and a rotary dim, each optionally divided by a per-frequency factor
 * (longrope's short/long factors), rounded to float32 as transformers keeps them.
 */
export function plainInvFreq(theta: number, dim: number, divisors?: readonly number[]): Float64Array {
  const inv = new Float32Array(dim / 2);
  for (let i = 0; i < dim / 2; i++) inv[i] = 1 / ((divisors?.[i] ?? 1) * Math.pow(theta, (2 * i) / dim));
  return Float64Array.from(inv);
}
