// Oracle replay: recorded outputs stand in for the model, so a drafter's mean accepted tokens
// per step (MAT) is measured without any model. The core (runReplay) is pure; loading and tokenizing are apart.
import fs from 'node:fs';
import { acceptedLength } from '../draft/draftTrie';
import type { Draft, Drafter } from '../draft/types';

export type ReplayTask = 'edit' | 'complete';

export interface ReplayRecord {
  id: string;
  task: ReplayTask;
  language: string;
  prompt: string;
  output: string;
  references: string[];
}

export interface TokenizedRecord {
  id: string;
  task: string;
  prompt: number[];
  output: number[];
  references: number[][];
}

export interface ReplayResult {
  mat: number;
  mat_by_task: Record<string, number>;
  draft_us_p50: number;
  draft_us_p99: number;
  index_bytes: number;
  build_tokens_per_s: number;
  records: number;
  output_tokens: number;
  steps: number;
}

/** Reads JSONL records, checking every field; errors name the file and line. */
export function loadRecords(file: string): ReplayRecord[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`cannot read replay data ${file}: ${(err as Error).message}`);
  }
  const records: ReplayRecord[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    const where = `${file}:${i + 1}`;
    let r: unknown;
    try {
      r = JSON.parse(line);
    } catch (err) {
      throw new Error(`${where}: not valid JSON (${(err as Error).message})`);
    }
    records.push(parseRecord(r, where));
  });
  return records;
}

export function parseRecord(r: unknown, where: string): ReplayRecord {
  if (!r || typeof r !== 'object' || Array.isArray(r)) throw new Error(`${where}: a record must be a JSON object`);
  const o = r as Record<string, unknown>;
  for (const key of ['id', 'prompt', 'output'] as const) {
    if (typeof o[key] !== 'string') throw new Error(`${where}: field '${key}' must be a string`);
  }
  if (o.task !== 'edit' && o.task !== 'complete') throw new Error(`${where}: field 'task' must be "edit" or "complete", got ${JSON.stringify(o.task)}`);
  const refs = o.references ?? [];
  if (!Array.isArray(refs) || refs.some((x) => typeof x !== 'string')) throw new Error(`${where}: field 'references' must be an array of strings`);
  return {
    id: o.id as string,
    task: o.task,
    language: typeof o.language === 'string' ? o.language : '',
    prompt: o.prompt as string,
    output: o.output as string,
    references: refs as string[],
  };
}

/** Tokenizes prompt, output and references each on their own; identical references are encoded once. */
export function tokenizeRecords(records: readonly ReplayRecord[], encode: (text: string) => number[]): TokenizedRecord[] {
  const cache = new Map<string, number[]>();
  const cached = (text: string): number[] => {
    let ids = cache.get(text);
    if (!ids) {
      ids = encode(text);
      cache.set(text, ids);
    }
    return ids;
  };
  return records.map((r) => ({ id: r.id, task: r.task, prompt: encode(r.prompt), output: encode(r.output), references: r.references.map(cached) }));
}

/** Checks a draft is a tree in topological order within the budget; throws a clear error otherwise. */
export function validateDraft(draft: Draft, maxTokens: number, who: string): void {
  const n = draft.tokens.length;
  if (n > maxTokens) throw new Error(`${who}: draft has ${n} tokens, budget is ${maxTokens}`);
  if (draft.parents.length !== n || draft.probs.length !== n) throw new Error(`${who}: draft arrays differ in length`);
  for (let j = 0; j < n; j++) {
    const p = draft.parents[j]!;
    if (!Number.isInteger(p) || p < -1 || p >= j) throw new Error(`${who}: node ${j} has parent ${p}, expected -1..${j - 1}`);
  }
}

function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return 0;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[idx]!;
}

const round = (x: number, digits = 3): number => Math.round(x * 10 ** digits) / 10 ** digits;

/** Runs the §3 loop over the records in order through one drafter. */
export function runReplay(records: readonly TokenizedRecord[], drafter: Drafter, maxDraft = 16): ReplayResult {
  if (!Number.isInteger(maxDraft) || maxDraft < 0) throw new Error(`--max-draft must be a non-negative integer, got ${maxDraft}`);
  const times: number[] = [];
  const byTask = new Map<string, { tokens: number; steps: number }>();
  let peakBytes = 0;
  let buildMs = 0;
  let buildTokens = 0;
  let outputTokens = 0;
  let steps = 0;
  for (const r of records) {
    let t0 = performance.now();
    drafter.begin(r.id, r.prompt, r.references);
    buildMs += performance.now() - t0;
    buildTokens += r.prompt.length + r.references.reduce((s, x) => s + x.length, 0);
    peakBytes = Math.max(peakBytes, drafter.estimateBytes());
    const out = r.output;
    let i = 0;
    let recordSteps = 0;
    while (i < out.length) {
      t0 = performance.now();
      const draft = drafter.propose(r.id, maxDraft);
      times.push((performance.now() - t0) * 1000);
      validateDraft(draft, maxDraft, `drafter '${drafter.name}' on ${r.id}`);
      const a = acceptedLength(draft, out, i);
      const next = Math.min(out.length, i + a + 1);
      drafter.observe(r.id, out.slice(i, next));
      i = next;
      recordSteps++;
    }
    peakBytes = Math.max(peakBytes, drafter.estimateBytes());
    t0 = performance.now();
    drafter.end(r.id, out);
    buildMs += performance.now() - t0;
    buildTokens += out.length;
    peakBytes = Math.max(peakBytes, drafter.estimateBytes());
    const task = byTask.get(r.task) ?? { tokens: 0, steps: 0 };
    task.tokens += out.length;
    task.steps += recordSteps;
    byTask.set(r.task, task);
    outputTokens += out.length;
    steps += recordSteps;
  }
  const sorted = Float64Array.from(times).sort();
  const matByTask: Record<string, number> = {};
  for (const [task, s] of [...byTask].sort()) matByTask[task] = s.steps > 0 ? round(s.tokens / s.steps) : 0;
  return {
    mat: steps > 0 ? round(outputTokens / steps) : 0,
    mat_by_task: matByTask,
    draft_us_p50: round(percentile(sorted, 0.5), 2),
    draft_us_p99: round(percentile(sorted, 0.99), 2),
    index_bytes: peakBytes,
    build_tokens_per_s: buildMs > 0 ? Math.round(buildTokens / (buildMs / 1000)) : 0,
    records: records.length,
    output_tokens: outputTokens,
    steps,
  };
}
