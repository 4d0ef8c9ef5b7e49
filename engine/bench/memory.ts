// `bench-memory`: peak resident memory and prefill speed at long prompts, per model and bit width. Each
// measurement runs in its own process (peak RSS is per process): the graph is built (or found in the cache) by one
// child, then a fresh child loads it, prefills a prompt of N real tokens through the decoder (greedy, one new
// token, as a completion request would) and reports its VmHWM. Prints one JSON line last.
//   npm run -s presage -- bench-memory [--models demo,qwen0.5b] [--quant none,int8,int4] [--prompts 256,1500]
//     [--threads 1] [--work-dir DIR]
process.env.ORT_DISABLE_TELEMETRY = '1';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Decoder } from '../decode/decoder';
import { GRAPH_BUILDER_VERSION } from '../model/graph';
import { loadModel, writeTinyCheckpoint } from '../model/index';
import type { Quantization } from '../model/types';
import { loadTokenizer } from '../tokenizer';
import { flag, numberFlag, parseArgs } from '../cli/args';
import { REAL_SHAPES } from './realShape';

/** VmHWM and VmRSS of this process, from /proc (Linux); the process's maxRSS elsewhere. */
function memory(): { peakRssMB: number; rssMB: number } {
  const mb = (kb: number): number => Math.round(kb / 1024);
  try {
    const status = fs.readFileSync('/proc/self/status', 'utf8');
    const hwm = /VmHWM:\s+(\d+) kB/.exec(status);
    const rss = /VmRSS:\s+(\d+) kB/.exec(status);
    if (hwm && rss) return { peakRssMB: mb(Number(hwm[1])), rssMB: mb(Number(rss[1])) };
  } catch {
    // not Linux
  }
  return { peakRssMB: mb(process.resourceUsage().maxRSS), rssMB: Math.round(process.memoryUsage().rss / 2 ** 20) };
}

/** Source text of this repository, tokenized, cut to n tokens: a real prompt, deterministic across runs. */
function promptTokens(tokenizerDir: string, n: number): number[] {
  const tokenizer = loadTokenizer(tokenizerDir);
  const root = path.resolve(__dirname, '..', '..');
  const files = ['engine/decode/decoder.ts', 'engine/model/session.ts', 'engine/model/kvCache.ts', 'engine/decode/budget.ts', 'engine/model/arch/blocks.ts'];
  let text = '';
  for (const f of files) {
    const file = [path.join(root, f), path.join(process.cwd(), f)].find((p) => fs.existsSync(p));
    if (file) text += fs.readFileSync(file, 'utf8');
  }
  if (!text) throw new Error('bench-memory: no source text found for the prompt (run from the repository root)');
  const ids = tokenizer.encode(text);
  if (ids.length < n) throw new Error(`bench-memory: the prompt text has ${ids.length} tokens, ${n} asked for`);
  return ids.slice(0, n);
}

/** Child: load (graph from the cache), prefill n tokens, report memory and speed. */
async function child(args: ReturnType<typeof parseArgs>): Promise<number> {
  const modelDir = flag(args, 'model')!;
  const quantization = flag(args, 'quant') as Quantization;
  const threads = numberFlag(args, 'threads', 1);
  const n = numberFlag(args, 'prompt', 0);
  const t0 = performance.now();
  const loaded = await loadModel(modelDir, { quantization, cacheDir: flag(args, 'cache-dir')!, ...(threads > 0 ? { threads } : {}) });
  const loadMs = performance.now() - t0;
  const afterLoad = memory();
  let prefill: { tokensPerS: number; prefillMs: number } | undefined;
  if (n > 0) {
    const prompt = promptTokens(flag(args, 'tokenizer')!, n);
    const decoder = new Decoder({ model: loaded.model, decode: () => '', learnCost: false });
    const r = await decoder.generate({ requestId: 'mem', prompt, maxTokens: 1, speculative: false });
    prefill = { prefillMs: Math.round(r.metrics.prefillMs), tokensPerS: Math.round((n * 1000) / r.metrics.prefillMs) };
  }
  const end = memory();
  await loaded.model.dispose();
  process.stdout.write(JSON.stringify({ loadMs: Math.round(loadMs), rssAfterLoadMB: afterLoad.rssMB, ...end, ...prefill }) + '\n');
  return 0;
}

function runChild(argv: string[]): Promise<Record<string, number>> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [...process.execArgv, process.argv[1]!, 'bench-memory', '--child', ...argv], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => {
      const line = out.trim().split('\n').pop() ?? '';
      if (code !== 0 || !line.startsWith('{')) reject(new Error(`bench-memory child ${argv.join(' ')} exited with ${code}`));
      else resolve(JSON.parse(line) as Record<string, number>);
    });
  });
}

/** The Qwen2.5-0.5B-shaped random checkpoint with the real Qwen tokenizer, written once into the work folder. */
async function qwenCheckpoint(workDir: string, log: (s: string) => void): Promise<string> {
  const dir = path.join(workDir, 'qwen2.5-0.5b-shaped');
  const stamp = path.join(dir, '.complete');
  if (fs.existsSync(stamp)) return dir;
  const shape = REAL_SHAPES['qwen2.5-0.5b']!;
  const tokenizerDir = path.join(path.resolve(__dirname, '..', '..'), 'node_modules', '@lenml', `tokenizer-${shape.tokenizer}`, 'models');
  const fallback = path.join(process.cwd(), 'node_modules', '@lenml', `tokenizer-${shape.tokenizer}`, 'models');
  log(`writing a Qwen2.5-0.5B-shaped random checkpoint (tied, BF16) to ${dir}`);
  await writeTinyCheckpoint({ ...shape.checkpoint, out: dir, tokenizerDir: fs.existsSync(tokenizerDir) ? tokenizerDir : fallback, seed: 1, dtype: 'BF16' });
  fs.writeFileSync(stamp, '');
  return dir;
}

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, ['child']);
  if (flag(args, 'child') === 'true') return child(args);
  const log = (s: string): void => void process.stderr.write(`bench-memory: ${s}\n`);
  const workDir = flag(args, 'work-dir') ?? path.join(os.tmpdir(), 'presage-bench-memory');
  const cacheDir = flag(args, 'cache-dir') ?? path.join(workDir, 'graphs');
  const threads = numberFlag(args, 'threads', 1);
  const quants = (flag(args, 'quant') ?? 'none,int8,int4').split(',') as Quantization[];
  for (const q of quants) if (!['none', 'int8', 'int4'].includes(q)) throw new Error(`--quant expects none, int8 or int4, got '${q}'`);
  const prompts = (flag(args, 'prompts') ?? '256,1500').split(',').map(Number);
  if (prompts.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`--prompts expects positive integers, got '${flag(args, 'prompts')}'`);
  const models = (flag(args, 'models') ?? 'demo,qwen0.5b').split(',');
  const results: Record<string, unknown>[] = [];
  for (const name of models) {
    let dir: string;
    if (name === 'demo') dir = path.resolve(flag(args, 'demo') ?? 'models/demo');
    else if (name === 'qwen0.5b') dir = await qwenCheckpoint(workDir, log);
    else throw new Error(`--models expects demo and/or qwen0.5b, got '${name}'`);
    for (const quant of quants) {
      const common = ['--model', dir, '--quant', quant, '--cache-dir', cacheDir, '--threads', String(threads), '--tokenizer', dir];
      log(`${name} ${quant}: building the graph (or finding it in the cache)`);
      const t0 = performance.now();
      const build = await runChild(common);
      const buildS = Math.round((performance.now() - t0) / 100) / 10;
      // The first load of a graph builds it (cold start); later runs find it in the cache.
      const row: Record<string, unknown> = { model: name, quantization: quant, firstLoadS: buildS, loadMsInBuildChild: build.loadMs };
      for (const n of prompts) {
        const r = await runChild([...common, '--prompt', String(n)]);
        log(`${name} ${quant} prompt ${n}: peak ${r.peakRssMB} MB, ${r.tokensPerS} tokens/s`);
        row[`p${n}`] = { peakRssMB: r.peakRssMB, rssMB: r.rssMB, prefillTokensPerS: r.tokensPerS, warmLoadMs: r.loadMs };
      }
      results.push(row);
    }
  }
  const graphMB = fs.existsSync(cacheDir)
    ? Object.fromEntries(fs.readdirSync(cacheDir).map((k) => {
        const w = path.join(cacheDir, k, 'weights.bin');
        return [k.slice(0, 8), fs.existsSync(w) ? Math.round(fs.statSync(w).size / 2 ** 20) : 0];
      }))
    : {};
  process.stdout.write(JSON.stringify({ graph_builder_version: GRAPH_BUILDER_VERSION, threads, cpus: os.cpus().length, loadavg: Math.round(os.loadavg()[0]! * 10) / 10, results, weightsMB: graphMB }) + '\n');
  return 0;
}
