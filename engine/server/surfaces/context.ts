// What every surface gets: the generator that serves it now, the workspace documents, and the one place that
// records a finished generation (statistics, status).
import type { BlockEndFactory } from '../../complete/blockEnd';
import type { GenerateBase, Generated, Generator } from '../generator/types';
import { samplingOf, type SamplingParams } from '../sampling';
import type { Surface } from '../stats';
import type { Workspace } from '../workspace';

export interface SurfaceContext {
  /** The back end for this request (throws a no-model error when none can serve). */
  generator(): Generator;
  readonly workspace: Workspace;
  readonly blockEndRule?: BlockEndFactory;
  log(level: 'info' | 'warn' | 'error', message: string): void;
  /** Statistics and status for one finished generation that started at `startedMs` (performance.now()). */
  record(surface: Surface, startedMs: number, generated: Generated): void;
}

/**
 * The budget rule, one per surface: the prompt gets the context minus the reply and a small margin, at most the
 * surface's cap (a longer prompt costs prefill time for little gain).
 */
export function promptBudget(contextTokens: number, maxTokens: number, cap: number): number {
  return Math.max(16, Math.min(cap, contextTokens - maxTokens - 8));
}

export { checkSampling, samplingOf, type SamplingParams as SamplingInput } from '../sampling';

/**
 * The fields every surface's request carries: the caller's sampling and id, the reply budget, the prompt budget
 * under `promptCap` (promptBudget), and the caller's signal and delta callback when given.
 */
export function requestBase(
  generator: Generator,
  p: SamplingParams & { requestId: string },
  maxTokens: number,
  promptCap: number,
  signal?: AbortSignal,
  onDelta?: (delta: string) => void,
): GenerateBase {
  return {
    ...samplingOf(p), requestId: p.requestId, maxTokens,
    maxPromptTokens: promptBudget(generator.contextTokens(), maxTokens, promptCap),
    ...(signal ? { signal } : {}),
    ...(onDelta ? { onDelta } : {}),
  };
}
