// Fill-in-the-middle prompts per model family, detected from the tokenizer's own special tokens. Special tokens are
// inserted by id; prefix and suffix are cut to a token budget (the end of the prefix and the start of the suffix
// are kept). Models trained on repository-level data (`<|repo_name|>`/`<|file_sep|>`) also get snippets of related
// files, in their own multi-file format, ahead of the current file.
import type { CheckpointChatTemplates } from '../tokenizer';

export type FimTemplateName = 'qwen' | 'deepseek' | 'starcoder' | 'codellama' | 'codestral' | 'generic';

/** What prompt building needs from a tokenizer. */
export interface PromptTokenizer {
  /** Ids of text; special-token strings in it may become special tokens (rendered chat templates need that). */
  encode(text: string): number[];
  /** Ids of user text, special-token strings kept as text; prompts use it for file content when it is there. */
  encodePlain?(text: string): number[];
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
  /** Absent where the model starts the middle right after the prefix (Codestral's suffix-first layout). */
  middle?: string;
  /** `psm`: prefix, suffix, middle; `spm`: suffix first, then prefix (Codestral). */
  order: 'psm' | 'spm';
  /** Prepend BOS before the prompt (besides tokenizers that ask for it with add_bos_token). */
  bos: boolean;
  /** Tokens that end a completion besides the tokenizer's EOS. */
  stops: string[];
}

const FAMILIES: Record<Exclude<FimTemplateName, 'generic'>, FimTokens> = {
  // Qwen2.5-Coder; CodeGemma uses the same three tokens and ends files with <|file_separator|>.
  qwen: { prefix: '<|fim_prefix|>', suffix: '<|fim_suffix|>', middle: '<|fim_middle|>', order: 'psm', bos: false, stops: ['<|endoftext|>', '<|fim_pad|>', '<|file_sep|>', '<|repo_name|>', '<|im_end|>', '<|fim_prefix|>', '<|file_separator|>'] },
  deepseek: { prefix: '<｜fim▁begin｜>', suffix: '<｜fim▁hole｜>', middle: '<｜fim▁end｜>', order: 'psm', bos: true, stops: ['<｜end▁of▁sentence｜>', '<|EOT|>', '<｜fim▁begin｜>'] },
  // StarCoder / StarCoder2, Granite code, stable-code.
  starcoder: { prefix: '<fim_prefix>', suffix: '<fim_suffix>', middle: '<fim_middle>', order: 'psm', bos: false, stops: ['<|endoftext|>', '<file_sep>', '<fim_prefix>', '<fim_pad>', '<repo_name>'] },
  codellama: { prefix: '▁<PRE>', suffix: '▁<SUF>', middle: '▁<MID>', order: 'psm', bos: true, stops: ['▁<EOT>', '<EOT>', '</s>'] },
  // Codestral (mistral-common's FIM request: BOS [SUFFIX] suffix [PREFIX] prefix, the middle follows).
  codestral: { prefix: '[PREFIX]', suffix: '[SUFFIX]', order: 'spm', bos: true, stops: ['</s>', '[PREFIX]', '[SUFFIX]'] },
};

const hasAll = (tokenizer: PromptTokenizer, tokens: readonly (string | undefined)[]): boolean =>
  tokens.every((t) => t === undefined || tokenizer.tokenId(t) !== undefined);

/** Picks the template from the tokenizer's special tokens (the vocabulary is what the model was trained with). */
export function detectFimTemplate(tokenizer: PromptTokenizer): FimTemplateName {
  // A checkpoint may name its template in tokenizer_config.json (`presage_fim_template`).
  const declared = tokenizer.config?.presage_fim_template;
  if (typeof declared === 'string') {
    if (declared === 'generic') return 'generic';
    if (declared in FAMILIES) return declared as FimTemplateName;
    throw new Error(`tokenizer_config.json: unknown presage_fim_template '${declared}' (known: ${[...Object.keys(FAMILIES), 'generic'].join(', ')})`);
  }
  for (const name of ['qwen', 'deepseek', 'starcoder', 'codellama', 'codestral'] as const) {
    const f = FAMILIES[name];
    if (hasAll(tokenizer, [f.prefix, f.suffix, f.middle])) return name;
  }
  if (hasAll(tokenizer, ['<PRE>', '<SUF>', '<MID>'])) return 'codellama';
  return 'generic';
}

/** Repository-level tokens: the multi-file format the model was trained on. */
export interface RepoTokens {
  style: 'qwen' | 'starcoder';
  repoName: number;
  fileSep: number;
}

export function detectRepoTokens(tokenizer: PromptTokenizer): RepoTokens | undefined {
  for (const [style, repo, sep] of [['qwen', '<|repo_name|>', '<|file_sep|>'], ['starcoder', '<repo_name>', '<file_sep>']] as const) {
    const repoName = tokenizer.tokenId(repo);
    const fileSep = tokenizer.tokenId(sep);
    if (repoName !== undefined && fileSep !== undefined) return { style, repoName, fileSep };
  }
  return undefined;
}

/** Whether prompts of this template can carry related files (the family's own repository-level format). */
export function supportsRepoContext(tokenizer: PromptTokenizer, template: FimTemplateName): boolean {
  const repo = detectRepoTokens(tokenizer);
  return repo !== undefined && repo.style === template;
}

/** A snippet of another workspace file, with its workspace-relative path. */
export interface RelatedFile {
  path: string;
  text: string;
}

export interface FimPromptOptions {
  /** Total prompt budget in tokens (default 2048). */
  maxPromptTokens?: number;
  /** Share of the budget the suffix may take (default 0.25). */
  suffixShare?: number;
  /** Workspace-relative path of the current file (shown to repository-level models). */
  path?: string;
  /** Repository name for the `<|repo_name|>` header (default: "workspace"). */
  repoName?: string;
  /** Related files, most relevant first; used when the tokenizer has repository-level tokens. */
  related?: readonly RelatedFile[];
  /** Share of the budget related files may take even when the current file could use it (default 0.4). */
  relatedShare?: number;
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

/** Related-file snippets shorter than this (in tokens) are not worth their header. */
const MIN_RELATED_TOKENS = 24;

/**
 * The repository header and related files in the model's multi-file format, within `room` tokens, plus the header
 * of the current file. The most relevant file goes last, nearest to the current file.
 */
function repoContext(tokenizer: PromptTokenizer, repo: RepoTokens, options: FimPromptOptions, room: number): { head: number[]; current: number[] } {
  const name = (options.repoName ?? 'workspace').replace(/\s+/g, ' ').trim() || 'workspace';
  const path = (options.path ?? '').replace(/\n/g, ' ');
  const head = [repo.repoName, ...tokenizer.encode(repo.style === 'qwen' ? `${name}\n` : name)];
  // Qwen: <|file_sep|>path\n<prefix...>; StarCoder2 puts the path inside the FIM block (<fim_prefix>path\n...).
  const current = repo.style === 'qwen' ? [repo.fileSep, ...tokenizer.encode(`${path}\n`)] : [repo.fileSep];
  let left = room - head.length - current.length;
  const chosen: number[][] = [];
  for (const file of options.related ?? []) {
    if (left < MIN_RELATED_TOKENS) break;
    const header = [repo.fileSep, ...tokenizer.encode(`${file.path.replace(/\n/g, ' ')}\n`)];
    const fits = left - header.length;
    const body = headTokens(tokenizer, repo.style === 'qwen' ? `${file.text}\n` : file.text, fits + 1);
    // A cut snippet must still say something; a whole short one always goes in.
    if (body.length > fits) {
      if (fits < MIN_RELATED_TOKENS) continue;
      body.length = fits;
    }
    chosen.push([...header, ...body]);
    left -= header.length + body.length;
  }
  return { head: [...head, ...chosen.reverse().flat()], current };
}

export function buildFimPrompt(promptTokenizer: PromptTokenizer, template: FimTemplateName, prefix: string, suffix: string, options: FimPromptOptions = {}): BuiltPrompt {
  // File content is text: a `<|fim_middle|>` typed in a file must not become the special token.
  const tokenizer: PromptTokenizer = promptTokenizer.encodePlain
    ? { ...promptTokenizer, encode: (text) => promptTokenizer.encodePlain!(text) }
    : promptTokenizer;
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
  const mid = f.middle !== undefined ? requireId(tokenizer, f.middle, template) : undefined;
  const bos = f.bos || tokenizer.config?.add_bos_token === true ? tokenizer.bosTokenId : undefined;
  let room = budget - 2 - (mid !== undefined ? 1 : 0) - (bos !== undefined ? 1 : 0);

  // Repository-level context, for the families whose multi-file format we know.
  const repo = options.related?.length && supportsRepoContext(tokenizer, template) ? detectRepoTokens(tokenizer) : undefined;
  let head: number[] = [];
  let current: number[] = [];
  let pathIds: number[] = [];
  if (repo) {
    if (repo.style === 'starcoder' && options.path) pathIds = tokenizer.encode(`${options.path.replace(/\n/g, ' ')}\n`);
    const codeRoom = room - pathIds.length;
    // The current file comes first: related files get what it leaves, and at least their share of the budget.
    const wanted = Math.min(codeRoom, tailTokens(tokenizer, prefix, codeRoom).length + headTokens(tokenizer, suffix, codeRoom).length);
    const relatedRoom = Math.min(codeRoom, Math.max(codeRoom - wanted, Math.floor(codeRoom * Math.min(0.9, Math.max(0, options.relatedShare ?? 0.4)))));
    const context = repoContext(tokenizer, repo, options, relatedRoom);
    if (context.head.length + context.current.length <= relatedRoom) {
      ({ head, current } = context);
      room -= pathIds.length + head.length + current.length;
    } else {
      pathIds = [];
    }
  }

  // Both whole when they fit; otherwise the suffix gets its share (or what the prefix leaves) and the prefix the rest.
  room = Math.max(0, room);
  let suffixIds = headTokens(tokenizer, suffix, room);
  let prefixIds = tailTokens(tokenizer, prefix, room + 1);
  if (prefixIds.length + suffixIds.length > room) {
    const suffixRoom = Math.min(suffixIds.length, Math.max(Math.floor(room * share), room - Math.min(room, prefixIds.length)));
    suffixIds = suffixIds.slice(0, suffixRoom);
    prefixIds = stableTailTokens(tokenizer, prefix, room - suffixRoom);
  }
  const fim = f.order === 'spm'
    ? [suf, ...suffixIds, pre, ...prefixIds]
    : [pre, ...pathIds, ...prefixIds, suf, ...suffixIds, ...(mid !== undefined ? [mid] : [])];
  const ids = [...(bos !== undefined ? [bos] : []), ...head, ...current, ...fim];
  return { ids, stopTokenIds: stopIds(tokenizer, f.stops), stop: [], template: head.length ? `${template}+repo` : template };
}
