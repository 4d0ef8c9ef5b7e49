// sfc32: a small, fast seeded generator of uniform floats in [0, 1), shared by sampling and random checkpoints.

/** An sfc32 stream from four 32-bit words of state, after `warmup` discarded outputs. */
export function sfc32(a: number, b: number, c: number, d: number, warmup: number): () => number {
  const next = (): number => {
    a >>>= 0;
    b >>>= 0;
    c >>>= 0;
    d >>>= 0;
    let t = (a + b) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    d = (d + 1) | 0;
    t = (t + d) | 0;
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  for (let i = 0; i < warmup; i++) next();
  return next;
}
