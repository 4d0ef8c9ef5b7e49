// What every surface gets: the generator that serves it now, the workspace documents, and the one place that
// records a finished generation (statistics, status).
import type { BlockEndFactory } from '../../complete/blockEnd';
import type { Generated, Generator } from '../generator/types';
import type { Surface } from '../stats';
import type { Workspace } from '../workspace';
import { checkInteger, checkNumber, EngineError } from '../errors';

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

export interface SamplingInput {
  temperature?: number;
  topP?: number;
  topK?: number;
  seed?: number;
  stop?: string[];
  timeBudgetMs?: number;
}

/** Only the sampling fields the caller set. */
export function samplingOf(p: SamplingInput): SamplingInput {
  return {
    ...(p.temperature !== undefined ? { temperature: p.temperature } : {}),
    ...(p.topP !== undefined ? { topP: p.topP } : {}),
    ...(p.topK !== undefined ? { topK: p.topK } : {}),
    ...(p.seed !== undefined ? { seed: p.seed } : {}),
    ...(p.stop !== undefined ? { stop: p.stop } : {}),
    ...(p.timeBudgetMs !== undefined ? { timeBudgetMs: p.timeBudgetMs } : {}),
  };
}

/** The same bounds whichever back end runs the request. */
export function checkSampling(p: SamplingInput & { maxTokens?: number }): void {
  checkInteger(p.maxTokens, 'maxTokens', 0, 1 << 20);
  checkNumber(p.temperature, 'temperature', 0, 100);
  checkNumber(p.topP, 'topP', 0, 1);
  checkInteger(p.topK, 'topK', 0, 1 << 20);
  checkInteger(p.seed, 'seed', -(2 ** 53), 2 ** 53);
  checkNumber(p.timeBudgetMs, 'timeBudgetMs', 0, 3_600_000);
  if (p.stop !== undefined && (!Array.isArray(p.stop) || p.stop.some((s) => typeof s !== 'string'))) throw new EngineError('stop must be an array of strings', 'invalid-params');
}
