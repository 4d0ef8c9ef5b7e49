// Chat prompts (ChatML, DeepSeek-Coder instruct, plain text) and the rewrite prompt built on them.
import type { BuiltPrompt, PromptTokenizer } from './fim';

export type ChatTemplateName = 'chatml' | 'deepseek' | 'plain';

export interface PromptMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export function detectChatTemplate(tokenizer: PromptTokenizer): ChatTemplateName {
  if (tokenizer.tokenId('<|im_start|>') !== undefined && tokenizer.tokenId('<|im_end|>') !== undefined) return 'chatml';
  if (tokenizer.tokenId('<|EOT|>') !== undefined || tokenizer.tokenId('<｜begin▁of▁sentence｜>') !== undefined) return 'deepseek';
  return 'plain';
}

export interface ChatPromptOptions {
  maxPromptTokens?: number;
  /** Text the assistant's reply starts with (e.g. an opening code fence). */
  assistantPrefix?: string;
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

export function buildChatPrompt(tokenizer: PromptTokenizer, template: ChatTemplateName, messages: readonly PromptMessage[], options: ChatPromptOptions = {}): BuiltPrompt {
  if (messages.length === 0) throw new Error('chat: at least one message is needed');
  for (const m of messages) {
    if (!['system', 'user', 'assistant'].includes(m.role) || typeof m.content !== 'string') throw new Error(`chat: bad message ${JSON.stringify(m).slice(0, 80)}`);
  }
  const budget = Math.max(16, Math.floor(options.maxPromptTokens ?? 4096));
  const bos = template === 'deepseek' ? tokenizer.bosTokenId : undefined;
  const head = bos !== undefined ? [bos] : [];
  const tail = replyStart(tokenizer, template, options.assistantPrefix ?? '');
  const encoded = messages.map((m) => encodeMessage(tokenizer, template, m));
  // Drop the oldest non-system messages (never the last one) until the prompt fits.
  const keep = encoded.map(() => true);
  const size = (): number => head.length + tail.length + encoded.reduce((n, e, i) => n + (keep[i] ? e.length : 0), 0);
  for (let i = 0; i < messages.length - 1 && size() > budget; i++) if (messages[i]!.role !== 'system') keep[i] = false;
  const body = encoded.flatMap((e, i) => (keep[i] ? e : []));
  let ids = [...head, ...body, ...tail];
  if (ids.length > budget) ids = [...head, ...ids.slice(ids.length - (budget - head.length))];
  const stopTokenIds = new Set<number>(tokenizer.eosTokenIds ?? []);
  for (const name of ['<|im_end|>', '<|endoftext|>', '<|EOT|>', '<｜end▁of▁sentence｜>']) {
    const id = tokenizer.tokenId(name);
    if (id !== undefined) stopTokenIds.add(id);
  }
  const stop = template === 'chatml' ? [] : template === 'deepseek' ? ['\n### Instruction:'] : ['\nUser:', '\nSystem:'];
  return { ids, stopTokenIds: [...stopTokenIds], stop, template };
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

/** The rewrite prompt: the reply is opened with a code fence and ends at the closing fence. */
export function buildRewritePrompt(tokenizer: PromptTokenizer, template: ChatTemplateName, input: RewritePromptInput, options: { maxPromptTokens?: number } = {}): BuiltPrompt {
  const fileSep = tokenizer.tokenId('<file_sep>');
  if (template === 'plain' && fileSep !== undefined) return buildBaseModelRewrite(tokenizer, fileSep, input, Math.max(16, options.maxPromptTokens ?? 4096));
  const fence = '```';
  const lang = input.language.replace(/[^\w+#.-]/g, '');
  const before = input.prefix ? `Code before the selection:\n${fence}${lang}\n${input.prefix.slice(-CONTEXT_CHARS)}\n${fence}\n\n` : '';
  const after = input.suffix ? `Code after the selection:\n${fence}${lang}\n${input.suffix.slice(0, CONTEXT_CHARS)}\n${fence}\n\n` : '';
  const user = `${before}${after}Selected code:\n${fence}${lang}\n${input.selection}\n${fence}\n\nInstruction: ${input.instruction}`;
  const built = buildChatPrompt(tokenizer, template, [{ role: 'system', content: REWRITE_SYSTEM }, { role: 'user', content: user }], {
    assistantPrefix: `${fence}${lang}\n`,
    ...(options.maxPromptTokens !== undefined ? { maxPromptTokens: options.maxPromptTokens } : {}),
  });
  return { ...built, stop: [...built.stop, `\n${fence}`] };
}
