// Weight-only block quantization in the com.microsoft MatMulNBits layout (symmetric, default zero point).
export interface QuantizedWeight {
  /** [N, blocksPerCol, blockSize * bits / 8] */
  data: Uint8Array;
  /** [N * blocksPerCol] */
  scales: Float32Array;
  n: number;
  k: number;
  bits: 4 | 8;
  blockSize: number;
  blocksPerCol: number;
}

/** Quantizes W stored [N, K] (Hugging Face [out, in]) per block of K. */
export function quantizeWeight(w: Float32Array, n: number, k: number, bits: 4 | 8, blockSize = 32): QuantizedWeight {
  if (w.length !== n * k) throw new Error(`quantizeWeight: expected ${n * k} values, got ${w.length}`);
  const blocksPerCol = Math.ceil(k / blockSize);
  const blobSize = (blockSize * bits) / 8;
  const data = new Uint8Array(n * blocksPerCol * blobSize);
  const scales = new Float32Array(n * blocksPerCol);
  const qmax = bits === 4 ? 7 : 127;
  const zero = bits === 4 ? 8 : 128;
  for (let row = 0; row < n; row++) {
    for (let b = 0; b < blocksPerCol; b++) {
      const start = row * k + b * blockSize;
      const len = Math.min(blockSize, k - b * blockSize);
      let amax = 0;
      for (let i = 0; i < len; i++) amax = Math.max(amax, Math.abs(w[start + i]!));
      const scale = amax / qmax || 1;
      scales[row * blocksPerCol + b] = scale;
      const out = (row * blocksPerCol + b) * blobSize;
      for (let i = 0; i < blockSize; i++) {
        const q = i < len ? Math.max(-qmax - 1, Math.min(qmax, Math.round(w[start + i]! / scale))) + zero : zero;
        if (bits === 8) data[out + i] = q;
        else if (i % 2 === 0) data[out + (i >> 1)] = q;
        else data[out + (i >> 1)]! |= q << 4;
      }
    }
  }
  return { data, scales, n, k, bits, blockSize, blocksPerCol };
}

/** The float weights a quantized tensor stands for, [N, K]. */
export function dequantizeWeight(q: QuantizedWeight): Float32Array {
  const out = new Float32Array(q.n * q.k);
  const blobSize = (q.blockSize * q.bits) / 8;
  const zero = q.bits === 4 ? 8 : 128;
  for (let row = 0; row < q.n; row++) {
    for (let b = 0; b < q.blocksPerCol; b++) {
      const scale = q.scales[row * q.blocksPerCol + b]!;
      const base = (row * q.blocksPerCol + b) * blobSize;
      for (let i = 0; i < q.blockSize && b * q.blockSize + i < q.k; i++) {
        const byte = q.bits === 8 ? q.data[base + i]! : q.data[base + (i >> 1)]!;
        const v = q.bits === 8 ? byte : i % 2 === 0 ? byte & 15 : byte >> 4;
        out[row * q.k + b * q.blockSize + i] = (v - zero) * scale;
      }
    }
  }
  return out;
}
