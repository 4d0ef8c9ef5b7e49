// The rewrite surface (Rewrite Selection): the selection is the prediction (locally the main draft source, remotely
// OpenAI's Predicted Outputs field); its budget rule gives the reply about 1.5 times the selection.
import type { GenerationResult, RewriteParams } from '../../protocol';
import { checkString } from '../errors';
import { checkSampling, requestBase, type SurfaceContext } from './context';

export const REWRITE_PROMPT_CAP = 6144;

export class RewriteSurface {
  constructor(private readonly _ctx: SurfaceContext) {}

  async rewrite(p: RewriteParams, signal?: AbortSignal, onDelta?: (delta: string) => void): Promise<GenerationResult> {
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
    return { text: r.text, finishReason: r.finishReason, metrics: r.metrics };
  }
}
