// Chat prompts and the rewrite prompt built on them. The checkpoint's own chat template (Jinja) comes first; the
// hand-written ChatML, DeepSeek-Coder instruct and plain-text formats are the fallback for checkpoints without one.
import type { BuiltPrompt, PromptTokenizer } from './fim';
import { ChatTemplateError, JinjaChatTemplate, selectChatTemplate, type TemplateMessage } from './template';

/** The hand-written fallback formats. */
export type ChatTemplateName = 'chatml' | 'deepseek' | 'plain';

/** How chat prompts are written for a checkpoint: its own Jinja template, or a fallback format. */
export type ChatTemplate = JinjaChatTemplate | ChatTemplateName;

export interface PromptMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** The checkpoint's chat template when it ships one (`name` picks one of the list form), else a fallback format. */
export function detectChatTemplate(tokenizer: PromptTokenizer, name?: string): ChatTemplate {
  if (tokenizer.chatTemplates) return selectChatTemplate(tokenizer.chatTemplates, tokenizer.specialTokens ?? {}, name);
  if (name !== undefined) throw new Error(`the tokenizer has no chat templates (asked for '${name}')`);
  return detectFallbackChatTemplate(tokenizer);
}

/**
 * For serving: a checkpoint whose template our Jinja cannot parse still loads, with the fallback format and a
 * warning that names the template and the parse error.
 */
export function chatTemplateForServing(tokenizer: PromptTokenizer, warn: (message: string) => void = (m) => process.stderr.write(`presage: warning: ${m}\n`)): ChatTemplate {
  try {
    return detectChatTemplate(tokenizer);
  } catch (err) {
    const fallback = detectFallbackChatTemplate(tokenizer);
    warn(`${(err as Error).message}; using the built-in '${fallback}' chat format instead`);
    return fallback;
  }
}

export function detectFallbackChatTemplate(tokenizer: PromptTokenizer): ChatTemplateName {
  if (tokenizer.tokenId('<|im_start|>') !== undefined && tokenizer.tokenId('<|im_end|>') !== undefined) return 'chatml';
  if (tokenizer.tokenId('<|EOT|>') !== undefined || tokenizer.tokenId('<｜begin▁of▁sentence｜>') !== undefined) return 'deepseek';
  return 'plain';
}

export interface ChatPromptOptions {
  maxPromptTokens?: number;
  /** Text the assistant's reply starts with (e.g. an opening code fence). */
  assistantPrefix?: string;
  /** Extra variables for a Jinja template, as apply_chat_template's kwargs (e.g. `enable_thinking: false`). */
  templateVariables?: Record<string, unknown>;
  /** The clock a template's strftime_now reads. */
  now?: Date;
}

/**
 * End-of-turn tokens of the common chat formats; whichever the vocabulary has ends a reply. Not `</s>` or `<|end|>`:
 * some vocabularies hold them as ordinary text pieces (where they are the model's EOS, eos_token covers them).
 */
const END_OF_TURN_TOKENS = ['<|im_end|>', '<|endoftext|>', '<|EOT|>', '<｜end▁of▁sentence｜>', '<|eot_id|>', '<|eom_id|>', '<|end_of_text|>', '<end_of_turn>'];

function chatStopTokenIds(tokenizer: PromptTokenizer): number[] {
  const ids = new Set<number>(tokenizer.eosTokenIds ?? []);
  for (const name of END_OF_TURN_TOKENS) {
    const id = tokenizer.tokenId(name);
    if (id !== undefined) ids.add(id);
  }
  return [...ids];
}

function checkMessages(messages: readonly TemplateMessage[], roles: readonly string[] | undefined): void {
  if (messages.length === 0) throw new Error('chat: at least one message is needed');
  for (const m of messages) {
    if (!m || typeof m.role !== 'string' || (roles && !roles.includes(m.role)) || typeof m.content !== 'string') {
      throw new Error(`chat: bad message ${JSON.stringify(m).slice(0, 80)}`);
    }
  }
}

/**
 * Renders with the checkpoint's template and tokenizes the text as transformers does (no BOS/EOS added: the
 * template writes BOS itself when the model wants one, so it is never doubled; special tokens in the text map to
 * their ids). A template that rejects a system message gets it folded into the first user turn.
 */
function renderJinja(template: JinjaChatTemplate, messages: readonly TemplateMessage[], options: ChatPromptOptions): string {
  const render = (list: readonly TemplateMessage[]): string =>
    template.render(list, { addGenerationPrompt: true, ...(options.templateVariables ? { variables: options.templateVariables } : {}), ...(options.now ? { now: options.now } : {}) });
  try {
    return render(messages);
  } catch (err) {
    const first = messages[0];
    if (!(err instanceof ChatTemplateError) || first?.role !== 'system' || messages[1]?.role !== 'user') throw err;
    const [, user, ...rest] = messages;
    return render([{ ...user!, content: `${first.content}\n\n${user!.content}` }, ...rest]);
  }
}

/**
 * Drops whole turns, oldest first (never a system message, never the last message), keeping user/assistant
 * alternation, until `fits` holds or nothing more can go.
 */
function dropOldTurns<T extends { role: string }>(messages: readonly T[], fits: (list: readonly T[]) => boolean): T[] {
  let list = [...messages];
  while (!fits(list)) {
    const first = list.findIndex((m, i) => m.role !== 'system' && i < list.length - 1);
    if (first < 0) break;
    // A user turn goes with the assistant reply after it, so the remaining conversation still starts with a user.
    const count = list[first]!.role === 'user' && list[first + 1]?.role === 'assistant' && first + 1 < list.length - 1 ? 2 : 1;
    list = [...list.slice(0, first), ...list.slice(first + count)];
  }
  return list;
}

function buildJinjaChatPrompt(tokenizer: PromptTokenizer, template: JinjaChatTemplate, messages: readonly TemplateMessage[], options: ChatPromptOptions): BuiltPrompt {
  checkMessages(messages, undefined);
  const budget = Math.max(16, Math.floor(options.maxPromptTokens ?? 4096));
  const prefix = options.assistantPrefix ?? '';
  let rendered = { text: '', ids: [] as number[] };
  const encode = (list: readonly TemplateMessage[]): { text: string; ids: number[] } => {
    const text = renderJinja(template, list, options) + prefix;
    return { text, ids: tokenizer.encode(text) };
  };
  dropOldTurns(messages, (list) => {
    rendered = encode(list);
    return rendered.ids.length <= budget;
  });
  let ids = rendered.ids;
  if (ids.length > budget) {
    // One turn alone is over the budget: keep the start of the prompt (BOS, header) and its end.
    const head = ids.slice(0, Math.min(8, Math.floor(budget / 4)));
    ids = [...head, ...ids.slice(ids.length - (budget - head.length))];
  }
  return { ids, stopTokenIds: chatStopTokenIds(tokenizer), stop: [], template: `jinja:${template.origin}`, text: rendered.text };
}

/** Encodes one message in the template; special tokens by id. */
function encodeMessage(tokenizer: PromptTokenizer, template: ChatTemplateName, m: PromptMessage): number[] {
  if (template === 'chatml') {
    const start = tokenizer.tokenId('<|im_start|>')!;
    const end = tokenizer.tokenId('<|im_end|>')!;
    return [start, ...tokenizer.encode(`${m.role}\n${m.content}`), end, ...tokenizer.encode('\n')];
  }
  if (template === 'deepseek') {
    if (m.role === 'system') return tokenizer.encode(`${m.content}\n`);
    if (m.role === 'user') return tokenizer.encode(`### Instruction:\n${m.content}\n`);
    const eot = tokenizer.tokenId('<|EOT|>');
    return [...tokenizer.encode(`### Response:\n${m.content}\n`), ...(eot !== undefined ? [eot] : []), ...tokenizer.encode('\n')];
  }
  const label = m.role === 'system' ? 'System' : m.role === 'user' ? 'User' : 'Assistant';
  return tokenizer.encode(`${label}: ${m.content}\n\n`);
}

function replyStart(tokenizer: PromptTokenizer, template: ChatTemplateName, prefix: string): number[] {
  if (template === 'chatml') return [tokenizer.tokenId('<|im_start|>')!, ...tokenizer.encode(`assistant\n${prefix}`)];
  if (template === 'deepseek') return tokenizer.encode(`### Response:\n${prefix}`);
  return tokenizer.encode(`Assistant: ${prefix}`);
}

export function buildChatPrompt(tokenizer: PromptTokenizer, template: ChatTemplate, messages: readonly (PromptMessage | TemplateMessage)[], options: ChatPromptOptions = {}): BuiltPrompt {
  if (template instanceof JinjaChatTemplate) return buildJinjaChatPrompt(tokenizer, template, messages as readonly TemplateMessage[], options);
  checkMessages(messages as readonly TemplateMessage[], ['system', 'user', 'assistant']);
  const budget = Math.max(16, Math.floor(options.maxPromptTokens ?? 4096));
  const bos = template === 'deepseek' ? tokenizer.bosTokenId : undefined;
  const head = bos !== undefined ? [bos] : [];
  const tail = replyStart(tokenizer, template, options.assistantPrefix ?? '');
  const encoded = messages.map((m) => encodeMessage(tokenizer, template, m as PromptMessage));
  // Drop the oldest non-system messages (never the last one) until the prompt fits.
  const keep = encoded.map(() => true);
  const size = (): number => head.length + tail.length + encoded.reduce((n, e, i) => n + (keep[i] ? e.length : 0), 0);
  for (let i = 0; i < messages.length - 1 && size() > budget; i++) if (messages[i]!.role !== 'system') keep[i] = false;
  const body = encoded.flatMap((e, i) => (keep[i] ? e : []));
  let ids = [...head, ...body, ...tail];
  if (ids.length > budget) ids = [...head, ...ids.slice(ids.length - (budget - head.length))];
  const stop = template === 'chatml' ? [] : template === 'deepseek' ? ['\n### Instruction:'] : ['\nUser:', '\nSystem:'];
  return { ids, stopTokenIds: chatStopTokenIds(tokenizer), stop, template };
}

export interface RewritePromptInput {
  instruction: string;
  selection: string;
  language: string;
  prefix?: string;
  suffix?: string;
}

const REWRITE_SYSTEM = 'You rewrite code as instructed. Reply with the complete rewritten code only, in one fenced code block, keeping everything the instruction does not ask to change.';
const CONTEXT_CHARS = 2000;

const EXTENSIONS: Record<string, string> = {
  python: 'py', typescript: 'ts', typescriptreact: 'tsx', javascript: 'js', javascriptreact: 'jsx', rust: 'rs', go: 'go',
  java: 'java', c: 'c', cpp: 'cpp', csharp: 'cs', ruby: 'rb', php: 'php', shellscript: 'sh', json: 'json', html: 'html', css: 'css',
};

/**
 * Base code models (no chat template, but a file separator token as in StarCoder-style corpora) rewrite best when
 * shown the code as one file and asked for the next file: they copy it, changing what the instruction (in the
 * second file's header) suggests. The reply ends at the next file separator.
 */
function buildBaseModelRewrite(tokenizer: PromptTokenizer, fileSep: number, input: RewritePromptInput, budget: number): BuiltPrompt {
  const ext = EXTENSIONS[input.language] ?? 'txt';
  const instruction = input.instruction.replace(/\s+/g, ' ').trim().slice(0, 300);
  const head = [fileSep, ...tokenizer.encode(`original.${ext}\n${input.selection}\n`)];
  const tail = [fileSep, ...tokenizer.encode(`rewritten.${ext} (${instruction})\n`)];
  const ids = [...head.slice(Math.max(0, head.length - (budget - tail.length))), ...tail];
  if (ids[0] !== fileSep) ids.unshift(fileSep);
  const stopTokenIds = new Set<number>([fileSep, ...(tokenizer.eosTokenIds ?? [])]);
  const eot = tokenizer.tokenId('<|endoftext|>');
  if (eot !== undefined) stopTokenIds.add(eot);
  return { ids, stopTokenIds: [...stopTokenIds], stop: [], template: 'base-rewrite' };
}

/** The rewrite request as chat messages (also what a remote server gets); the reply is code in one fence. */
export function rewriteMessages(input: RewritePromptInput): { messages: PromptMessage[]; fence: string; lang: string } {
  const fence = '```';
  const lang = input.language.replace(/[^\w+#.-]/g, '');
  const before = input.prefix ? `Code before the selection:\n${fence}${lang}\n${input.prefix.slice(-CONTEXT_CHARS)}\n${fence}\n\n` : '';
  const after = input.suffix ? `Code after the selection:\n${fence}${lang}\n${input.suffix.slice(0, CONTEXT_CHARS)}\n${fence}\n\n` : '';
  const user = `${before}${after}Selected code:\n${fence}${lang}\n${input.selection}\n${fence}\n\nInstruction: ${input.instruction}`;
  return { messages: [{ role: 'system', content: REWRITE_SYSTEM }, { role: 'user', content: user }], fence, lang };
}

/** The rewrite prompt: the reply is opened with a code fence and ends at the closing fence. */
export function buildRewritePrompt(tokenizer: PromptTokenizer, template: ChatTemplate, input: RewritePromptInput, options: Pick<ChatPromptOptions, 'maxPromptTokens' | 'templateVariables' | 'now'> = {}): BuiltPrompt {
  const fileSep = tokenizer.tokenId('<file_sep>');
  if (template === 'plain' && fileSep !== undefined) return buildBaseModelRewrite(tokenizer, fileSep, input, Math.max(16, options.maxPromptTokens ?? 4096));
  const { messages, fence, lang } = rewriteMessages(input);
  const built = buildChatPrompt(tokenizer, template, messages, {
    ...options,
    assistantPrefix: `${fence}${lang}\n`,
    // A reasoning model (Qwen3) answers straight away: the template writes its empty think block.
    templateVariables: { enable_thinking: false, ...options.templateVariables },
  });
  return { ...built, stop: [...built.stop, `\n${fence}`] };
}
