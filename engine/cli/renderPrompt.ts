// `render-prompt`: the prompt the engine would give the model, for inspection, built by the same code as the
// engine's chat, rewrite and inline-completion surfaces. Needs only the checkpoint's tokenizer files.
import fs from 'node:fs';
import { buildChatPrompt, buildRewritePrompt, detectChatTemplate } from '../prompt/chat';
import { buildFimPrompt, detectFimTemplate, type BuiltPrompt, type RelatedFile } from '../prompt/fim';
import type { TemplateMessage } from '../prompt/template';
import { loadTokenizer, type TextTokenizer } from '../tokenizer';
import { boolFlag, flag, numberFlag, parseArgs, requireFlag } from './args';

export type PromptKind = 'chat' | 'rewrite' | 'fim';

export interface RenderedPrompt {
  /** For chat: the template's render (with add_generation_prompt); otherwise the decoded ids. */
  text: string;
  ids: number[];
  template: string;
  stop_token_ids: number[];
}

export interface RenderOptions {
  /** Token budget; chat and rewrite default to no cut (the whole render), fim to the engine's 2048. */
  maxPromptTokens?: number;
  /** A named template of the list form ("default", "tool_use", …). */
  templateName?: string;
}

function object(value: unknown, what: string): Record<string, unknown> {
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new Error(`${what} must be a JSON object`);
  return value as Record<string, unknown>;
}

function string(input: Record<string, unknown>, key: string, fallback?: string): string {
  const v = input[key] ?? fallback;
  if (typeof v !== 'string') throw new Error(`input.${key} must be a string`);
  return v;
}

function messagesOf(input: Record<string, unknown>): TemplateMessage[] {
  const list = input.messages;
  if (!Array.isArray(list) || list.length === 0) throw new Error('input.messages must be a non-empty array of {role, content}');
  return list.map((m, i) => {
    const msg = object(m, `input.messages[${i}]`);
    if (typeof msg.role !== 'string' || typeof msg.content !== 'string') throw new Error(`input.messages[${i}] needs a string role and content`);
    return msg as TemplateMessage;
  });
}

function relatedOf(input: Record<string, unknown>): RelatedFile[] {
  const list = input.related ?? [];
  if (!Array.isArray(list)) throw new Error('input.related must be an array of {path, text}');
  return list.map((r, i) => {
    const f = object(r, `input.related[${i}]`);
    if (typeof f.path !== 'string' || typeof f.text !== 'string') throw new Error(`input.related[${i}] needs a string path and text`);
    return { path: f.path, text: f.text };
  });
}

const NO_CUT = 1 << 30;

export function renderPrompt(tokenizer: TextTokenizer, kind: PromptKind, inputValue: unknown, options: RenderOptions = {}): RenderedPrompt {
  const input = object(inputValue, 'the input');
  let built: BuiltPrompt;
  if (kind === 'chat') {
    const variables = input.template_kwargs === undefined ? undefined : object(input.template_kwargs, 'input.template_kwargs');
    built = buildChatPrompt(tokenizer, detectChatTemplate(tokenizer, options.templateName), messagesOf(input), {
      maxPromptTokens: options.maxPromptTokens ?? NO_CUT,
      ...(variables ? { templateVariables: variables } : {}),
    });
  } else if (kind === 'rewrite') {
    built = buildRewritePrompt(tokenizer, detectChatTemplate(tokenizer, options.templateName), {
      instruction: string(input, 'instruction'),
      selection: string(input, 'selection'),
      language: string(input, 'language', ''),
      ...(input.prefix !== undefined ? { prefix: string(input, 'prefix') } : {}),
      ...(input.suffix !== undefined ? { suffix: string(input, 'suffix') } : {}),
    }, { maxPromptTokens: options.maxPromptTokens ?? NO_CUT });
  } else if (kind === 'fim') {
    built = buildFimPrompt(tokenizer, detectFimTemplate(tokenizer), string(input, 'prefix'), string(input, 'suffix', ''), {
      maxPromptTokens: options.maxPromptTokens ?? 2048,
      ...(input.path !== undefined ? { path: string(input, 'path') } : {}),
      ...(input.repo !== undefined ? { repoName: string(input, 'repo') } : {}),
      related: relatedOf(input),
    });
  } else {
    throw new Error(`--kind must be chat, rewrite or fim (got '${String(kind)}')`);
  }
  const whole = built.text !== undefined && tokenizer.encode(built.text).length === built.ids.length;
  return { text: whole ? built.text! : tokenizer.decode(built.ids), ids: built.ids, template: built.template, stop_token_ids: built.stopTokenIds };
}

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, ['json']);
  const dir = requireFlag(args, 'model');
  const kind = requireFlag(args, 'kind') as PromptKind;
  const inputPath = requireFlag(args, 'input');
  if (!['chat', 'rewrite', 'fim'].includes(kind)) throw new Error(`--kind must be chat, rewrite or fim (got '${kind}')`);
  if (!fs.existsSync(`${dir}/tokenizer.json`)) throw new Error(`--model ${dir}: no tokenizer.json there`);
  let input: unknown;
  try {
    input = JSON.parse(fs.readFileSync(inputPath, 'utf8'));
  } catch (err) {
    throw new Error(`--input ${inputPath}: ${(err as Error).message}`);
  }
  const templateName = flag(args, 'template');
  const budget = flag(args, 'max-prompt-tokens') !== undefined ? numberFlag(args, 'max-prompt-tokens', 0) : undefined;
  const out = renderPrompt(loadTokenizer(dir), kind, input, { ...(budget !== undefined ? { maxPromptTokens: budget } : {}), ...(templateName ? { templateName } : {}) });
  process.stdout.write(boolFlag(args, 'json') ? `${JSON.stringify(out)}\n` : `${out.text}\n`);
  return 0;
}
