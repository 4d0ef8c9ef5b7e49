// Inline-completion latency under a cancel storm, against the real engine process (dist/engine.js stdio).
// For each scripted completion from the replay files, the last characters before the cursor are typed one keystroke
// at a time; every keystroke sends the edit and a completion request, which the next keystroke cancels
// ($/cancelRequest). Only the last request of each burst may finish: 90 % of requests are cancelled.
// Reports first-ghost-text latency (first streamed line or the final result, as the provider shows it), engine RSS
// before and after, and whether any stale result would have been shown.
//
// Usage: node --import tsx extension/bench/inlineLatency.ts [--model DIR] [--data FILE.jsonl …] [--completions 200]
//        [--keystrokes 10] [--gap-ms 25] [--max-tokens 48] [--engine dist/engine.js] [--tokenizer DIR]
// The last line of stdout is one JSON object.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CancellationTokenSource } from 'vscode-jsonrpc/node';
import { flag, listFlag, numberFlag, parseArgs } from '../../engine/cli/args';
import * as P from '../../engine/protocol';
import { spawnEngine } from '../../engine/server/client';
import { AdaptiveDebouncer } from '../common/debouncer';
import { extractFimContext } from '../common/fimContext';
import { InflightRequests } from '../common/inflight';
import { percentile } from '../common/latencyTracker';
import { EARLY_GRACE_MS, firstLine } from '../common/streaming';
import { sharedPath } from '../../engine/sharedPaths';
import { loadRecords, type ReplayRecord } from '../../engine/bench/replay';


const root = path.resolve(__dirname, '..', '..');

function readRecords(files: string[]): ReplayRecord[] {
  return files.flatMap((file) => loadRecords(file));
}

function languageId(language: string): string {
  const l = language.toLowerCase();
  return l === 'ts' ? 'typescript' : l === 'py' ? 'python' : l;
}

function tinyModel(engine: string, tokenizer: string): string {
  const dir = path.join(os.tmpdir(), `presage-bench-tiny-${process.pid}`);
  const r = spawnSync(process.execPath, [engine, 'make-tiny-model', '--out', dir, '--arch', 'llama', '--layers', '2', '--hidden', '64', '--heads', '4',
    '--kv-heads', '2', '--intermediate', '128', '--tokenizer', tokenizer, '--seed', '7'], { encoding: 'utf8', env: { ...process.env, ORT_DISABLE_TELEMETRY: '1' } });
  if (r.status !== 0) throw new Error(`make-tiny-model failed: ${(r.stderr || r.stdout).slice(-500)}`);
  return dir;
}

function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const enginePath = path.resolve(flag(args, 'engine') ?? path.join(root, 'dist', 'engine.js'));
  if (!fs.existsSync(enginePath)) throw new Error(`${enginePath} is missing: run npm run build first`);
  const data = listFlag(args, 'data');
  const files = data.length > 0 ? data : fs.readdirSync(sharedPath('bench/replay')).filter((f) => f.endsWith('.jsonl')).map((f) => path.join(sharedPath('bench/replay'), f));
  const completions = numberFlag(args, 'completions', 200);
  const keystrokes = numberFlag(args, 'keystrokes', 10);
  const gapMs = numberFlag(args, 'gap-ms', 25);
  const maxTokens = numberFlag(args, 'max-tokens', 48);
  const warmup = numberFlag(args, 'warmup', 10);
  if (keystrokes < 1 || completions < 1) throw new Error('--keystrokes and --completions must be at least 1');
  const model = flag(args, 'model') ?? tinyModel(enginePath, flag(args, 'tokenizer') ?? sharedPath('tokenizers/gpt2'));

  // Completion cases first (their prompt ends at a real cursor), then edits; enough of them, in file order.
  const all = readRecords(files).filter((r) => r.prompt.length > keystrokes + 1);
  const cases = [...all.filter((r) => r.task === 'complete'), ...all.filter((r) => r.task !== 'complete')];
  if (cases.length === 0) throw new Error('no usable replay records');

  const engine = spawnEngine(enginePath);
  const pid = engine.child.pid!;
  const partials = new Map<string, (delta: string) => void>();
  engine.connection.onNotification(P.PartialResult, (p) => partials.get(p.requestId)?.(p.delta));
  await engine.request(P.Initialize, { clientName: 'bench', clientVersion: '0' });
  const load = await engine.request(P.LoadModel, { model, device: 'cpu' });

  const inflight = new InflightRequests();
  let requestCounter = 0;
  let version = 0;
  const firstGhostMs: number[] = [];
  /** The last request of each burst: the ghost text the user waits for once they stop typing (NaN: none shown). */
  const lastGhostMs: number[] = [];
  const totalMs: number[] = [];
  let requests = 0;
  let cancelRequested = 0;
  let cancelled = 0;
  let finishedAfterSuperseded = 0;
  let staleShown = 0;
  let errors = 0;
  const openedRefs = new Set<string>();

  /** The workspace around a record: its reference files, opened once (as the indexer does in the background). */
  function openReferences(record: ReplayRecord): void {
    for (const [i, ref] of (record.references ?? []).entries()) {
      const refUri = `file:///bench/refs/${record.id}-${i}`;
      if (openedRefs.has(refUri)) continue;
      openedRefs.add(refUri);
      engine.notify(P.OpenDocument, { uri: refUri, version: 0, text: ref, source: 'workspace', languageId: languageId(record.language) });
    }
  }

  /** One scripted completion: type `keystrokes` characters, one request per keystroke; returns the shown latency. */
  async function scripted(record: ReplayRecord, index: number, measure: boolean): Promise<void> {
    const uri = `file:///bench/${index}-${record.id}.${record.language}`;
    const lang = languageId(record.language);
    openReferences(record);
    const full = record.prompt;
    const startAt = full.length - keystrokes;
    let text = full.slice(0, startAt);
    engine.notify(P.OpenDocument, { uri, version: ++version, text, source: 'editor', languageId: lang });
    const pending: Promise<void>[] = [];
    for (let k = 0; k < keystrokes; k++) {
      const ch = full[startAt + k]!;
      engine.notify(P.ChangeDocument, { uri, version: ++version, changes: [{ rangeOffset: text.length, rangeLength: 0, text: ch }] });
      text += ch;
      const prefixAtSend = text;
      const last = k === keystrokes - 1;
      const ticket = inflight.begin(uri);
      const cts = new CancellationTokenSource();
      ticket.signal.addEventListener('abort', () => cts.cancel(), { once: true });
      const requestId = `bench-${++requestCounter}`;
      const t0 = performance.now();
      let streamed = '';
      let firstAt: number | undefined;
      let lineSeen = false;
      const show = (): void => {
        if (firstAt !== undefined) return;
        // The provider's rule: only the newest request of the document may show anything.
        if (!inflight.isCurrent(uri, ticket.id)) return;
        firstAt = performance.now() - t0;
        if (prefixAtSend !== text) staleShown++;
      };
      partials.set(requestId, (delta) => {
        streamed += delta;
        // As the provider does: the first line shows after a short grace unless the whole result comes first.
        if (!lineSeen && firstLine(streamed) !== undefined) {
          lineSeen = true;
          setTimeout(show, EARLY_GRACE_MS);
        }
      });
      requests++;
      if (k < keystrokes - 1) cancelRequested++;
      // The same window around the cursor as the provider sends (the cursor is at the end of the typed text).
      const fim = extractFimContext(text, text.length);
      pending.push(engine.request(P.Complete, { requestId, uri, language: lang, prefix: fim.prefix, suffix: fim.suffix, maxTokens, stopAtBlockEnd: true, timeBudgetMs: 2000 }, cts)
        .then((r) => {
          if (r.finishReason === 'cancelled') cancelled++;
          else if (!inflight.isCurrent(uri, ticket.id)) finishedAfterSuperseded++;
          else if (r.text.trim()) show();
          if (measure && firstAt !== undefined) {
            firstGhostMs.push(firstAt);
            totalMs.push(performance.now() - t0);
          }
          if (measure && last) lastGhostMs.push(firstAt ?? NaN);
        }, (err: Error) => {
          if (/cancel/i.test(err.message)) cancelled++;
          else {
            errors++;
            if (errors <= 3) process.stderr.write(`request failed: ${err.message}\n`);
          }
        })
        .finally(() => {
          partials.delete(requestId);
          ticket.done();
        }));
      if (k < keystrokes - 1) await sleep(gapMs);
    }
    await Promise.all(pending);
    engine.notify(P.CloseDocument, { uri });
    engine.notify(P.RemoveDocument, { uri });
  }

  // The whole workspace is indexed before measuring, so RSS compares like with like.
  for (let i = 0; i < Math.min(cases.length, completions + warmup); i++) openReferences(cases[i]!);
  // RSS is sampled after each of the last 10 warm-up and the last 10 measured completions; medians are compared.
  const beforeSamples: number[] = [];
  for (let i = 0; i < warmup; i++) {
    await scripted(cases[i % cases.length]!, -1 - i, false);
    if (i >= warmup - 10) beforeSamples.push(rssOf(pid));
  }
  await sleep(300);
  if (beforeSamples.length === 0) beforeSamples.push(rssOf(pid));
  const rssBefore = median(beforeSamples);
  const statsBefore = await engine.request0(P.Stats);
  const counted = { requests, cancelled, cancelRequested };
  const t0 = performance.now();
  const rssTrend: number[] = [];
  const afterSamples: number[] = [];
  for (let i = 0; i < completions; i++) {
    await scripted(cases[i % cases.length]!, i, true);
    if ((i + 1) % 50 === 0) rssTrend.push(+(rssOf(pid) / 1048576).toFixed(1));
    if (i >= completions - 10) afterSamples.push(rssOf(pid));
  }
  const wallS = (performance.now() - t0) / 1000;
  await sleep(300);
  const rssAfter = median(afterSamples);
  const statsAfter = await engine.request0(P.Stats);
  await engine.request0(P.Shutdown).catch(() => undefined);
  engine.dispose();

  // The provider waits this long after the last keystroke of such a burst before it asks (not included above).
  const debouncer = new AdaptiveDebouncer();
  for (let k = 0; k < keystrokes; k++) debouncer.keystroke(k * gapMs);
  const debounceMs = debouncer.delayMs((keystrokes - 1) * gapMs);
  const sorted = [...firstGhostMs].sort((a, b) => a - b);
  const sortedTotal = [...totalMs].sort((a, b) => a - b);
  const sortedLast = lastGhostMs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  const measuredRequests = requests - counted.requests;
  const measuredCancelled = cancelled - counted.cancelled;
  const rssChange = (rssAfter - rssBefore) / rssBefore;
  const result = {
    bench: 'inline-latency',
    model: path.basename(model), architecture: load.architecture, fim_template: load.fimTemplate,
    completions, keystrokes_per_completion: keystrokes, gap_ms: gapMs, max_tokens: maxTokens,
    requests: measuredRequests,
    cancel_requested: cancelRequested - counted.cancelRequested,
    cancel_requested_share: +((cancelRequested - counted.cancelRequested) / measuredRequests).toFixed(3),
    cancelled: measuredCancelled,
    cancelled_share: +(measuredCancelled / measuredRequests).toFixed(3),
    shown: firstGhostMs.length,
    first_ghost_ms_p50: +percentile(sorted, 50).toFixed(1),
    first_ghost_ms_p95: +percentile(sorted, 95).toFixed(1),
    after_last_keystroke_ms_p50: +percentile(sortedLast, 50).toFixed(1),
    after_last_keystroke_ms_p95: +percentile(sortedLast, 95).toFixed(1),
    after_last_keystroke_shown: sortedLast.length,
    debounce_ms_after_burst: debounceMs,
    final_ms_p50: +percentile(sortedTotal, 50).toFixed(1),
    final_ms_p95: +percentile(sortedTotal, 95).toFixed(1),
    stale_shown: staleShown,
    finished_after_superseded: finishedAfterSuperseded,
    errors,
    rss_before_mb: +(rssBefore / 1048576).toFixed(1),
    rss_after_mb: +(rssAfter / 1048576).toFixed(1),
    rss_change: +rssChange.toFixed(4),
    rss_mb_every_50: rssTrend,
    rss_flat_within_10pct: Math.abs(rssChange) <= 0.1,
    rss_samples: 'median of 10 samples after the last warm-up completions vs after the last measured ones',
    engine_rss_before_mb: +(statsBefore.rssBytes / 1048576).toFixed(1),
    engine_rss_after_mb: +(statsAfter.rssBytes / 1048576).toFixed(1),
    engine_complete_p50_ms: statsAfter.surfaces.complete.latencyMsP50,
    wall_s: +wallS.toFixed(1),
  };
  if (!flag(args, 'model')) fs.rmSync(model, { recursive: true, force: true });
  console.log(JSON.stringify(result));
}

main().catch((err: unknown) => {
  process.stderr.write(`inline-latency: ${(err as Error).message}\n`);
  process.exitCode = 1;
});
