// Hugging Face tokenizer loading (tokenizer.json + tokenizer_config.json) through @huggingface/tokenizers, plus the
// checkpoint's chat templates (tokenizer_config.json `chat_template`, chat_template.jinja, chat_template.json).
import fs from 'node:fs';
import path from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { readJsonFile } from './jsonFile';

/** The chat templates a checkpoint ships, by name; a plain string template is named "default" (as in transformers). */
export interface CheckpointChatTemplates {
  named: Record<string, string>;
  /** Where they came from, for error messages. */
  origin: string;
}

export interface TextTokenizer {
  /** Token ids of `text`, without BOS/EOS; added tokens written in the text (`<|im_start|>`) become their ids. */
  encode(text: string): number[];
  /**
   * Token ids of user text: special-token strings in it (`<|fim_middle|>` typed in a file) stay ordinary text, as
   * transformers' split_special_tokens does, so file content cannot forge the prompt's structure.
   */
  encodePlain(text: string): number[];
  decode(ids: readonly number[]): string;
  /** Id of a special token such as `<|fim_prefix|>`, if the vocabulary has it. */
  tokenId(token: string): number | undefined;
  readonly eosTokenIds: number[];
  readonly bosTokenId: number | undefined;
  readonly config: Record<string, unknown>;
  /** Special tokens by role (`bos_token`, `eos_token`, …) as transformers passes them to chat templates. */
  readonly specialTokens: Record<string, string | string[]>;
  readonly chatTemplates: CheckpointChatTemplates | undefined;
}

function tokenContent(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && typeof (value as { content?: unknown }).content === 'string') {
    return (value as { content: string }).content;
  }
  return undefined;
}

const SPECIAL_TOKEN_KEYS = ['bos_token', 'eos_token', 'unk_token', 'sep_token', 'pad_token', 'cls_token', 'mask_token'] as const;

/** transformers' `special_tokens_map`: the roles that are set, as strings. */
export function specialTokensMap(config: Record<string, unknown>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const key of SPECIAL_TOKEN_KEYS) {
    const content = tokenContent(config[key]);
    if (content !== undefined) out[key] = content;
  }
  const extra = config.additional_special_tokens;
  if (Array.isArray(extra)) out.additional_special_tokens = extra.map(tokenContent).filter((t): t is string => t !== undefined);
  return out;
}

/** Reads `chat_template` values: a string, or the list form `[{name, template}]`. */
function parseChatTemplateValue(value: unknown, origin: string): Record<string, string> | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return { default: value };
  if (Array.isArray(value)) {
    const named: Record<string, string> = {};
    for (const [i, entry] of value.entries()) {
      const { name, template } = (entry ?? {}) as { name?: unknown; template?: unknown };
      if (typeof name !== 'string' || typeof template !== 'string') throw new Error(`${origin}: chat_template[${i}] must be {"name": string, "template": string}`);
      named[name] = template;
    }
    return named;
  }
  throw new Error(`${origin}: chat_template must be a string or a list of {name, template}`);
}

/**
 * The checkpoint's chat templates. As in transformers, a chat_template.jinja file beside the tokenizer wins over
 * the template inside tokenizer_config.json; chat_template.json (the processor's file) comes last.
 */
export function loadChatTemplates(dir: string, config: Record<string, unknown>): CheckpointChatTemplates | undefined {
  const jinjaPath = path.join(dir, 'chat_template.jinja');
  if (fs.existsSync(jinjaPath)) {
    const named: Record<string, string> = { default: fs.readFileSync(jinjaPath, 'utf8') };
    // Named extra templates (transformers ≥ 4.54): additional_chat_templates/<name>.jinja.
    const extraDir = path.join(dir, 'additional_chat_templates');
    if (fs.existsSync(extraDir)) {
      for (const f of fs.readdirSync(extraDir)) if (f.endsWith('.jinja')) named[f.slice(0, -'.jinja'.length)] = fs.readFileSync(path.join(extraDir, f), 'utf8');
    }
    return { named, origin: jinjaPath };
  }
  const fromConfig = parseChatTemplateValue(config.chat_template, path.join(dir, 'tokenizer_config.json'));
  if (fromConfig) return { named: fromConfig, origin: path.join(dir, 'tokenizer_config.json') };
  const jsonPath = path.join(dir, 'chat_template.json');
  if (fs.existsSync(jsonPath)) {
    const fromJson = parseChatTemplateValue(readJsonFile(jsonPath).chat_template, jsonPath);
    if (fromJson) return { named: fromJson, origin: jsonPath };
  }
  return undefined;
}

/** `<|fim_prefix|>`, `<｜fim▁hole｜>`, `[PREFIX]`, `▁<PRE>`: control-token shapes (not `<td>`: Gemma has HTML tags as text tokens). */
const CONTROL_TOKEN_SHAPE = /^(<\|[^\s]+\|>|<｜[^\s]+｜>|\[[A-Z_]+\]|▁?<[A-Z]+>)$/;

/** Finds whether a text contains any of many strings, in about one pass (Gemma has thousands of special tokens). */
function containsAnyOf(needles: readonly string[]): (text: string) => boolean {
  const byFirst = new Map<string, { lengths: Set<number>; words: Set<string> }>();
  for (const n of needles) {
    if (n.length === 0) continue;
    const group = byFirst.get(n[0]!) ?? { lengths: new Set(), words: new Set() };
    group.lengths.add(n.length);
    group.words.add(n);
    byFirst.set(n[0]!, group);
  }
  return (text) => {
    for (let i = 0; i < text.length; i++) {
      const group = byFirst.get(text[i]!);
      if (!group) continue;
      for (const len of group.lengths) if (group.words.has(text.substr(i, len))) return true;
    }
    return false;
  };
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
  // Structural tokens: the special ones, and added tokens shaped like control tokens (Qwen marks its FIM and file
  // tokens non-special). Added tokens that are ordinary text (Gemma's whitespace runs) stay as they are.
  const isStructural = (t: { content: string; special?: boolean }): boolean => t.special === true || CONTROL_TOKEN_SHAPE.test(t.content);
  const specials = ((tokenizerJson.added_tokens as { content: string; special?: boolean }[] | undefined) ?? []).filter(isStructural).map((t) => t.content);
  const hasSpecialText = containsAnyOf(specials);
  // Built on first need only (text that spells a special token is rare): the same tokenizer without special tokens.
  let plain: Tokenizer | undefined;
  const plainTokenizer = (): Tokenizer => {
    if (!plain) {
      const json = readJsonFile(path.join(dir, 'tokenizer.json'));
      json.added_tokens = ((json.added_tokens as { content: string; special?: boolean }[] | undefined) ?? []).filter((t) => !isStructural(t));
      plain = new Tokenizer(json as never, config as never);
    }
    return plain;
  };
  const eosName = tokenContent(config.eos_token);
  const bosName = tokenContent(config.bos_token);
  const eos = eosName !== undefined ? tokenId(eosName) : undefined;
  const bos = bosName !== undefined ? tokenId(bosName) : undefined;
  return {
    encode: (text) => (text.length === 0 ? [] : tokenizer.encode(text, { add_special_tokens: false }).ids),
    encodePlain: (text) => (text.length === 0 ? [] : (hasSpecialText(text) ? plainTokenizer() : tokenizer).encode(text, { add_special_tokens: false }).ids),
    decode: (ids) => (ids.length === 0 ? '' : tokenizer.decode(ids as number[], { skip_special_tokens: false })),
    tokenId,
    eosTokenIds: eos !== undefined ? [eos] : [],
    bosTokenId: bos,
    config,
    specialTokens: specialTokensMap(config),
    chatTemplates: loadChatTemplates(dir, config),
  };
}
