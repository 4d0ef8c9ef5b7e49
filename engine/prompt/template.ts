// The checkpoint's own chat template, rendered with @huggingface/jinja the way transformers' apply_chat_template
// renders it: special tokens by role, `add_generation_prompt`, `tools`/`documents` as none, and the
// `raise_exception` and `strftime_now` globals.
import { Environment, Interpreter, Template } from '@huggingface/jinja';
import type { CheckpointChatTemplates } from '../tokenizer';

/** A message as a chat template sees it: a role, its content, and whatever else the template reads (tool_calls…). */
export interface TemplateMessage {
  role: string;
  content: string;
  [key: string]: unknown;
}

export interface RenderOptions {
  addGenerationPrompt: boolean;
  /** Extra template variables, as apply_chat_template's **kwargs (`enable_thinking`, `date_string`, …). */
  variables?: Record<string, unknown>;
  /** The clock `strftime_now` reads (tests pin it). */
  now?: Date;
}

/** Raised by the template itself (`raise_exception`), e.g. for roles that do not alternate. */
export class ChatTemplateError extends Error {}

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

/** Python's datetime.strftime for the directives chat templates use (local time, C locale). */
export function strftime(date: Date, format: string): string {
  const pad = (n: number, width = 2): string => String(n).padStart(width, '0');
  return format.replace(/%([a-zA-Z%])/g, (whole, d: string) => {
    switch (d) {
      case 'd': return pad(date.getDate());
      case 'm': return pad(date.getMonth() + 1);
      case 'Y': return String(date.getFullYear());
      case 'y': return pad(date.getFullYear() % 100);
      case 'b': return MONTHS[date.getMonth()]!.slice(0, 3);
      case 'B': return MONTHS[date.getMonth()]!;
      case 'a': return DAYS[date.getDay()]!.slice(0, 3);
      case 'A': return DAYS[date.getDay()]!;
      case 'H': return pad(date.getHours());
      case 'M': return pad(date.getMinutes());
      case 'S': return pad(date.getSeconds());
      case 'j': {
        const start = new Date(date.getFullYear(), 0, 1);
        return pad(Math.floor((date.getTime() - start.getTime()) / 86_400_000) + 1, 3);
      }
      case '%': return '%';
      default: return whole;
    }
  });
}

function pythonRange(start: number, stop?: number, step = 1): number[] {
  if (stop === undefined) [start, stop] = [0, start];
  if (step === 0) throw new Error('range() step must not be zero');
  const out: number[] = [];
  for (let i = start; step > 0 ? i < stop : i > stop; i += step) out.push(i);
  return out;
}

export class JinjaChatTemplate {
  readonly kind = 'jinja' as const;
  private readonly _template: Template;

  /**
   * @param source the Jinja text
   * @param origin where it came from (file and template name), for error messages
   * @param specialTokens transformers' special_tokens_map (`bos_token`, `eos_token`, …)
   */
  constructor(readonly source: string, readonly origin: string, readonly specialTokens: Readonly<Record<string, string | string[]>>) {
    try {
      this._template = new Template(source);
    } catch (err) {
      throw new Error(`chat template from ${origin} does not parse: ${(err as Error).message}`);
    }
  }

  render(messages: readonly TemplateMessage[], options: RenderOptions): string {
    const now = options.now ?? new Date();
    const context: Record<string, unknown> = {
      ...this.specialTokens,
      messages: messages.map((m) => ({ ...m })),
      tools: null,
      documents: null,
      add_generation_prompt: options.addGenerationPrompt,
      ...options.variables,
      raise_exception: (message: unknown): never => {
        throw new ChatTemplateError(`chat template (${this.origin}): ${String(message)}`);
      },
      strftime_now: (format: unknown): string => strftime(now, String(format)),
    };
    try {
      // Template.render would declare its own raise_exception and strftime_now (locale-dependent month names, no
      // pinned clock) first; ours replace them, so the environment is set up here with the same other globals.
      const env = new Environment();
      const globals: Record<string, unknown> = { false: false, true: true, none: null, False: false, True: true, None: null, range: pythonRange };
      for (const [key, value] of Object.entries({ ...globals, ...context })) env.set(key, value);
      return new Interpreter(env).run(this._template.parsed).value as string;
    } catch (err) {
      if (err instanceof ChatTemplateError) throw err;
      throw new Error(`chat template from ${this.origin} failed to render: ${(err as Error).message}`);
    }
  }
}

/**
 * Picks the template transformers would use: the only one, else "default" (or "tool_use" when tools are given);
 * `name` asks for a named one.
 */
export function selectChatTemplate(templates: CheckpointChatTemplates, specialTokens: Readonly<Record<string, string | string[]>>, name?: string): JinjaChatTemplate {
  const names = Object.keys(templates.named);
  const chosen = name ?? (names.length === 1 ? names[0]! : 'default');
  const source = templates.named[chosen];
  if (source === undefined) {
    throw new Error(`${templates.origin}: no chat template named '${chosen}' (it has: ${names.join(', ') || 'none'})`);
  }
  return new JinjaChatTemplate(source, chosen === 'default' ? templates.origin : `${templates.origin}#${chosen}`, specialTokens);
}
