// `bench-e2e`: one model, the public replay prompts, greedy vs speculative decoding in one run.
// complete records go through the inline-completion prompt (FIM), edit records through the rewrite prompt with the
// selection as the draft reference, as the product does. Per task: tokens/s of both modes, MAT, identical output.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DecodeResult } from '../decode/decoder';
import { makeDrafter } from '../decode/drafters';
import { openSpeculator, usesSpeculator } from '../decode/speculation';
import { loadCheckpoint, parseDevice, writeTinyCheckpoint } from '../model/index';
import { buildRewritePrompt } from '../prompt/chat';
import { buildFimPrompt, type BuiltPrompt } from '../prompt/fim';
import { costCurveFor, hostFor, type ModelHost } from '../server/host';
import { percentile } from '../server/stats';
import { boolFlag, flag, listFlag, numberFlag, parseArgs } from './args';
import { sharedPath } from '../sharedPaths';
import { loadRecords, type ReplayRecord } from '../bench/replay';


interface TaskTotals {
  records: number;
  tokens: number;
  greedyMs: number;
  specMs: number;
  greedyDecodeMs: number;
  specDecodeMs: number;
  steps: number;
  drafted: number;
  accepted: number;
  identical: number;
  firstTokenMs: number[];
  /** First-token latency of a follow-up request after typing a few characters (prompt prefix reused). */
  typedFirstTokenMs: number[];
}

const DEFAULT_DATA = ['../shared/bench/replay/llama-vscode.jsonl', '../shared/bench/replay/requests.jsonl'];

function readRecords(files: string[]): ReplayRecord[] {
  return files.flatMap((file) => loadRecords(file));
}

/** The first `limit` records of each task in each file, kept in file (history) order. */
function pick(records: ReplayRecord[], limit: number): ReplayRecord[] {
  const seen = new Map<string, number>();
  return records.filter((r) => {
    const key = `${r.id.split(':')[0]}:${r.task}`;
    const n = seen.get(key) ?? 0;
    seen.set(key, n + 1);
    return n < limit;
  });
}

/** The demo model when present; otherwise a random checkpoint (cached in the temp folder). */
async function defaultModel(): Promise<string> {
  const demo = path.resolve('models/demo');
  if (fs.existsSync(path.join(demo, 'config.json'))) return demo;
  const dir = path.join(os.tmpdir(), 'presage-bench-e2e', 'random-llama-6x384-cl100k');
  if (!fs.existsSync(path.join(dir, 'config.json'))) {
    await writeTinyCheckpoint({ out: dir, arch: 'llama', layers: 6, hidden: 384, heads: 6, kvHeads: 2, intermediate: 1024, tokenizerDir: sharedPath('tokenizers/cl100k'), seed: 1 });
  }
  return dir;
}

function promptFor(host: ModelHost, r: ReplayRecord, maxTokens: number): { prompt: BuiltPrompt; references: number[][] } {
  const budget = Math.max(64, Math.min(4096, host.checkpoint.info.maxContext - maxTokens - 8));
  const refs = r.references.map((t) => host.tokenizer.encode(t.slice(0, 20_000)));
  if (r.task === 'complete') {
    return { prompt: buildFimPrompt(host.tokenizer, host.fimTemplate, r.prompt, '', { maxPromptTokens: budget }), references: refs };
  }
  const prompt = buildRewritePrompt(host.tokenizer, host.chatTemplate, { instruction: 'Update this code.', selection: r.prompt, language: r.language }, { maxPromptTokens: budget });
  return { prompt, references: [host.tokenizer.encode(r.prompt), ...refs] };
}

const round = (x: number, d = 2): number => Math.round(x * 10 ** d) / 10 ** d;

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, ['json']);
  const t0 = performance.now();
  const modelDir = flag(args, 'model') ?? (await defaultModel());
  const files = listFlag(args, 'data').length > 0 ? listFlag(args, 'data') : DEFAULT_DATA;
  const maxTokens = numberFlag(args, 'max-tokens', 96);
  const limit = numberFlag(args, 'limit', 6);
  // One or more drafters (comma-separated); each gets its own speculative run of every record, against one greedy run.
  const drafterNames = (flag(args, 'drafter') ?? 'hybrid').split(',').map((n) => n.trim()).filter(Boolean);
  const drafterName = drafterNames.join(',');
  const anySpeculator = drafterNames.some(usesSpeculator);
  const quantization = flag(args, 'quantization') as 'none' | 'int8' | 'int4' | undefined;
  const records = pick(readRecords(files), limit);
  const checkpoint = await loadCheckpoint(modelDir, {
    device: parseDevice(flag(args, 'device')) ?? 'auto',
    ...(quantization ? { quantization } : {}),
    ...(flag(args, 'threads') ? { threads: numberFlag(args, 'threads', 0) } : {}),
    ...(flag(args, 'cache-dir') ? { cacheDir: flag(args, 'cache-dir')! } : {}),
    onWarning: (m) => process.stderr.write(`presage: warning: ${m}\n`),
    ...(anySpeculator ? { hiddenStates: true } : {}),
  });
  const speculator = anySpeculator
    ? await openSpeculator(modelDir, 'speculator', checkpoint.info, { ...(flag(args, 'speculator') ? { dir: flag(args, 'speculator')! } : {}), onWarning: (m) => process.stderr.write(`presage: warning: ${m}\n`) })
    : undefined;
  const costCurve = await costCurveFor(checkpoint, true);
  // One host (decoder + drafter) per drafter over the same model; the decoders reset the model between runs.
  const hosts = drafterNames.map((name) => hostFor(checkpoint, makeDrafter(name), 0, costCurve, usesSpeculator(name) ? speculator : undefined));
  const host = hosts[0]!;
  const emptyTotals = (): Record<'edit' | 'complete', TaskTotals> => ({
    edit: { records: 0, tokens: 0, greedyMs: 0, specMs: 0, greedyDecodeMs: 0, specDecodeMs: 0, steps: 0, drafted: 0, accepted: 0, identical: 0, firstTokenMs: [], typedFirstTokenMs: [] },
    complete: { records: 0, tokens: 0, greedyMs: 0, specMs: 0, greedyDecodeMs: 0, specDecodeMs: 0, steps: 0, drafted: 0, accepted: 0, identical: 0, firstTokenMs: [], typedFirstTokenMs: [] },
  });
  const totalsByDrafter = drafterNames.map(() => emptyTotals());
  const acceptedBySource = drafterNames.map(() => ({}) as Record<string, number>);
  const mismatches: string[] = [];
  const runOnce = async (r: ReplayRecord, speculative: boolean, i: number, runHost = host): Promise<DecodeResult> => {
    const { prompt, references } = promptFor(runHost, r, maxTokens);
    runHost.decoder.reset(); // no prompt reuse between the two modes: both pay the same prefill
    return runHost.decoder.generate({
      requestId: `bench-${i}-${speculative ? `s-${runHost.drafter?.name ?? 'none'}` : 'g'}`,
      prompt: prompt.ids,
      references,
      maxTokens,
      eosTokenIds: [...new Set([...host.eosTokenIds, ...prompt.stopTokenIds])],
      speculative,
      learn: true,
    });
  };
  for (const [i, r] of records.entries()) {
    const greedy = await runOnce(r, false, i);
    for (const [d, dHost] of hosts.entries()) {
      const spec = await runOnce(r, true, i, dHost);
      const totals = totalsByDrafter[d]!;
      for (const [source, n] of Object.entries(spec.metrics.acceptedByDrafter)) acceptedBySource[d]![source] = (acceptedBySource[d]![source] ?? 0) + n;
      if (d === 0 && r.task === 'complete' && greedy.text.length > 0) {
        // The user types the first characters of the suggestion: the next request reuses the cached prompt prefix.
        const typed = { ...r, prompt: r.prompt + greedy.text.slice(0, Math.min(4, greedy.text.length)) };
        const { prompt } = promptFor(host, typed, maxTokens);
        const follow = await host.decoder.generate({ requestId: `bench-${i}-t`, prompt: prompt.ids, maxTokens: 4, eosTokenIds: host.eosTokenIds, learn: false });
        totals.complete.typedFirstTokenMs.push(follow.metrics.firstTokenMs);
      }
      const t = totals[r.task];
      t.records++;
      t.tokens += greedy.tokens.length;
      t.greedyMs += greedy.metrics.totalMs;
      t.specMs += spec.metrics.totalMs;
      t.greedyDecodeMs += greedy.metrics.totalMs - greedy.metrics.prefillMs;
      t.specDecodeMs += spec.metrics.totalMs - spec.metrics.prefillMs;
      t.steps += spec.metrics.steps;
      t.drafted += spec.metrics.draftedTokens;
      t.accepted += spec.metrics.acceptedTokens;
      t.firstTokenMs.push(spec.metrics.firstTokenMs);
      const same = greedy.tokens.length === spec.tokens.length && greedy.tokens.every((x, k) => x === spec.tokens[k]);
      if (same) t.identical++;
      else mismatches.push(`${drafterNames[d]}:${r.id}`);
      if (!boolFlag(args, 'json')) {
        process.stderr.write(`${r.task.padEnd(8)} ${drafterNames[d]!.padEnd(18)} ${String(greedy.tokens.length).padStart(4)} tok  greedy ${greedy.metrics.totalMs.toFixed(0).padStart(6)} ms  spec ${spec.metrics.totalMs.toFixed(0).padStart(6)} ms  MAT ${spec.metrics.mat.toFixed(2)}  ${same ? 'same' : 'DIFFERENT'}  ${r.id}\n`);
      }
    }
  }
  const summary = (t: TaskTotals): Record<string, number | boolean> => ({
    records: t.records,
    tokens: t.tokens,
    greedy_tokens_per_s: round(t.greedyMs > 0 ? (t.tokens * 1000) / t.greedyMs : 0),
    speculative_tokens_per_s: round(t.specMs > 0 ? (t.tokens * 1000) / t.specMs : 0),
    speedup: round(t.specMs > 0 ? t.greedyMs / t.specMs : 0, 3),
    decode_speedup: round(t.specDecodeMs > 0 ? t.greedyDecodeMs / t.specDecodeMs : 0, 3),
    mat: round(t.steps > 0 ? t.tokens / t.steps : 0, 3),
    drafted_per_step: round(t.steps > 0 ? t.drafted / t.steps : 0, 2),
    draft_acceptance: round(t.drafted > 0 ? t.accepted / t.drafted : 0, 3),
    first_token_ms_p50: round(percentile(t.firstTokenMs, 0.5), 1),
    ...(t.typedFirstTokenMs.length > 0 ? { first_token_ms_after_typing_p50: round(percentile(t.typedFirstTokenMs, 0.5), 1) } : {}),
    identical: t.identical === t.records,
    identical_records: t.identical,
  });
  const combined = (totals: Record<'edit' | 'complete', TaskTotals>): TaskTotals => ({
    records: totals.edit.records + totals.complete.records,
    tokens: totals.edit.tokens + totals.complete.tokens,
    greedyMs: totals.edit.greedyMs + totals.complete.greedyMs,
    specMs: totals.edit.specMs + totals.complete.specMs,
    greedyDecodeMs: totals.edit.greedyDecodeMs + totals.complete.greedyDecodeMs,
    specDecodeMs: totals.edit.specDecodeMs + totals.complete.specDecodeMs,
    steps: totals.edit.steps + totals.complete.steps,
    drafted: totals.edit.drafted + totals.complete.drafted,
    accepted: totals.edit.accepted + totals.complete.accepted,
    identical: totals.edit.identical + totals.complete.identical,
    firstTokenMs: [...totals.edit.firstTokenMs, ...totals.complete.firstTokenMs],
    typedFirstTokenMs: [...totals.complete.typedFirstTokenMs],
  });
  const totals = totalsByDrafter[0]!;
  const info = checkpoint.info;
  const out = {
    model: modelDir,
    architecture: info.architecture,
    parameters: info.parameters,
    quantization: info.quantization,
    device: info.device,
    ...(info.adapter ? { adapter: info.adapter } : {}),
    drafter: drafterName,
    fim_template: host.fimTemplate,
    chat_template: host.chatTemplate,
    max_tokens: maxTokens,
    limit_per_task_per_file: limit,
    tasks: { edit: summary(totals.edit), complete: summary(totals.complete) },
    all: summary(combined(totals)),
    // every drafter of this run, measured against the same greedy runs
    drafters: Object.fromEntries(drafterNames.map((name, d) => [name, {
      tasks: { edit: summary(totalsByDrafter[d]!.edit), complete: summary(totalsByDrafter[d]!.complete) },
      all: summary(combined(totalsByDrafter[d]!)),
      accepted_by_source: acceptedBySource[d],
    }])),
    ...(speculator ? { speculator: speculator.depth } : {}),
    mismatched_records: mismatches,
    ms_total: Math.round(performance.now() - t0),
  };
  await checkpoint.model.dispose();
  await speculator?.dispose();
  process.stdout.write(JSON.stringify(out) + '\n');
  return mismatches.length === 0 ? 0 : 1;
}
