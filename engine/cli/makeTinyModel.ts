// `make-tiny-model`: writes a random checkpoint in Hugging Face layout (config, safetensors, tokenizer files).
import { SUPPORTED_MODEL_TYPES, writeTinyCheckpoint } from '../model/index';
import { flag, numberFlag, parseArgs, requireFlag } from './args';

function intFlag(args: ReturnType<typeof parseArgs>, name: string): number {
  const v = numberFlag(args, name, NaN);
  if (!Number.isInteger(v) || v <= 0) throw new Error(`--${name} expects a positive integer${Number.isNaN(v) ? ' (missing)' : `, got ${v}`}`);
  return v;
}

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv);
  const out = requireFlag(args, 'out');
  const arch = requireFlag(args, 'arch');
  if (!SUPPORTED_MODEL_TYPES.includes(arch)) throw new Error(`--arch must be one of ${SUPPORTED_MODEL_TYPES.join(', ')}, got '${arch}'`);
  const seed = numberFlag(args, 'seed', 0);
  if (!Number.isInteger(seed)) throw new Error(`--seed expects an integer, got ${seed}`);
  const vocab = flag(args, 'vocab-size');
  const tie = flag(args, 'tie-embeddings');
  const options = {
    out,
    arch,
    layers: intFlag(args, 'layers'),
    hidden: intFlag(args, 'hidden'),
    heads: intFlag(args, 'heads'),
    kvHeads: intFlag(args, 'kv-heads'),
    intermediate: intFlag(args, 'intermediate'),
    tokenizerDir: requireFlag(args, 'tokenizer'),
    seed,
    ...(vocab !== undefined ? { vocabSize: intFlag(args, 'vocab-size') } : {}),
    ...(tie !== undefined ? { tieEmbeddings: tie !== 'false' && tie !== '0' } : {}),
  } as const;
  await writeTinyCheckpoint(options);
  process.stdout.write(JSON.stringify({ out, arch, layers: options.layers, hidden: options.hidden, heads: options.heads, kv_heads: options.kvHeads, intermediate: options.intermediate, seed }) + '\n');
  return 0;
}
