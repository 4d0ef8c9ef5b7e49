// Fill-in-the-middle prompts per model family. Special tokens are inserted by id (never parsed from user text),
// prefix and suffix are cut to a token budget (the end of the prefix and the start of the suffix are kept).

import type { CheckpointChatTemplates } from '../tokenizer';

export type FimTemplateName = 'qwen' | 'deepseek' | 'starcoder' | 'codellama' | 'generic';

/** What prompt building needs from a tokenizer. */
export interface PromptTokenizer {
  encode(text: string): number[];
  tokenId(token: string): number | undefined;
  readonly bosTokenId?: number | undefined;
  readonly eosTokenIds?: readonly number[];
  /** tokenizer_config.json; `add_bos_token: true` asks for BOS before plain prompts. */
  readonly config?: Record<string, unknown>;
  /** Special tokens by role, as chat templates see them (`bos_token`, `eos_token`, …). */
  readonly specialTokens?: Readonly<Record<string, string | string[]>>;
  /** The checkpoint's own chat templates, when it ships any. */
  readonly chatTemplates?: CheckpointChatTemplates | undefined;
}

interface FimTokens {
  prefix: string;
  suffix: string;
  middle: string;
  /** Prepend BOS before the prompt. */
  bos: boolean;
  /** Tokens that end a completion besides the tokenizer's EOS. */
  stops: string[];
}

const FAMILIES: Record<Exclude<FimTemplateName, 'generic'>, FimTokens> = {
  qwen: { prefix: '<|fim_prefix|>', suffix: '<|fim_suffix|>', middle: '<|fim_middle|>', bos: false, stops: ['<|endoftext|>', '<|fim_pad|>', '<|file_sep|>', '<|repo_name|>', '<|im_end|>', '<|fim_prefix|>'] },
  deepseek: { prefix: '<｜fim▁begin｜>', suffix: '<｜fim▁hole｜>', middle: '<｜fim▁end｜>', bos: true, stops: ['<｜end▁of▁sentence｜>', '<|EOT|>', '<｜fim▁begin｜>'] },
  starcoder: { prefix: '<fim_prefix>', suffix: '<fim_suffix>', middle: '<fim_middle>', bos: false, stops: ['<|endoftext|>', '<file_sep>', '<fim_prefix>', '<fim_pad>'] },
  codellama: { prefix: '▁<PRE>', suffix: '▁<SUF>', middle: '▁<MID>', bos: true, stops: ['▁<EOT>', '<EOT>', '</s>'] },
};

/** Picks the template from the tokenizer's special tokens (the vocabulary is what the model was trained with). */
export function detectFimTemplate(tokenizer: PromptTokenizer): FimTemplateName {
  // A checkpoint may name its template in tokenizer_config.json (`presage_fim_template`).
  const declared = tokenizer.config?.presage_fim_template;
  if (typeof declared === 'string') {
    if (declared === 'generic') return 'generic';
    if (declared in FAMILIES) return declared as FimTemplateName;
    throw new Error(`tokenizer_config.json: unknown presage_fim_template '${declared}' (known: ${[...Object.keys(FAMILIES), 'generic'].join(', ')})`);
  }
  for (const name of ['qwen', 'deepseek', 'starcoder', 'codellama'] as const) {
    const f = FAMILIES[name];
    if (tokenizer.tokenId(f.prefix) !== undefined && tokenizer.tokenId(f.suffix) !== undefined && tokenizer.tokenId(f.middle) !== undefined) return name;
  }
  if (tokenizer.tokenId('<PRE>') !== undefined && tokenizer.tokenId('<SUF>') !== undefined && tokenizer.tokenId('<MID>') !== undefined) return 'codellama';
  return 'generic';
}

export interface FimPromptOptions {
  /** Total prompt budget in tokens (default 2048). */
  maxPromptTokens?: number;
  /** Share of the budget the suffix may take (default 0.25). */
  suffixShare?: number;
}

export interface BuiltPrompt {
  ids: number[];
  /** Token ids that end generation (EOS and the family's end tokens). */
  stopTokenIds: number[];
  /** Stop strings on the generated text. */
  stop: string[];
  template: string;
  /** The rendered prompt text, when the prompt was written as text first (a checkpoint's chat template). */
  text?: string;
}

/** Cheap character pre-cut so that huge files are not tokenized whole (a token is rarely over 16 chars). */
const CHARS_PER_TOKEN_BOUND = 16;

export function tailTokens(tokenizer: PromptTokenizer, text: string, budget: number): number[] {
  if (budget <= 0 || text.length === 0) return [];
  const ids = tokenizer.encode(text.length > budget * CHARS_PER_TOKEN_BOUND ? text.slice(text.length - budget * CHARS_PER_TOKEN_BOUND) : text);
  return ids.length > budget ? ids.slice(ids.length - budget) : ids;
}

/** A line is a cut anchor when its content hashes to 0 mod ANCHOR_EVERY (content-defined, so it survives edits). */
const ANCHOR_EVERY = 8;
function isAnchor(line: string): boolean {
  let h = 0x811c9dc5;
  for (let i = 0; i < line.length; i++) h = Math.imul(h ^ line.charCodeAt(i), 0x01000193);
  return (h >>> 0) % ANCHOR_EVERY === 0;
}

/**
 * The end of `text` within `budget` tokens, starting at a content-defined line anchor when one fits: as the user
 * types (or the window slides), the kept text keeps its start, so the model's KV cache for it can be reused.
 */
export function stableTailTokens(tokenizer: PromptTokenizer, text: string, budget: number): number[] {
  if (budget <= 0 || text.length === 0) return [];
  const pre = text.length > budget * CHARS_PER_TOKEN_BOUND ? text.slice(text.length - budget * CHARS_PER_TOKEN_BOUND) : text;
  const all = tokenizer.encode(pre);
  if (all.length <= budget) return all;
  // Characters to drop, roughly; anchors well before that cannot fit.
  const skip = Math.floor(pre.length * (1 - budget / all.length) * 0.9);
  let tries = 0;
  for (let start = pre.indexOf('\n', skip) + 1; start > 0 && start < pre.length && tries < 12; start = pre.indexOf('\n', start) + 1) {
    const end = pre.indexOf('\n', start);
    if (!isAnchor(pre.slice(start, end < 0 ? pre.length : end))) continue;
    tries++;
    const ids = tokenizer.encode(pre.slice(start));
    if (ids.length <= budget) return ids;
  }
  return all.slice(all.length - budget);
}

export function headTokens(tokenizer: PromptTokenizer, text: string, budget: number): number[] {
  if (budget <= 0 || text.length === 0) return [];
  const ids = tokenizer.encode(text.length > budget * CHARS_PER_TOKEN_BOUND ? text.slice(0, budget * CHARS_PER_TOKEN_BOUND) : text);
  return ids.length > budget ? ids.slice(0, budget) : ids;
}

function stopIds(tokenizer: PromptTokenizer, names: readonly string[]): number[] {
  const ids = new Set<number>(tokenizer.eosTokenIds ?? []);
  for (const n of names) {
    const id = tokenizer.tokenId(n);
    if (id !== undefined) ids.add(id);
  }
  return [...ids];
}

function requireId(tokenizer: PromptTokenizer, token: string, template: string): number {
  const id = tokenizer.tokenId(token) ?? tokenizer.tokenId(token.replace(/^▁/, ''));
  if (id === undefined) throw new Error(`FIM template '${template}' needs the token ${token}, which the tokenizer lacks`);
  return id;
}

export function buildFimPrompt(tokenizer: PromptTokenizer, template: FimTemplateName, prefix: string, suffix: string, options: FimPromptOptions = {}): BuiltPrompt {
  const budget = Math.max(8, Math.floor(options.maxPromptTokens ?? 2048));
  const share = Math.min(0.9, Math.max(0, options.suffixShare ?? 0.25));
  if (template === 'generic') {
    // No FIM tokens: complete the prefix; the suffix cannot be shown to the model.
    const bos = tokenizer.config?.add_bos_token === true ? tokenizer.bosTokenId : undefined;
    const body = stableTailTokens(tokenizer, prefix, budget - (bos !== undefined ? 1 : 0));
    const ids = bos !== undefined ? [bos, ...body] : body;
    if (ids.length === 0) ids.push(...(tokenizer.eosTokenIds?.length ? [tokenizer.eosTokenIds[0]!] : tokenizer.encode('\n')));
    return { ids, stopTokenIds: stopIds(tokenizer, []), stop: [], template };
  }
  const f = FAMILIES[template];
  const pre = requireId(tokenizer, f.prefix, template);
  const suf = requireId(tokenizer, f.suffix, template);
  const mid = requireId(tokenizer, f.middle, template);
  const bos = f.bos ? tokenizer.bosTokenId : undefined;
  const room = budget - 3 - (bos !== undefined ? 1 : 0);
  // Both whole when they fit; otherwise the suffix gets its share (or what the prefix leaves) and the prefix the rest.
  let suffixIds = headTokens(tokenizer, suffix, room);
  let prefixIds = tailTokens(tokenizer, prefix, room + 1);
  if (prefixIds.length + suffixIds.length > room) {
    const suffixRoom = Math.min(suffixIds.length, Math.max(Math.floor(room * share), room - Math.min(room, prefixIds.length)));
    suffixIds = suffixIds.slice(0, suffixRoom);
    prefixIds = stableTailTokens(tokenizer, prefix, room - suffixRoom);
  }
  const ids = [...(bos !== undefined ? [bos] : []), pre, ...prefixIds, suf, ...suffixIds, mid];
  return { ids, stopTokenIds: stopIds(tokenizer, f.stops), stop: [], template };
}
