// `complete --model DIR --file F --line L --character C [--workspace DIR] [--max-tokens N] --json`: one inline
// completion without VS Code, through the engine's own `complete` path (healing, FIM prompt, stop-rule pipeline),
// so `text` is what the inline provider would show. Line and character are 0-based, as in VS Code's Position.
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Engine } from '../server/engine';
import { boolFlag, flag, listFlag, numberFlag, parseArgs, requireFlag } from './args';
import type { StageName } from '../complete/types';
import { STAGES } from '../complete/types';

/** VS Code language ids by file extension (the languages with grammars, and a few more). */
const LANGUAGE_BY_EXTENSION: Record<string, string> = {
  '.ts': 'typescript', '.mts': 'typescript', '.cts': 'typescript', '.tsx': 'typescriptreact', '.js': 'javascript', '.mjs': 'javascript',
  '.cjs': 'javascript', '.jsx': 'javascriptreact', '.py': 'python', '.go': 'go', '.rs': 'rust', '.java': 'java', '.c': 'c', '.h': 'c',
  '.cc': 'cpp', '.cpp': 'cpp', '.hpp': 'cpp', '.cs': 'csharp', '.rb': 'ruby', '.sh': 'shellscript', '.md': 'markdown', '.json': 'json',
};

export function languageOf(file: string): string {
  return LANGUAGE_BY_EXTENSION[path.extname(file).toLowerCase()] ?? 'plaintext';
}

/** UTF-16 offset of a 0-based (line, character) position; out-of-range positions are an error, not clamped. */
export function offsetAt(text: string, line: number, character: number): number {
  if (!Number.isInteger(line) || line < 0 || !Number.isInteger(character) || character < 0) throw new Error(`--line and --character must be integers >= 0, got ${line}:${character}`);
  let start = 0;
  for (let l = 0; l < line; l++) {
    const nl = text.indexOf('\n', start);
    if (nl < 0) throw new Error(`--line ${line} is past the end of the file (it has ${l + 1} lines)`);
    start = nl + 1;
  }
  const end = text.indexOf('\n', start);
  const length = (end < 0 ? text.length : end) - start - (end > 0 && text[end - 1] === '\r' ? 1 : 0);
  if (character > length) throw new Error(`--character ${character} is past the end of line ${line} (${length} characters)`);
  return start + character;
}

/** The prefix and suffix the extension sends: at most 8000 characters before and 2000 after, on whole lines. */
export function fimContext(text: string, offset: number, maxPrefix = 8000, maxSuffix = 2000): { prefix: string; suffix: string } {
  let start = 0;
  if (offset > maxPrefix) {
    const nl = text.indexOf('\n', offset - maxPrefix - 1);
    start = nl >= 0 && nl < offset ? nl + 1 : offset - maxPrefix;
  }
  let end = text.length;
  if (text.length - offset > maxSuffix) {
    const nl = text.lastIndexOf('\n', offset + maxSuffix);
    end = nl > offset ? nl : offset + maxSuffix;
  }
  return { prefix: text.slice(start, offset), suffix: text.slice(offset, end) };
}

/** Workspace files as the indexer would offer them (the engine refuses secrets itself). */
function* workspaceFiles(dir: string, limit = 2000): Generator<string> {
  const stack = [dir];
  let n = 0;
  while (stack.length > 0 && n < limit) {
    const current = stack.pop()!;
    for (const entry of fs.readdirSync(current, { withFileTypes: true })) {
      if (entry.name.startsWith('.') || entry.name === 'node_modules') continue;
      const full = path.join(current, entry.name);
      if (entry.isDirectory()) stack.push(full);
      else if (entry.isFile() && fs.statSync(full).size <= 256 * 1024 && n++ < limit) yield full;
    }
  }
}

export interface CompleteFileOptions {
  model: string;
  file: string;
  line: number;
  character: number;
  workspace?: string;
  maxTokens?: number;
  language?: string;
  /** The inline provider's time budget (default 2000 ms, as the extension's setting); 0 for none. */
  timeBudgetMs?: number;
  healing?: boolean;
  disabledStages?: ReadonlySet<StageName>;
  cacheDir?: string;
}

export interface CompleteFileOutput {
  text: string;
  prompt_ids: number[];
  stop_reason: string;
  ms: number;
  healed: string;
  finish_reason: string;
  tokens: number;
}

/** One completion at a file position, with the engine loaded for it and shut down after. */
export async function completeFile(o: CompleteFileOptions): Promise<CompleteFileOutput> {
  let text: string;
  try {
    text = fs.readFileSync(o.file, 'utf8');
  } catch (err) {
    throw new Error(`cannot read --file ${o.file}: ${(err as Error).message}`);
  }
  const offset = offsetAt(text, o.line, o.character);
  const engine = new Engine(
    { status: () => undefined, log: (level, m) => void process.stderr.write(`presage: ${level}: ${m}\n`), loadProgress: () => undefined, partial: () => undefined },
    { calibrate: false },
  );
  engine.initialize({ clientName: 'complete', clientVersion: '0' });
  // Documents opened before the model loads are indexed at load, as the extension's first sync would.
  if (o.workspace) {
    for (const f of workspaceFiles(path.resolve(o.workspace))) {
      const body = fs.readFileSync(f, 'utf8');
      if (!body.includes('\0') && path.resolve(f) !== path.resolve(o.file)) engine.openDocument({ uri: pathToFileURL(f).toString(), text: body, version: 0, source: 'workspace', languageId: languageOf(f) });
    }
  }
  engine.openDocument({ uri: pathToFileURL(path.resolve(o.file)).toString(), text, version: 0, source: 'editor', languageId: languageOf(o.file) });
  try {
    await engine.loadModel({ model: o.model, ...(o.cacheDir ? { cacheDir: o.cacheDir } : {}) });
    const { prefix, suffix } = fimContext(text, offset);
    const budget = o.timeBudgetMs ?? 2000;
    const t0 = performance.now();
    const out = await engine.completeDetailed({
      requestId: 'cli', language: o.language ?? languageOf(o.file), prefix, suffix, maxTokens: o.maxTokens ?? 128,
      stopAtBlockEnd: true, ...(budget > 0 ? { timeBudgetMs: budget } : {}),
    }, undefined, { healing: o.healing !== false, ...(o.disabledStages ? { disabledStages: o.disabledStages } : {}) });
    return {
      text: out.result.text, prompt_ids: out.promptIds, stop_reason: out.stopReason, ms: Math.round((performance.now() - t0) * 10) / 10,
      healed: out.healed, finish_reason: out.result.finishReason, tokens: out.result.metrics.tokens,
    };
  } finally {
    await engine.shutdown();
  }
}

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, ['json', 'no-healing']);
  const disabled = new Set<StageName>();
  for (const name of listFlag(args, 'disable')) {
    if (!(STAGES as readonly string[]).includes(name)) throw new Error(`--disable: unknown stage '${name}' (known: ${STAGES.join(', ')})`);
    disabled.add(name as StageName);
  }
  const workspace = flag(args, 'workspace');
  const language = flag(args, 'language');
  const cacheDir = flag(args, 'cache-dir');
  const out = await completeFile({
    model: requireFlag(args, 'model'), file: requireFlag(args, 'file'),
    line: numberFlag(args, 'line', NaN), character: numberFlag(args, 'character', NaN),
    maxTokens: numberFlag(args, 'max-tokens', 128), timeBudgetMs: numberFlag(args, 'time-budget-ms', 2000),
    healing: !boolFlag(args, 'no-healing'), disabledStages: disabled,
    ...(workspace ? { workspace } : {}), ...(language ? { language } : {}), ...(cacheDir ? { cacheDir } : {}),
  });
  if (boolFlag(args, 'json')) process.stdout.write(JSON.stringify(out) + '\n');
  else {
    process.stdout.write(out.text + '\n');
    process.stderr.write(`${out.stop_reason}, ${out.tokens} tokens, ${out.ms} ms\n`);
  }
  return 0;
}
