// Tokenizes local source files into the speculator's training corpus: uint16 token ids, documents separated by
// EOS. Python's `tokenizers` is not installed on every machine, so the engine's own loader (the same tokenizer.json
// the runtime uses) does the encoding and train_speculator.py only reads the ids.
// Usage: npx tsx engine/train/speculatorCorpus.ts --tokenizer models/demo --out .cache/speculator
//          [--root node_modules --root /usr/lib/python3.11] [--train-tokens 400000] [--heldout-tokens 40000]
import fs from 'node:fs';
import path from 'node:path';
import { loadTokenizer } from '../tokenizer';
import { CORPUS_HELDOUT, walkSources, type WalkRules } from './sourceTree';

const CODE = /\.(js|mjs|cjs|ts|mts|cts|tsx|jsx|py)$/;
const RULES: WalkRules = {
  maxDepth: 12,
  skipDirs: ['test', 'tests', '__pycache__'],
  accept: (name) => CODE.test(name) && !name.endsWith('.d.ts') && !name.includes('.min.'),
};

function arg(name: string, fallback?: string): string[] {
  const out: string[] = [];
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) if (argv[i] === `--${name}`) out.push(argv[++i]!);
  return out.length ? out : fallback === undefined ? [] : [fallback];
}

function looksMinified(text: string): boolean {
  const lines = text.split('\n');
  const longest = Math.max(...lines.map((l) => l.length));
  return longest > 1000 || text.length / lines.length > 120;
}

// Deterministic shuffle (xorshift) so the same files land in the same split on every run.
function shuffled<T>(items: T[], seed: number): T[] {
  let s = seed >>> 0 || 1;
  const out = items.slice();
  for (let i = out.length - 1; i > 0; i--) {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

const tokenizer = loadTokenizer(arg('tokenizer', 'models/demo')[0]!);
const outDir = arg('out', '.cache/speculator')[0]!;
const roots = arg('root');
if (!roots.length) roots.push('node_modules', '/usr/lib/python3.11');
const trainBudget = Number(arg('train-tokens', '400000')[0]);
const heldoutBudget = Number(arg('heldout-tokens', '40000')[0]);
const eos = tokenizer.eosTokenIds[0] ?? 0;

const files = shuffled(roots.flatMap((r) => [...walkSources(r, RULES)]), 1234);
const split = { train: [] as number[], heldout: [] as number[] };
const sources = { train: 0, heldout: 0 };
for (const file of files) {
  if (split.train.length >= trainBudget && split.heldout.length >= heldoutBudget) break;
  const stat = fs.statSync(file);
  if (stat.size < 200 || stat.size > 60_000) continue;
  const text = fs.readFileSync(file, 'utf8');
  if (text.includes('\uFFFD') || looksMinified(text)) continue;
  const heldout = file.split(path.sep).some((part) => CORPUS_HELDOUT.has(part.replace(/\.py$/, '')));
  const which = heldout ? 'heldout' : 'train';
  const budget = heldout ? heldoutBudget : trainBudget;
  if (split[which].length >= budget) continue;
  split[which].push(...tokenizer.encodePlain(text), eos);
  sources[which]++;
}
fs.mkdirSync(outDir, { recursive: true });
for (const which of ['train', 'heldout'] as const) {
  fs.writeFileSync(path.join(outDir, `${which}.u16`), Buffer.from(Uint16Array.from(split[which]).buffer));
}
console.log(JSON.stringify({ files: files.length, trainTokens: split.train.length, heldoutTokens: split.heldout.length, sources }));
