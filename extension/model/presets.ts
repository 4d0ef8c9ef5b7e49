// The curated models of the first-run picker, and honest estimates for each on this machine: download size, the
// memory it needs, and plain-decoding speed. The speed comes from the calibrated forward-cost curve (bench-forward,
// engine/bench/README.md: one token after 256 of context on a Qwen2.5-0.5B shape took 64.4 ms in fp32 and 24.1 ms
// in int4 on the reference machine), fitted as ms per billion parameters = a · bytes per weight + b, and scaled by
// this machine's memory bandwidth against the reference machine's (both measured with measureBandwidth). Every
// number is an estimate and is shown as one.

/** One curated model. Sizes are the hub's safetensors totals (bf16) and parameter counts of the released repos. */
export interface ModelPreset {
  repoId: string;
  label: string;
  family: string;
  /** Parameters, in billions. */
  paramsB: number;
  /** Download size in bytes (all safetensors shards plus tokenizer files, as listed on the hub). */
  downloadBytes: number;
  /** Instruction-tuned: follows chat and rewrite instructions (FIM completion works with base and instruct alike). */
  instruct: boolean;
  note?: string;
}

const GB = 1e9;

export const PRESETS: readonly ModelPreset[] = [
  { repoId: 'Qwen/Qwen2.5-Coder-0.5B-Instruct', label: 'Qwen2.5-Coder 0.5B Instruct', family: 'qwen2', paramsB: 0.49, downloadBytes: 0.99 * GB, instruct: true },
  { repoId: 'Qwen/Qwen2.5-Coder-1.5B-Instruct', label: 'Qwen2.5-Coder 1.5B Instruct', family: 'qwen2', paramsB: 1.54, downloadBytes: 3.09 * GB, instruct: true },
  { repoId: 'Qwen/Qwen2.5-Coder-3B-Instruct', label: 'Qwen2.5-Coder 3B Instruct', family: 'qwen2', paramsB: 3.09, downloadBytes: 6.18 * GB, instruct: true },
  { repoId: 'Qwen/Qwen2.5-Coder-7B-Instruct', label: 'Qwen2.5-Coder 7B Instruct', family: 'qwen2', paramsB: 7.62, downloadBytes: 15.2 * GB, instruct: true },
  { repoId: 'Qwen/Qwen3-1.7B', label: 'Qwen3 1.7B', family: 'qwen3', paramsB: 2.03, downloadBytes: 4.06 * GB, instruct: true, note: 'general model, chat and rewrite; no FIM tokens' },
  { repoId: 'ibm-granite/granite-3.1-2b-instruct', label: 'Granite 3.1 2B Instruct', family: 'granite', paramsB: 2.53, downloadBytes: 5.07 * GB, instruct: true },
  { repoId: 'meta-llama/Llama-3.2-1B-Instruct', label: 'Llama 3.2 1B Instruct', family: 'llama', paramsB: 1.24, downloadBytes: 2.47 * GB, instruct: true, note: 'gated: accept the licence on the hub and set HF_TOKEN' },
];

export type Quantization = 'none' | 'int8' | 'int4';

/** Bytes per weight as the engine stores it (engine/model/quantize.ts: blocks of 32 with a float32 scale each). */
export function bytesPerWeight(q: Quantization): number {
  return q === 'int4' ? 0.5 + 4 / 32 : q === 'int8' ? 1 + 4 / 32 : 4; // 'none': float32 on the CPU provider
}

/**
 * The quantization to load with: the user's setting when they chose one; otherwise, on a CPU, int8 for models of
 * 1–4 B parameters and int4 above (decoding speed there is memory bandwidth over weight bytes), none below 1 B.
 */
export function autoQuantization(opts: { setting: Quantization | 'auto'; device: 'cpu' | 'gpu'; paramsB: number | undefined }): Quantization {
  if (opts.setting !== 'auto') return opts.setting;
  if (opts.device !== 'cpu' || opts.paramsB === undefined || opts.paramsB <= 1) return 'none';
  return opts.paramsB <= 4 ? 'int8' : 'int4';
}

export interface Machine {
  totalMemBytes: number;
  freeMemBytes: number;
  /** A GPU the engine ran a model on (from loadModel's device), if any. */
  gpu: boolean;
  /** Measured memory copy bandwidth, bytes/s (undefined: not measured). */
  bandwidthBytesPerS?: number;
}

export interface PresetEstimate {
  preset: ModelPreset;
  quantization: Quantization;
  /** Resident memory while serving: weights at that quantization, KV cache for 4 k tokens, runtime. */
  memoryBytes: number;
  /** Plain (non-speculative) decoding tokens/s; speculation adds to it on repetitive code. */
  tokensPerS?: number;
  fits: boolean;
}

/** The reference machine of bench-forward (2 cores, shared): measureBandwidth gave about 7 GB/s there. */
export const REFERENCE_BANDWIDTH = 7e9;
/** ms per token per billion parameters on the reference machine: a · bytes per weight + b (fp32 and int4 fit). */
const MS_PER_B = { perByte: (64.4 - 24.1) / 0.494 / (4 - 0.625), fixed: 0 };
MS_PER_B.fixed = 24.1 / 0.494 - 0.625 * MS_PER_B.perByte;

/** Plain decoding tokens/s of `paramsB` billion parameters stored at `q`, on a machine with this bandwidth. */
export function estimateTokensPerS(paramsB: number, q: Quantization, bandwidthBytesPerS: number): number {
  const msRef = paramsB * (MS_PER_B.perByte * bytesPerWeight(q) + MS_PER_B.fixed);
  return 1000 / (msRef * (REFERENCE_BANDWIDTH / bandwidthBytesPerS));
}
const RUNTIME_OVERHEAD_BYTES = 0.4 * GB;
/** KV cache per billion parameters at 4 k tokens (fp32 K and V; Qwen2.5-Coder's GQA keeps it small). */
const KV_BYTES_PER_B = 0.05 * GB;

export function estimate(preset: ModelPreset, machine: Machine): PresetEstimate {
  const quantization = autoQuantization({ setting: 'auto', device: machine.gpu ? 'gpu' : 'cpu', paramsB: preset.paramsB });
  // On a GPU the weights stay in the checkpoint's 16-bit form.
  const weightBytes = preset.paramsB * GB * (machine.gpu && quantization === 'none' ? 2 : bytesPerWeight(quantization));
  const memoryBytes = weightBytes + preset.paramsB * KV_BYTES_PER_B + RUNTIME_OVERHEAD_BYTES;
  // No GPU curve is calibrated: on a GPU the speed is not estimated rather than guessed.
  const tokensPerS = !machine.gpu && machine.bandwidthBytesPerS ? estimateTokensPerS(preset.paramsB, quantization, machine.bandwidthBytesPerS) : undefined;
  return { preset, quantization, memoryBytes, ...(tokensPerS !== undefined ? { tokensPerS } : {}), fits: memoryBytes <= 0.6 * machine.totalMemBytes };
}

/** Slowest plain decoding the recommendation accepts on a CPU (ghost text must keep up with typing). */
export const MIN_TOKENS_PER_S = 10;

/**
 * The preset to recommend: the largest Qwen2.5-Coder that fits in memory (60 % of RAM, and what is free now plus
 * what the OS can reclaim) and, on a CPU, still decodes at MIN_TOKENS_PER_S; the smallest when none does.
 */
export function recommend(machine: Machine, presets: readonly ModelPreset[] = PRESETS): ModelPreset {
  const coders = presets.filter((p) => p.repoId.startsWith('Qwen/Qwen2.5-Coder-')).sort((a, b) => a.paramsB - b.paramsB);
  let best = coders[0]!;
  for (const p of coders) {
    const e = estimate(p, machine);
    const fast = machine.gpu || e.tokensPerS === undefined || e.tokensPerS >= MIN_TOKENS_PER_S;
    if (e.fits && e.memoryBytes <= Math.max(machine.freeMemBytes, 0.5 * machine.totalMemBytes) && fast) best = p;
  }
  return best;
}

/** Memory copy bandwidth in bytes/s: the best of a few copies of a buffer larger than any CPU cache. */
export function measureBandwidth(bytes = 64 << 20, rounds = 4): number {
  const src = Buffer.alloc(bytes, 1);
  const dst = Buffer.allocUnsafe(bytes);
  src.copy(dst); // touch the pages first
  let best = Infinity;
  for (let i = 0; i < rounds; i++) {
    const t0 = process.hrtime.bigint();
    src.copy(dst);
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e9);
  }
  // A copy reads and writes every byte.
  return (2 * bytes) / best;
}

export function formatBytes(b: number): string {
  return b >= GB ? `${(b / GB).toFixed(1)} GB` : `${Math.round(b / 1e6)} MB`;
}

/** One line per preset for the picker: "1.0 GB download · needs ≈ 1.4 GB RAM (int8) · ≈ 35 tok/s estimated". */
export function describeEstimate(e: PresetEstimate): string {
  const q = e.quantization === 'none' ? '' : ` (${e.quantization})`;
  const speed = e.tokensPerS !== undefined ? ` · ≈ ${e.tokensPerS >= 10 ? Math.round(e.tokensPerS) : e.tokensPerS.toFixed(1)} tok/s estimated` : '';
  return `${formatBytes(e.preset.downloadBytes)} download · needs ≈ ${formatBytes(e.memoryBytes)} RAM${q}${speed}${e.fits ? '' : ' · too large for this machine'}`;
}
