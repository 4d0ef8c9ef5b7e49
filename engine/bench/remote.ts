// `bench-remote`: inline-completion latency of one engine process (`stdio`, as the extension spawns it) with the
// model loaded locally, against the same engine with a remote back end: `presage serve` on loopback with the same
// model. Same prompts, same process, one run; prints one JSON line.
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { flag, numberFlag, parseArgs } from '../cli/args';
import { writeTinyCheckpoint } from '../model/index';
import * as P from '../protocol';
import { spawnEngine } from '../server/client';
import { percentile } from '../server/stats';
import { sharedPath } from '../sharedPaths';

/** Cursor positions in this repository's own engine code: prefix up to the cursor, a suffix after it. */
function completionCases(count: number, seed: number): { prefix: string; suffix: string; uri: string }[] {
  // From the bundle (dist/) or the sources (engine/bench/).
  const dir = [path.resolve(__dirname, '..', 'engine', 'server'), path.resolve(__dirname, '..', 'server'), path.resolve('engine', 'server')].find((d) => fs.existsSync(path.join(d, 'engine.ts'))) ?? path.resolve('engine', 'server');
  const sources = ['engine.ts', 'http.ts', 'rpc.ts', 'modelSlot.ts', 'documents.ts', 'history.ts']
    .map((f) => path.join(dir, f)).filter((f) => fs.existsSync(f)).map((f) => ({ uri: `file://${f}`, text: fs.readFileSync(f, 'utf8') }));
  if (sources.length === 0) throw new Error(`bench-remote: no source files under ${dir} to cut prompts from`);
  const out: { prefix: string; suffix: string; uri: string }[] = [];
  let state = seed >>> 0;
  const next = (): number => (state = (Math.imul(state, 1664525) + 1013904223) >>> 0);
  for (let i = 0; i < count; i++) {
    const src = sources[next() % sources.length]!;
    const lines = src.text.split('\n');
    const line = 10 + (next() % Math.max(1, lines.length - 20));
    const cut = lines.slice(0, line).join('\n').length + 1 + Math.min(lines[line]!.length, 4);
    out.push({ uri: src.uri, prefix: src.text.slice(Math.max(0, cut - 3000), cut), suffix: src.text.slice(cut, cut + 800) });
  }
  return out;
}

function summary(ms: number[]): { p50: number; p95: number; mean: number } {
  const round = (v: number): number => Math.round(v * 10) / 10;
  return { p50: round(percentile(ms, 0.5)), p95: round(percentile(ms, 0.95)), mean: round(ms.reduce((a, b) => a + b, 0) / Math.max(1, ms.length)) };
}

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv);
  const count = numberFlag(args, 'completions', 40);
  const warmup = numberFlag(args, 'warmup', 5);
  const maxTokens = numberFlag(args, 'max-tokens', 24);
  const enginePath = path.resolve(flag(args, 'engine') ?? process.argv[1] ?? 'dist/engine.js');
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'presage-bench-remote-'));
  let model = flag(args, 'model');
  if (!model) {
    model = path.join(root, 'model');
    await writeTinyCheckpoint({ out: model, arch: 'qwen2', layers: 4, hidden: 128, heads: 4, kvHeads: 2, intermediate: 256, tokenizerDir: sharedPath('tokenizers/gpt2'), seed: 7 });
  }
  const cacheDir = path.join(root, 'cache');
  const token = crypto.randomBytes(18).toString('base64url');
  const serve = spawn(process.execPath, [enginePath, 'serve', '--port', '0', '--host', '127.0.0.1', '--model', model, '--cache-dir', cacheDir, '--token', token], {
    stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ORT_DISABLE_TELEMETRY: '1' },
  });
  const engine = spawnEngine(enginePath);
  try {
    let stderr = '';
    serve.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      serve.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('\n')) resolve((JSON.parse(out.split('\n')[0]!) as { url: string }).url);
      });
      serve.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${stderr.slice(-2000)}`)));
    });
    await engine.request(P.Initialize, { clientName: 'bench-remote', clientVersion: '0' });
    await engine.request(P.LoadModel, { model, cacheDir });
    const cases = completionCases(warmup + count, 17);
    for (const c of cases) engine.notify(P.OpenDocument, { uri: c.uri, version: 1, source: 'editor', languageId: 'typescript', text: c.prefix + c.suffix });

    const measure = async (label: string): Promise<{ latency: number[]; firstToken: number[]; texts: string[] }> => {
      const latency: number[] = [];
      const firstToken: number[] = [];
      const texts: string[] = [];
      for (let i = 0; i < cases.length; i++) {
        const c = cases[i]!;
        const t0 = performance.now();
        const r = await engine.request(P.Complete, { requestId: `${label}-${i}`, uri: c.uri, language: 'typescript', prefix: c.prefix, suffix: c.suffix, maxTokens, stopAtBlockEnd: true });
        const ms = performance.now() - t0;
        if (i < warmup) continue;
        latency.push(ms);
        firstToken.push(r.metrics.firstTokenMs);
        texts.push(r.text);
      }
      return { latency, firstToken, texts };
    };
    const local = await measure('local');
    const health = await engine.request(P.ConfigureBackend, { backend: 'remote', url, token });
    if (!health.ok) throw new Error(`bench-remote: the remote back end is not healthy: ${health.error}`);
    const remote = await measure('remote');
    const same = local.texts.filter((t, i) => t === remote.texts[i]).length;
    process.stdout.write(JSON.stringify({
      bench: 'remote', model: flag(args, 'model') ?? 'tiny qwen2 4x128 (gpt2 tokenizer)', completions: count, warmup, max_tokens: maxTokens,
      remote: { url, health_latency_ms: health.latencyMs },
      local_ms: summary(local.latency), remote_ms: summary(remote.latency),
      local_first_token_ms: summary(local.firstToken), remote_first_token_ms: summary(remote.firstToken),
      overhead_p50_ms: Math.round((percentile(remote.latency, 0.5) - percentile(local.latency, 0.5)) * 10) / 10,
      identical_texts: same, loadavg: os.loadavg().map((v) => Math.round(v * 100) / 100),
    }) + '\n');
    return 0;
  } finally {
    engine.dispose();
    serve.kill();
    fs.rmSync(root, { recursive: true, force: true });
  }
}
