// Hugging Face tokenizer loading (tokenizer.json + tokenizer_config.json) through @huggingface/tokenizers.
import fs from 'node:fs';
import path from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { readJsonFile } from './jsonFile';

export interface TextTokenizer {
  encode(text: string): number[];
  decode(ids: readonly number[]): string;
  /** Id of a special token such as `<|fim_prefix|>`, if the vocabulary has it. */
  tokenId(token: string): number | undefined;
  readonly eosTokenIds: number[];
  readonly bosTokenId: number | undefined;
  readonly config: Record<string, unknown>;
}

function tokenContent(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && typeof (value as { content?: unknown }).content === 'string') {
    return (value as { content: string }).content;
  }
  return undefined;
}

export function loadTokenizer(dir: string): TextTokenizer {
  const tokenizerJson = readJsonFile(path.join(dir, 'tokenizer.json'));
  const configPath = path.join(dir, 'tokenizer_config.json');
  const config = fs.existsSync(configPath) ? readJsonFile(configPath) : {};
  const tokenizer = new Tokenizer(tokenizerJson as never, config as never);
  const added = new Map<string, number>();
  for (const t of (tokenizerJson.added_tokens as { id: number; content: string }[] | undefined) ?? []) added.set(t.content, t.id);
  const vocab = ((tokenizerJson.model as { vocab?: Record<string, number> } | undefined)?.vocab ?? {}) as Record<string, number>;
  const tokenId = (token: string): number | undefined => added.get(token) ?? vocab[token];
  const eosName = tokenContent(config.eos_token);
  const bosName = tokenContent(config.bos_token);
  const eos = eosName !== undefined ? tokenId(eosName) : undefined;
  const bos = bosName !== undefined ? tokenId(bosName) : undefined;
  return {
    encode: (text) => (text.length === 0 ? [] : tokenizer.encode(text, { add_special_tokens: false }).ids),
    decode: (ids) => (ids.length === 0 ? '' : tokenizer.decode(ids as number[], { skip_special_tokens: false })),
    tokenId,
    eosTokenIds: eos !== undefined ? [eos] : [],
    bosTokenId: bos,
    config,
  };
}
