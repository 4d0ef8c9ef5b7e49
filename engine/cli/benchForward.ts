// `bench-forward`: forward-pass cost for tree sizes S and contexts, on a Qwen2.5-0.5B-shaped random checkpoint
// (or --model DIR), fp32 and int4. Prints one JSON line last.
process.env.ORT_DISABLE_TELEMETRY = '1';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fitForwardCost, measureForwardCost, type CostSample } from '../model/forwardCost';
import { GRAPH_BUILDER_VERSION } from '../model/graph';
import { loadModel, parseDevice, writeTinyCheckpoint } from '../model/index';
import type { Quantization } from '../model/types';
import { flag, numberFlag, parseArgs } from './args';

const QWEN05B_SHAPE = { arch: 'qwen2', layers: 24, hidden: 896, heads: 14, kvHeads: 2, intermediate: 4864, vocabSize: 151936 } as const;

function numberList(v: string | undefined, fallback: number[], name: string): number[] {
  if (v === undefined) return fallback;
  const xs = v.split(',').map((x) => Number(x.trim()));
  if (xs.some((x) => !Number.isInteger(x) || x < 0)) throw new Error(`--${name} expects a comma-separated list of integers, got '${v}'`);
  return xs;
}

/** Writes the Qwen-shaped random checkpoint once and reuses it. */
async function benchCheckpoint(workDir: string, log: (s: string) => void): Promise<string> {
  const dir = path.join(workDir, 'qwen2.5-0.5b-shaped');
  const stamp = path.join(dir, '.complete');
  if (fs.existsSync(stamp)) return dir;
  log(`writing a Qwen2.5-0.5B-shaped random checkpoint to ${dir} (about 2 GB)`);
  await writeTinyCheckpoint({ ...QWEN05B_SHAPE, out: dir, seed: 1, maxPositionEmbeddings: 32768, ropeTheta: 1000000 });
  fs.writeFileSync(stamp, '');
  return dir;
}

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv);
  const sizes = numberList(flag(args, 'sizes'), [1, 4, 8, 16, 32], 'sizes');
  const contexts = numberList(flag(args, 'contexts'), [256, 2048], 'contexts');
  const reps = numberFlag(args, 'reps', 3);
  const threads = numberFlag(args, 'threads', 0);
  const accuracyLevel = flag(args, 'accuracy-level');
  const quants = (flag(args, 'quant') ?? 'none,int4').split(',') as Quantization[];
  for (const q of quants) if (!['none', 'int8', 'int4'].includes(q)) throw new Error(`--quant expects none, int8 or int4, got '${q}'`);
  const workDir = flag(args, 'work-dir') ?? path.join(os.tmpdir(), 'presage-bench-forward');
  const log = (s: string): void => void process.stderr.write(`bench-forward: ${s}\n`);
  const modelDir = flag(args, 'model') ?? (await benchCheckpoint(workDir, log));
  const cacheDir = flag(args, 'cache-dir') ?? path.join(workDir, 'graphs');
  const results: Record<string, unknown>[] = [];
  const loadBefore = os.loadavg()[0]!;
  const table: Record<string, Record<string, Record<string, number>>> = {};
  const tableMin: Record<string, Record<string, Record<string, number>>> = {};
  for (const quantization of quants) {
    const t0 = performance.now();
    const loaded = await loadModel(modelDir, {
      device: parseDevice(flag(args, 'device')) ?? 'auto',
      quantization,
      cacheDir,
      ...(accuracyLevel !== undefined ? { accuracyLevel: numberFlag(args, 'accuracy-level', 4) } : {}),
      ...(threads > 0 ? { threads } : {}),
      onWarning: (m) => log(m),
      onProgress: (stage, f) => {
        if (stage === 'build' && Math.round(f * 24) % 6 === 0) log(`${quantization}: building graph ${Math.round(f * 100)}%`);
      },
    });
    const loadS = (performance.now() - t0) / 1000;
    log(`${quantization}: loaded in ${loadS.toFixed(1)} s (graph ${loaded.graphDir})`);
    let samples: CostSample[];
    try {
      samples = await measureForwardCost(loaded.model, sizes, contexts, reps);
    } finally {
      await loaded.model.dispose();
    }
    const fit = fitForwardCost(samples);
    table[quantization] = {};
    tableMin[quantization] = {};
    for (const x of samples) {
      (table[quantization]![`ctx${x.context}`] ??= {})[`s${x.s}`] = Math.round(x.ms * 10) / 10;
      (tableMin[quantization]![`ctx${x.context}`] ??= {})[`s${x.s}`] = Math.round((x.minMs ?? x.ms) * 10) / 10;
      log(`${quantization} context ${x.context} S=${x.s}: median ${x.ms.toFixed(1)} ms, min ${(x.minMs ?? x.ms).toFixed(1)} ms`);
    }
    results.push({ quantization, load_s: Math.round(loadS * 10) / 10, samples, fit: fit.coefficients, device: loaded.info.device, ...(loaded.info.adapter ? { adapter: loaded.info.adapter } : {}), parameters: loaded.info.parameters });
  }
  process.stdout.write(
    JSON.stringify({
      model: flag(args, 'model') ?? 'qwen2.5-0.5b-shaped random',
      cpus: os.cpus().length,
      // One-minute load average before and after: the machine is shared, so read medians against it.
      loadavg: [Math.round(loadBefore * 10) / 10, Math.round(os.loadavg()[0]! * 10) / 10],
      graph_builder_version: GRAPH_BUILDER_VERSION,
      reps,
      ms_median: table,
      ms_min: tableMin,
      results,
    }) + '\n',
  );
  return 0;
}
