// The completion surface (inline completions, `/v1/completions`): its budget rule (prompts of at most 2048
// tokens), its retrieval (related files for repository-level models), and the completion pipeline's stop rules,
// which the local decoder applies while decoding and the remote back end to the streamed text.
import { createCompletionPipeline } from '../../complete/pipeline';
import type { StageName } from '../../complete/types';
import { gatherRepoContext } from '../../prompt/related';
import type { CompleteParams, GenerationResult } from '../../protocol';
import { checkString } from '../errors';
import type { Generated } from '../generator/types';
import { checkSampling, requestBase, samplingOf, type SurfaceContext } from './context';

/** Completion prompts stay short: prefill time is the latency a developer feels. */
export const COMPLETION_PROMPT_CAP = 2048;

/** Switches for the completion path (the quality benchmark's ablation). */
export interface CompletionOptions {
  /** Token healing (default on). */
  healing?: boolean;
  disabledStages?: ReadonlySet<StageName>;
  /** A new completion cancels the running ones (default true: one editor typing; false for a shared server). */
  cancelStale?: boolean;
  /** Predicted Outputs: text the completion probably copies. */
  prediction?: string;
}

export interface CompletionOutcome {
  result: GenerationResult;
  /** The token ids the model saw (local back end; empty remotely). */
  promptIds: number[];
  /** The prefix's end that healing backed up ('' when none). */
  healed: string;
  /** The pipeline stage that cut or dropped the text, else the decoder's finish reason. */
  stopReason: string;
  generated: Generated;
}

export class CompletionSurface {
  constructor(private readonly _ctx: SurfaceContext) {}

  /** Token healing, the FIM prompt, generation with the pipeline's stop rules (when `stopAtBlockEnd`), the final pass. */
  async complete(p: CompleteParams, signal?: AbortSignal, options: CompletionOptions = {}, onDelta?: (delta: string) => void): Promise<CompletionOutcome> {
    const generator = this._ctx.generator();
    const requestId = checkString(p?.requestId, 'requestId');
    const prefix = checkString(p.prefix, 'prefix');
    const suffix = checkString(p.suffix ?? '', 'suffix');
    checkSampling(p);
    const language = p.language ?? '';
    const maxTokens = p.maxTokens ?? 128;
    const pipeline = p.stopAtBlockEnd
      ? await createCompletionPipeline({ language, prefix, suffix }, {
        ...(options.disabledStages ? { disabled: options.disabledStages } : {}),
        ...(this._ctx.blockEndRule ? { blockEndFactory: this._ctx.blockEndRule } : {}),
        onWarning: (m) => this._ctx.log('warn', m),
      })
      : undefined;
    const uri = p.uri;
    const workspace = this._ctx.workspace;
    const t0 = performance.now();
    const r = await generator.fim({
      ...requestBase(generator, { ...p, requestId }, maxTokens, COMPLETION_PROMPT_CAP, signal, onDelta), prefix, suffix,
      healing: options.healing !== false,
      cancelStale: options.cancelStale !== false,
      ...(uri ? { repoContext: () => gatherRepoContext(uri, prefix, suffix, workspace.docs.all(), { recent: workspace.recentEdits.list() }) } : {}),
      ...(pipeline ? { stopAt: pipeline.stopAt } : {}),
      ...(options.prediction !== undefined ? { prediction: options.prediction } : {}),
    });
    this._ctx.record('complete', t0, r);
    let text = r.text;
    let stoppedBy = pipeline?.stoppedBy;
    if (pipeline && r.finishReason !== 'cancelled') ({ text, stoppedBy } = await pipeline.finish(text));
    return {
      result: { text, finishReason: r.finishReason, metrics: r.metrics },
      promptIds: r.promptIds ?? [], healed: r.healed ?? '', stopReason: stoppedBy ?? r.finishReason, generated: r,
    };
  }

  /** A plain continuation of `prompt` (no FIM template): `/v1/completions` without a suffix. */
  async plain(p: { requestId: string; prompt: string; maxTokens?: number; prediction?: string } & Parameters<typeof samplingOf>[0], signal?: AbortSignal, onDelta?: (delta: string) => void): Promise<Generated> {
    const generator = this._ctx.generator();
    checkSampling(p);
    const maxTokens = p.maxTokens ?? 128;
    const t0 = performance.now();
    const r = await generator.plain({
      ...requestBase(generator, p, maxTokens, Number.MAX_SAFE_INTEGER, signal, onDelta), prompt: p.prompt,
      ...(p.prediction !== undefined ? { prediction: p.prediction } : {}),
    });
    this._ctx.record('complete', t0, r);
    return r;
  }
}
