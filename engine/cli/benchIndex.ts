// `bench-index [--data FILE.jsonl …] [--tokenizer DIR] [--min-tokens 1000000] [--runs 3] [--suffix-tree] --json`
// Indexes >= 1 M tokens of real code and prints bytes per token and build tokens/s of the global index.
import path from 'node:path';
import { boolFlag, flag, listFlag, numberFlag, parseArgs } from './args';
import { benchSuffixTree, benchTokenIndex, collectCorpus } from '../bench/indexBench';
import { loadTokenizer } from '../tokenizer';

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, ['json', 'suffix-tree']);
  const data = listFlag(args, 'data');
  const tokenizer = loadTokenizer(flag(args, 'tokenizer') ?? path.join('..', 'shared', 'tokenizers', 'cl100k'));
  const minTokens = numberFlag(args, 'min-tokens', 1_000_000);
  const runs = Math.max(1, Math.floor(numberFlag(args, 'runs', 3)));
  // About 3.5 characters per cl100k token on code; collect a margin, then stop once enough tokens are in.
  const texts = collectCorpus(data, path.resolve('node_modules'), minTokens * 5);
  const docs: Int32Array[] = [];
  let tokens = 0;
  for (const t of texts) {
    if (tokens >= minTokens) break;
    const ids = Int32Array.from(tokenizer.encode(t));
    docs.push(ids);
    tokens += ids.length;
  }
  if (tokens < minTokens) throw new Error(`bench-index: found only ${tokens} tokens of code, need ${minTokens}`);
  const index = benchTokenIndex(docs, runs);
  const results = [index];
  if (boolFlag(args, 'suffix-tree')) results.push(benchSuffixTree(docs, 64, 1), benchSuffixTree(docs, 24, 1));
  if (!boolFlag(args, 'json')) for (const r of results) process.stdout.write(`${r.structure}: ${r.bytes_per_token} bytes/token, ${r.build_tokens_per_s} tokens/s over ${r.tokens} tokens\n`);
  process.stdout.write(
    JSON.stringify({ tokens, documents: docs.length, bytes_per_token: index.bytes_per_token, build_tokens_per_s: index.build_tokens_per_s, structures: results }) + '\n',
  );
  return 0;
}
