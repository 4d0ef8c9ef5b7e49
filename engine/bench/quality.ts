// `bench-quality`: how good the ghost text is, not how fast. Each replay `complete` case is cut at a few points inside
// its continuation's lines (right after a space, inside an identifier, after an operator); the rest of the cut line
// is the truth and the following lines stay in the file as the suffix. Every configuration runs the engine's own
// completion path: all stages on, all off without healing ("before"), and each stage (and healing) off in turn.
import path from 'node:path';
import leven from 'leven';
import { parseErrorCount } from '../complete/parseDamage';
import { STAGES, type StageName } from '../complete/types';
import { boolFlag, flag, listFlag, numberFlag, parseArgs } from '../cli/args';
import { createRng } from '../decode/sampling';
import { Engine, type CompletionOptions } from '../server/engine';
import { sharedPath } from '../sharedPaths';
import { loadRecords } from './replay';

export interface QualityCase {
  id: string;
  language: string;
  kind: 'space' | 'identifier' | 'operator';
  prefix: string;
  suffix: string;
  /** The rest of the cut line. */
  truth: string;
}

const LANGUAGE: Record<string, string> = { typescript: 'typescript', python: 'python', javascript: 'javascript', go: 'go', rust: 'rust' };

/** Up to `perCase` cuts of one case, each on a different line of its continuation, of different kinds. */
export function cutCase(id: string, language: string, prompt: string, output: string, perCase: number, seed: number): QualityCase[] {
  const rng = createRng(seed);
  const text = prompt + output;
  const out: QualityCase[] = [];
  const kinds: QualityCase['kind'][] = ['space', 'identifier', 'operator'];
  let lineStart = prompt.length;
  const lines: [number, number][] = [];
  while (lineStart < text.length) {
    const nl = text.indexOf('\n', lineStart);
    const end = nl < 0 ? text.length : nl;
    if (text.slice(lineStart, end).trim().length >= 6) lines.push([lineStart, end]);
    lineStart = end + 1;
  }
  for (let k = 0; k < lines.length && out.length < perCase; k++) {
    const [start, end] = lines[Math.floor(rng() * lines.length)]!;
    const kind = kinds[out.length % kinds.length]!;
    const codeStart = start + (text.slice(start, end).length - text.slice(start, end).trimStart().length);
    const points: number[] = [];
    for (let i = codeStart + 1; i < end - 1; i++) {
      const a = text[i - 1]!;
      const b = text[i]!;
      const word = (c: string): boolean => /[\p{L}\p{N}_$]/u.test(c);
      if (kind === 'space' ? a === ' ' && b !== ' ' : kind === 'identifier' ? word(a) && word(b) : !word(a) && a !== ' ' && b !== ' ') points.push(i);
    }
    if (points.length === 0 || out.some((c) => c.prefix.length >= start && c.prefix.length <= end)) continue;
    const at = points[Math.floor(rng() * points.length)]!;
    out.push({ id, language, kind, prefix: text.slice(0, at), suffix: text.slice(end), truth: text.slice(at, end) });
  }
  return out;
}

export interface CaseResult {
  text: string;
  truth: string;
  ms: number;
  addsParseErrors: boolean | undefined;
}

const median = (xs: number[]): number => {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const round = (x: number, d = 3): number => Math.round(x * 10 ** d) / 10 ** d;

/** The measures of one configuration. */
export function summarize(results: readonly CaseResult[]): Record<string, number> {
  const firstLine = (s: string): string => s.split('\n')[0]!.trimEnd();
  const exact = results.filter((r) => firstLine(r.text) === firstLine(r.truth)).length;
  const sim = results.map((r) => (r.text.length + r.truth.length === 0 ? 1 : 1 - leven(r.text, r.truth) / Math.max(r.text.length, r.truth.length)));
  const parsed = results.filter((r) => r.addsParseErrors !== undefined);
  return {
    cases: results.length,
    exact_first_line: round(exact / Math.max(1, results.length)),
    edit_similarity: round(sim.reduce((a, b) => a + b, 0) / Math.max(1, sim.length)),
    adds_parse_errors: round(parsed.filter((r) => r.addsParseErrors).length / Math.max(1, parsed.length)),
    empty: round(results.filter((r) => r.text === '').length / Math.max(1, results.length)),
    median_chars: median(results.map((r) => r.text.length)),
    median_truth_chars: median(results.map((r) => r.truth.length)),
    multi_line: round(results.filter((r) => r.text.includes('\n')).length / Math.max(1, results.length)),
    ms_p50: round(median(results.map((r) => r.ms)), 1),
  };
}

export async function addsParseErrors(language: string, prefix: string, text: string, suffix: string): Promise<boolean | undefined> {
  const before = await parseErrorCount(language, prefix + suffix);
  if (before === undefined) return undefined;
  return (await parseErrorCount(language, prefix + text + suffix))! > before;
}

/** The configurations: before, after, and each switch off in turn. */
export function configurations(): { name: string; options: CompletionOptions }[] {
  const all = new Set<StageName>(STAGES);
  return [
    { name: 'before (no healing, no stages)', options: { healing: false, disabledStages: all } },
    { name: 'all', options: {} },
    { name: 'without healing', options: { healing: false } },
    ...STAGES.map((s) => ({ name: `without ${s}`, options: { disabledStages: new Set<StageName>([s]) } })),
  ];
}

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, ['json']);
  const model = flag(args, 'model') ?? 'models/demo';
  const files = listFlag(args, 'data');
  const data = files.length > 0 ? files : ['llama-vscode.jsonl', 'requests.jsonl'].map((f) => sharedPath('bench/replay', f));
  const perFile = numberFlag(args, 'cases', 8);
  const cuts = numberFlag(args, 'cuts', 3);
  const maxTokens = numberFlag(args, 'max-tokens', 64);
  const cases: QualityCase[] = [];
  for (const file of data) {
    const records = loadRecords(file).filter((r) => r.task === 'complete').slice(0, perFile);
    for (const [i, r] of records.entries()) cases.push(...cutCase(r.id, LANGUAGE[r.language] ?? r.language, r.prompt, r.output, cuts, 1000 + i));
  }
  const engine = new Engine({ status: () => undefined, log: (l, m) => void process.stderr.write(`presage: ${l}: ${m}\n`), loadProgress: () => undefined, partial: () => undefined }, { calibrate: false });
  engine.initialize({ clientName: 'bench-quality', clientVersion: '0' });
  await engine.loadModel({ model });
  const configs = configurations();
  const results = new Map<string, CaseResult[]>(configs.map((c) => [c.name, []]));
  try {
    let n = 0;
    for (const c of cases) {
      // All configurations of one cut in a row: the prompt's KV cache is reused between them.
      for (const cfg of configs) {
        const t0 = performance.now();
        const out = await engine.completeDetailed({ requestId: `q${n++}`, language: c.language, prefix: c.prefix, suffix: c.suffix, maxTokens, stopAtBlockEnd: true }, undefined, cfg.options);
        const ms = performance.now() - t0;
        const text = out.result.text;
        results.get(cfg.name)!.push({ text, truth: c.truth, ms, addsParseErrors: await addsParseErrors(c.language, c.prefix, text, c.suffix) });
      }
    }
  } finally {
    await engine.shutdown();
  }
  const table = Object.fromEntries(configs.map((cfg) => [cfg.name, summarize(results.get(cfg.name)!)]));
  const byKind = Object.fromEntries((['space', 'identifier', 'operator'] as const).map((k) => [k, Object.fromEntries(['before (no healing, no stages)', 'all'].map((name) => [name, summarize(results.get(name)!.filter((_, i) => cases[i]!.kind === k))]))]));
  const report = { model: path.resolve(model), cases: cases.length, max_tokens: maxTokens, configurations: table, by_cut_kind: byKind };
  if (boolFlag(args, 'json')) process.stdout.write(JSON.stringify(report) + '\n');
  else process.stdout.write(JSON.stringify(report, null, 2) + '\n');
  return 0;
}
