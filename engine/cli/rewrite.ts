// `rewrite --model DIR --file F --start L:C --end L:C --instruction TEXT [--mode greedy|speculative] [--max-tokens N]
// [--json]`: Rewrite Selection without VS Code, through the engine's own `rewrite` surface (the same as JSON-RPC),
// in process. The selection is [start, end) with 0-based line:character positions as in VS Code (characters are
// UTF-16 code units); `text` is the replacement for that range.
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Engine } from '../server/engine';
import type { RewriteOutcome } from '../server/surfaces/rewrite';
import { boolFlag, flag, numberFlag, parseArgs } from './args';
import { languageOf } from './complete';

/** Characters of context on each side of the selection, as the extension sends them. */
export const REWRITE_CONTEXT_CHARS = 2000;

export type RewriteMode = 'greedy' | 'speculative';

/** Bad input on the command line: a clear message and exit code 2, never a stack trace. */
export class RewriteInputError extends Error {}

/** A 0-based `line:character` position. */
export function parsePosition(value: string, name: string): { line: number; character: number } {
  const m = /^(\d+):(\d+)$/.exec(value.trim());
  if (!m) throw new RewriteInputError(`--${name} must be LINE:CHARACTER with 0-based integers (as in VS Code), got '${value}'`);
  return { line: Number(m[1]), character: Number(m[2]) };
}

/** UTF-16 offset of a position; a line or character outside the file is an error, never clamped. */
export function positionOffset(text: string, pos: { line: number; character: number }, name: string): number {
  let start = 0;
  for (let l = 0; l < pos.line; l++) {
    const nl = text.indexOf('\n', start);
    if (nl < 0) throw new RewriteInputError(`--${name} ${pos.line}:${pos.character} is outside the file: its last line is ${l} (0-based)`);
    start = nl + 1;
  }
  const nl = text.indexOf('\n', start);
  // A CRLF line's \r is part of the line break, as in VS Code.
  const length = (nl < 0 ? text.length : nl) - start - (nl > start && text[nl - 1] === '\r' ? 1 : 0);
  if (pos.character > length) throw new RewriteInputError(`--${name} ${pos.line}:${pos.character} is outside the file: line ${pos.line} has ${length} characters`);
  return start + pos.character;
}

/** What one rewrite of a range needs: the selection, the text around it and the instruction. */
export interface RewriteRangeInput {
  language: string;
  instruction: string;
  prefix: string;
  selection: string;
  suffix: string;
  uri?: string;
  maxTokens?: number;
}

/**
 * An engine for one decoding mode: greedy runs without a drafter (plain decoding), speculative with the product's
 * default drafter (hybrid, the selection as its reference). `calibrate` measures the forward-cost curve at load, as
 * the product does (it sizes the draft trees; the output never depends on it).
 */
export function rewriteEngine(mode: RewriteMode, options: { calibrate?: boolean } = {}): Engine {
  const engine = new Engine(
    { status: () => undefined, log: (level, m) => void (level !== 'info' && process.stderr.write(`presage: ${level}: ${m}\n`)), loadProgress: () => undefined, partial: () => undefined },
    { calibrate: options.calibrate !== false, ...(mode === 'greedy' ? { drafter: 'none' } : {}) },
  );
  engine.initialize({ clientName: 'rewrite', clientVersion: '0' });
  return engine;
}

/** One rewrite through the engine's surface; the prompt cache is dropped first, so every run pays its prefill. */
export async function rewriteRange(engine: Engine, input: RewriteRangeInput, requestId = 'rewrite'): Promise<RewriteOutcome> {
  engine.host?.decoder.reset();
  return engine.rewriting.rewriteDetailed({
    requestId, language: input.language, instruction: input.instruction, selection: input.selection,
    // What the extension sends: at most 2000 characters on each side.
    prefix: input.prefix.slice(-REWRITE_CONTEXT_CHARS), suffix: input.suffix.slice(0, REWRITE_CONTEXT_CHARS),
    ...(input.uri ? { uri: input.uri } : {}),
    ...(input.maxTokens !== undefined ? { maxTokens: input.maxTokens } : {}),
  });
}

export interface RewriteFileOptions {
  model: string;
  file: string;
  start: string;
  end: string;
  instruction: string;
  mode?: RewriteMode;
  maxTokens?: number;
  calibrate?: boolean;
  cacheDir?: string;
}

export interface RewriteFileOutput {
  text: string;
  steps: number;
  mat: number;
  tokens_per_s: number;
  ms: number;
  tokens: number;
  token_ids: number[];
  finish_reason: string;
  template: string;
  mode: RewriteMode;
}

/** Reads and checks everything the command line gives before any model is loaded. */
export function readRewriteInput(o: Pick<RewriteFileOptions, 'file' | 'start' | 'end' | 'instruction' | 'mode' | 'maxTokens'>): RewriteRangeInput & { mode: RewriteMode } {
  const mode = o.mode ?? 'speculative';
  if (mode !== 'greedy' && mode !== 'speculative') throw new RewriteInputError(`--mode must be greedy or speculative, got '${String(mode)}'`);
  if (!o.instruction || o.instruction.trim() === '') throw new RewriteInputError('--instruction is empty: say what to change');
  if (o.maxTokens !== undefined && (!Number.isInteger(o.maxTokens) || o.maxTokens < 1)) throw new RewriteInputError(`--max-tokens must be a positive integer, got ${o.maxTokens}`);
  const start = parsePosition(o.start, 'start');
  const end = parsePosition(o.end, 'end');
  let text: string;
  try {
    text = fs.readFileSync(o.file, 'utf8');
  } catch (err) {
    throw new RewriteInputError(`cannot read --file ${o.file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  const from = positionOffset(text, start, 'start');
  const to = positionOffset(text, end, 'end');
  if (from > to) throw new RewriteInputError(`--start ${o.start} is after --end ${o.end}`);
  return {
    mode, language: languageOf(o.file), instruction: o.instruction.trim(),
    prefix: text.slice(0, from), selection: text.slice(from, to), suffix: text.slice(to),
    uri: pathToFileURL(path.resolve(o.file)).toString(),
    ...(o.maxTokens !== undefined ? { maxTokens: o.maxTokens } : {}),
  };
}

/** One rewrite of a file range, with an engine loaded for it and shut down after. */
export async function rewriteFile(o: RewriteFileOptions): Promise<RewriteFileOutput> {
  const input = readRewriteInput(o);
  const engine = rewriteEngine(input.mode, o.calibrate === false ? { calibrate: false } : {});
  // The file is an open editor, so the drafter's document index has it, as in the editor.
  engine.openDocument({ uri: input.uri!, text: input.prefix + input.selection + input.suffix, version: 0, source: 'editor', languageId: input.language });
  try {
    await engine.loadModel({ model: o.model, ...(o.cacheDir ? { cacheDir: o.cacheDir } : {}) });
    const t0 = performance.now();
    const out = await rewriteRange(engine, input);
    const ms = performance.now() - t0;
    const m = out.result.metrics!;
    const round = (x: number, d: number): number => Math.round(x * 10 ** d) / 10 ** d;
    return {
      text: out.result.text, steps: m.steps, mat: round(m.mat, 3), tokens_per_s: round(m.tokensPerS, 2), ms: round(ms, 1),
      tokens: m.tokens, token_ids: out.tokens, finish_reason: out.result.finishReason, template: out.promptTemplate, mode: input.mode,
    };
  } finally {
    await engine.shutdown();
  }
}

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, ['json', 'no-calibrate']);
  try {
    const model = flag(args, 'model');
    if (model === undefined || model === 'true') throw new RewriteInputError('missing required flag --model DIR');
    const file = flag(args, 'file');
    if (file === undefined || file === 'true') throw new RewriteInputError('missing required flag --file F');
    let maxTokens: number | undefined;
    try {
      maxTokens = flag(args, 'max-tokens') !== undefined ? numberFlag(args, 'max-tokens', 0) : undefined;
    } catch (err) {
      throw new RewriteInputError((err as Error).message);
    }
    const start = flag(args, 'start');
    const end = flag(args, 'end');
    if (start === undefined || end === undefined) throw new RewriteInputError(`missing required flag --${start === undefined ? 'start' : 'end'} (a 0-based LINE:CHARACTER position)`);
    const instruction = flag(args, 'instruction');
    const cacheDir = flag(args, 'cache-dir');
    const options: RewriteFileOptions = {
      model, file, start, end,
      instruction: instruction === 'true' ? '' : instruction ?? '',
      mode: (flag(args, 'mode') ?? 'speculative') as RewriteMode,
      ...(maxTokens !== undefined ? { maxTokens } : {}),
      ...(boolFlag(args, 'no-calibrate') ? { calibrate: false } : {}),
      ...(cacheDir ? { cacheDir } : {}),
    };
    // Input errors come out before the model loads.
    readRewriteInput(options);
    const out = await rewriteFile(options);
    if (boolFlag(args, 'json')) process.stdout.write(JSON.stringify(out) + '\n');
    else {
      process.stdout.write(out.text + (out.text.endsWith('\n') ? '' : '\n'));
      process.stderr.write(`${out.mode}: ${out.tokens} tokens in ${out.steps} steps (MAT ${out.mat}), ${out.tokens_per_s} tokens/s, ${out.ms} ms, ${out.finish_reason}\n`);
    }
    return 0;
  } catch (err) {
    if (!(err instanceof RewriteInputError)) throw err;
    process.stderr.write(`presage rewrite: ${err.message}\n`);
    return 2;
  }
}
