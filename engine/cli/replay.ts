// `replay --data FILE.jsonl [--data …] --tokenizer DIR --drafter NAME [--max-draft 16] --json`.
import { boolFlag, listFlag, numberFlag, parseArgs, requireFlag, flag } from './args';
import { loadRecords, runReplay, tokenizeRecords } from '../bench/replay';
import { createDrafter, DRAFTER_NAMES, isDrafterName } from '../draft/index';
import { loadTokenizer } from '../tokenizer';

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, ['json']);
  const files = listFlag(args, 'data');
  if (files.length === 0) throw new Error('replay: at least one --data FILE.jsonl is required');
  const tokenizerDir = requireFlag(args, 'tokenizer');
  const name = flag(args, 'drafter') ?? 'hybrid';
  if (!isDrafterName(name)) throw new Error(`replay: unknown drafter '${name}' (expected one of ${DRAFTER_NAMES.join(', ')})`);
  const maxDraft = numberFlag(args, 'max-draft', 16);
  const records = files.flatMap((f) => loadRecords(f));
  const tokenizer = loadTokenizer(tokenizerDir);
  const tokenized = tokenizeRecords(records, (text) => tokenizer.encode(text));
  // The hybrid matches line ends by their text (cl100k merges newlines with the punctuation before them).
  const tokenText = (id: number): string => tokenizer.decode([id]);
  const result = runReplay(tokenized, createDrafter(name, { hybrid: { tokenText } }), maxDraft);
  if (!boolFlag(args, 'json')) {
    process.stdout.write(
      `${name}: MAT ${result.mat} (${Object.entries(result.mat_by_task).map(([k, v]) => `${k} ${v}`).join(', ')}), ` +
        `draft p50 ${result.draft_us_p50} us, p99 ${result.draft_us_p99} us, ${result.steps} steps over ${result.records} records\n`,
    );
  }
  process.stdout.write(JSON.stringify({ drafter: name, max_draft: maxDraft, ...result }) + '\n');
  return 0;
}
