// `bench-rewrite --model DIR [--cases FILE] [--limit N] [--kinds k1,k2] [--max-tokens N] [--json]`: rewrite cases
// through the engine's rewrite surface, greedy and speculative back to back (the order alternates per case), in one
// run. Reports exact match of the replacement per kind, tokens/s of both modes, MAT and whether the two outputs are
// byte-identical (they must be: speculative decoding is lossless against greedy).
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Engine } from '../server/engine';
import { boolFlag, flag, numberFlag, parseArgs } from '../cli/args';
import { rewriteEngine, rewriteRange, RewriteInputError, type RewriteMode } from '../cli/rewrite';
import type { RewriteOutcome } from '../server/surfaces/rewrite';

export const DEFAULT_REWRITE_CASES = 'engine/bench/fixtures/rewrite-heldout.jsonl';

/** One case: the file is prefix + selection + suffix; `output` is the expected replacement of the selection. */
export interface RewriteCase {
  id: string;
  kind: string;
  language: string;
  package: string;
  path: string;
  instruction: string;
  prefix: string;
  selection: string;
  suffix: string;
  output: string;
}

const STRING_FIELDS = ['id', 'kind', 'language', 'package', 'path', 'instruction', 'prefix', 'selection', 'suffix', 'output'] as const;

/** Parses JSONL cases; a bad line is an error that names the file and line, never a skipped case. */
export function parseRewriteCases(text: string, source: string): RewriteCase[] {
  const cases: RewriteCase[] = [];
  const ids = new Set<string>();
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    const where = `${source}:${i + 1}`;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      throw new RewriteInputError(`${where}: not JSON (${(err as Error).message})`);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new RewriteInputError(`${where}: a case must be a JSON object`);
    const record = value as Record<string, unknown>;
    for (const field of STRING_FIELDS) {
      if (typeof record[field] !== 'string') throw new RewriteInputError(`${where}: field '${field}' must be a string`);
    }
    const c = Object.fromEntries(STRING_FIELDS.map((f) => [f, record[f]])) as unknown as RewriteCase;
    if (c.instruction.trim() === '') throw new RewriteInputError(`${where}: case '${c.id}' has an empty instruction`);
    if (ids.has(c.id)) throw new RewriteInputError(`${where}: case id '${c.id}' is used twice`);
    ids.add(c.id);
    cases.push(c);
  });
  return cases;
}

export function loadRewriteCases(file: string): RewriteCase[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new RewriteInputError(`cannot read --cases ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  const cases = parseRewriteCases(text, file);
  if (cases.length === 0) throw new RewriteInputError(`--cases ${file} holds no cases`);
  return cases;
}

export interface CaseResult {
  id: string;
  kind: string;
  language: string;
  /** The speculative replacement (equal to the greedy one unless `identical` is false). */
  text: string;
  exact: boolean;
  identical: boolean;
  tokens: number;
  steps: number;
  mat: number;
  greedy_tokens_per_s: number;
  speculative_tokens_per_s: number;
  first: RewriteMode;
}

export interface KindSummary {
  cases: number;
  exact: number;
  exact_rate: number;
}

export interface RewriteBenchReport {
  model: string;
  cases_file: string;
  max_tokens: number | 'surface';
  history: 'cleared per case' | 'kept';
  kinds: Record<string, KindSummary>;
  overall: KindSummary;
  speed: {
    greedy_tokens_per_s_median: number;
    speculative_tokens_per_s_median: number;
    /** Median speculative tokens/s ÷ median greedy tokens/s. */
    ratio_of_medians: number;
    /** Median over cases of (speculative ÷ greedy tokens/s) of the same case. */
    median_ratio: number;
    mat_median: number;
    tokens: number;
  };
  identical: string;
  mismatches: string[];
  ms: number;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

const round = (x: number, d = 3): number => Math.round(x * 10 ** d) / 10 ** d;

function summarize(results: readonly CaseResult[]): KindSummary {
  const exact = results.filter((r) => r.exact).length;
  return { cases: results.length, exact, exact_rate: results.length > 0 ? round(exact / results.length) : 0 };
}

/** Per-kind and overall exact match, speed and identity over the finished cases. */
export function summarizeRewriteCases(results: readonly CaseResult[]): Pick<RewriteBenchReport, 'kinds' | 'overall' | 'speed' | 'identical' | 'mismatches'> {
  const kinds: Record<string, KindSummary> = {};
  for (const kind of [...new Set(results.map((r) => r.kind))].sort()) kinds[kind] = summarize(results.filter((r) => r.kind === kind));
  // A case that produced nothing has no speed.
  const timed = results.filter((r) => r.tokens > 0 && r.greedy_tokens_per_s > 0 && r.speculative_tokens_per_s > 0);
  const greedy = median(timed.map((r) => r.greedy_tokens_per_s));
  const spec = median(timed.map((r) => r.speculative_tokens_per_s));
  return {
    kinds,
    overall: summarize(results),
    speed: {
      greedy_tokens_per_s_median: round(greedy, 2),
      speculative_tokens_per_s_median: round(spec, 2),
      ratio_of_medians: greedy > 0 ? round(spec / greedy) : 0,
      median_ratio: round(median(timed.map((r) => r.speculative_tokens_per_s / r.greedy_tokens_per_s))),
      mat_median: round(median(timed.map((r) => r.mat))),
      tokens: results.reduce((n, r) => n + r.tokens, 0),
    },
    identical: `${results.filter((r) => r.identical).length}/${results.length}`,
    mismatches: results.filter((r) => !r.identical).map((r) => r.id),
  };
}

export interface BenchRewriteOptions {
  model: string;
  cases: readonly RewriteCase[];
  casesFile?: string;
  /** The reply budget; default the surface's own (about 1.5 times the selection, at least 256 tokens). */
  maxTokens?: number;
  /** Measure the forward-cost curve at load, as the product does (default true). */
  calibrate?: boolean;
  /** Keep what the drafter learned from earlier cases' outputs (default: each case starts without that history). */
  keepHistory?: boolean;
  onCase?: (r: CaseResult) => void;
}

function identicalOutcome(a: RewriteOutcome, b: RewriteOutcome): boolean {
  return a.result.text === b.result.text && a.tokens.length === b.tokens.length && a.tokens.every((t, i) => t === b.tokens[i]);
}

/** Runs every case in both modes on one engine per mode (the same model loaded twice). */
export async function benchRewrite(o: BenchRewriteOptions): Promise<{ report: RewriteBenchReport; cases: CaseResult[] }> {
  const t0 = performance.now();
  const engineOptions = o.calibrate === false ? { calibrate: false } : {};
  const engines: Record<RewriteMode, Engine> = { greedy: rewriteEngine('greedy', engineOptions), speculative: rewriteEngine('speculative', engineOptions) };
  const results: CaseResult[] = [];
  try {
    for (const engine of Object.values(engines)) await engine.loadModel({ model: o.model });
    for (const [i, c] of o.cases.entries()) {
      // The file is an open editor in the speculative engine's document index, as in the editor; it goes after.
      const uri = pathToFileURL(path.join('/bench', c.package, c.path)).toString();
      const spec = engines.speculative;
      if (!o.keepHistory) spec.clearHistory();
      spec.openDocument({ uri, text: c.prefix + c.selection + c.suffix, version: 0, source: 'editor', languageId: c.language });
      spec.slot.syncIndex();
      const input = { language: c.language, instruction: c.instruction, prefix: c.prefix, selection: c.selection, suffix: c.suffix, uri, ...(o.maxTokens !== undefined ? { maxTokens: o.maxTokens } : {}) };
      const order: RewriteMode[] = i % 2 === 0 ? ['greedy', 'speculative'] : ['speculative', 'greedy'];
      const out: Partial<Record<RewriteMode, RewriteOutcome>> = {};
      for (const mode of order) out[mode] = await rewriteRange(engines[mode], input, `${c.id}:${mode}`);
      spec.removeDocument({ uri });
      spec.slot.syncIndex();
      const g = out.greedy!;
      const s = out.speculative!;
      const m = s.result.metrics!;
      const r: CaseResult = {
        id: c.id, kind: c.kind, language: c.language, text: s.result.text,
        exact: s.result.text === c.output, identical: identicalOutcome(g, s),
        tokens: m.tokens, steps: m.steps, mat: round(m.mat),
        greedy_tokens_per_s: round(g.result.metrics!.tokensPerS, 2), speculative_tokens_per_s: round(m.tokensPerS, 2), first: order[0]!,
      };
      results.push(r);
      o.onCase?.(r);
    }
  } finally {
    for (const engine of Object.values(engines)) await engine.shutdown();
  }
  const report: RewriteBenchReport = {
    model: o.model, cases_file: o.casesFile ?? '', max_tokens: o.maxTokens ?? 'surface', history: o.keepHistory ? 'kept' : 'cleared per case',
    ...summarizeRewriteCases(results), ms: Math.round(performance.now() - t0),
  };
  return { report, cases: results };
}

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, ['json', 'no-calibrate', 'keep-history', 'per-case']);
  const json = boolFlag(args, 'json');
  let options: BenchRewriteOptions;
  try {
    const model = flag(args, 'model');
    if (model === undefined || model === 'true') throw new RewriteInputError('missing required flag --model DIR');
    const casesFile = flag(args, 'cases') ?? DEFAULT_REWRITE_CASES;
    let cases = loadRewriteCases(casesFile);
    const kinds = (flag(args, 'kinds') ?? '').split(',').map((k) => k.trim()).filter(Boolean);
    if (kinds.length > 0) {
      const known = new Set(cases.map((c) => c.kind));
      const unknown = kinds.filter((k) => !known.has(k));
      if (unknown.length > 0) throw new RewriteInputError(`--kinds: no case has kind ${unknown.map((k) => `'${k}'`).join(', ')} (kinds in ${casesFile}: ${[...known].sort().join(', ')})`);
      cases = cases.filter((c) => kinds.includes(c.kind));
    }
    let limit: number | undefined;
    let maxTokens: number | undefined;
    try {
      limit = flag(args, 'limit') !== undefined ? numberFlag(args, 'limit', 0) : undefined;
      maxTokens = flag(args, 'max-tokens') !== undefined ? numberFlag(args, 'max-tokens', 0) : undefined;
    } catch (err) {
      throw new RewriteInputError((err as Error).message);
    }
    if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) throw new RewriteInputError(`--limit must be a positive integer, got ${limit}`);
    if (maxTokens !== undefined && (!Number.isInteger(maxTokens) || maxTokens < 1)) throw new RewriteInputError(`--max-tokens must be a positive integer, got ${maxTokens}`);
    if (limit !== undefined) cases = cases.slice(0, limit);
    options = {
      model, cases, casesFile,
      ...(maxTokens !== undefined ? { maxTokens } : {}),
      ...(boolFlag(args, 'no-calibrate') ? { calibrate: false } : {}),
      ...(boolFlag(args, 'keep-history') ? { keepHistory: true } : {}),
    };
  } catch (err) {
    if (!(err instanceof RewriteInputError)) throw err;
    process.stderr.write(`presage bench-rewrite: ${err.message}\n`);
    return 2;
  }
  const { report, cases } = await benchRewrite({
    ...options,
    onCase: (r) => {
      if (!r.identical) process.stderr.write(`presage bench-rewrite: MISMATCH: speculative output differs from greedy on case ${r.id} (a decoder bug)\n`);
      if (!json) {
        process.stderr.write(`${r.kind.padEnd(18)} ${String(r.tokens).padStart(4)} tok  greedy ${r.greedy_tokens_per_s.toFixed(1).padStart(6)}  spec ${r.speculative_tokens_per_s.toFixed(1).padStart(6)} tok/s  MAT ${r.mat.toFixed(2)}  ${r.exact ? 'exact' : 'wrong'}  ${r.identical ? 'same' : 'DIFFERENT'}  ${r.id}\n`);
      }
    },
  });
  if (!json) {
    const rows = Object.entries(report.kinds).map(([k, s]) => `| ${k} | ${s.cases} | ${s.exact} | ${(s.exact_rate * 100).toFixed(1)} % |`);
    process.stdout.write(['| kind | cases | exact | exact rate |', '|---|---|---|---|', ...rows, `| all | ${report.overall.cases} | ${report.overall.exact} | ${(report.overall.exact_rate * 100).toFixed(1)} % |`].join('\n') + '\n');
    const sp = report.speed;
    process.stdout.write(`tokens/s median: greedy ${sp.greedy_tokens_per_s_median}, speculative ${sp.speculative_tokens_per_s_median} (ratio of medians ${sp.ratio_of_medians}, median ratio ${sp.median_ratio}), MAT median ${sp.mat_median}, identical ${report.identical}\n`);
  }
  process.stdout.write(JSON.stringify(boolFlag(args, 'per-case') ? { ...report, cases } : report) + '\n');
  if (report.mismatches.length > 0) {
    process.stderr.write(`presage bench-rewrite: ${report.mismatches.length} case(s) where speculative decoding changed the output: ${report.mismatches.join(', ')}\n`);
    return 1;
  }
  return 0;
}
