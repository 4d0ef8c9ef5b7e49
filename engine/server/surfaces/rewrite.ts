// The rewrite surface (Rewrite Selection): the selection is the prediction (locally the main draft source, remotely
// OpenAI's Predicted Outputs field); its budget rule gives the reply about 1.5 times the selection. The reply it
// returns is exactly the replacement for the selection.
import type { GenerationResult, RewriteParams } from '../../protocol';
import { checkString } from '../errors';
import { checkSampling, requestBase, type SurfaceContext } from './context';

export const REWRITE_PROMPT_CAP = 6144;

/**
 * The replacement for the selection from the model's reply. A base model's rewrite prompt (template
 * 'base-rewrite') is `<file_sep>original.ext\n{selection}\n<file_sep>rewritten.ext (…)\n`, and the reply is
 * `{output}\n` up to the next `<file_sep>`: the format's own newline is taken off, unless it is the one newline a
 * selection that ends a line wants back. Chat-template replies are unchanged (their fences are cut by the prompt's
 * opening fence and its closing-fence stop string).
 */
export function replacementText(reply: string, selection: string, promptTemplate: string | undefined): string {
  if (promptTemplate !== 'base-rewrite') return reply;
  const newline = /\r?\n$/.exec(reply);
  if (!newline) return reply;
  const selectionEndsLine = /\n$/.test(selection);
  // A selection that ends a line gets a reply ending in a newline; only a second one is the format's.
  if (selectionEndsLine && !/\n\r?\n$/.test(reply)) return reply;
  return reply.slice(0, newline.index);
}

/** A rewrite with what the local back end knows besides the text (the benchmark and the CLI compare tokens). */
export interface RewriteOutcome {
  result: GenerationResult;
  /** The token ids the model saw and produced (local back end; empty remotely). */
  promptIds: number[];
  tokens: number[];
  /** The prompt's format ('base-rewrite', 'jinja:…', a fallback chat name; '' remotely). */
  promptTemplate: string;
}

export class RewriteSurface {
  constructor(private readonly _ctx: SurfaceContext) {}

  async rewrite(p: RewriteParams, signal?: AbortSignal, onDelta?: (delta: string) => void): Promise<GenerationResult> {
    return (await this.rewriteDetailed(p, signal, onDelta)).result;
  }

  /** The JSON-RPC `rewrite`, the `rewrite` CLI and `bench-rewrite`. */
  async rewriteDetailed(p: RewriteParams, signal?: AbortSignal, onDelta?: (delta: string) => void): Promise<RewriteOutcome> {
    const generator = this._ctx.generator();
    const requestId = checkString(p?.requestId, 'requestId');
    const selection = checkString(p.selection, 'selection');
    const instruction = checkString(p.instruction, 'instruction');
    checkSampling(p);
    const maxTokens = p.maxTokens ?? Math.min(4096, Math.max(256, Math.ceil(generator.countTokens(selection) * 1.5) + 64));
    const t0 = performance.now();
    const r = await generator.rewrite({
      ...requestBase(generator, { ...p, requestId }, maxTokens, REWRITE_PROMPT_CAP, signal, onDelta),
      input: { instruction, selection, language: p.language ?? '', ...(p.prefix ? { prefix: p.prefix } : {}), ...(p.suffix ? { suffix: p.suffix } : {}) },
      // The selection is what the rewrite mostly copies.
      prediction: selection,
    });
    this._ctx.record('rewrite', t0, r);
    return {
      result: { text: replacementText(r.text, selection, r.promptTemplate), finishReason: r.finishReason, metrics: r.metrics },
      promptIds: r.promptIds ?? [], tokens: r.tokens ?? [], promptTemplate: r.promptTemplate ?? '',
    };
  }
}
