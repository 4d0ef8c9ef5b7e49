// The sampling fields of a generation request (as the protocol defines them): read and bounds-checked the same way
// whichever surface asks and whichever back end runs it.
import type { CompleteParams } from '../protocol';
import { checkInteger, checkNumber, EngineError } from './errors';

export type SamplingParams = Pick<CompleteParams, 'temperature' | 'topP' | 'topK' | 'seed' | 'stop' | 'timeBudgetMs'>;

/** Only the sampling fields the caller set. */
export function samplingOf(p: SamplingParams): SamplingParams {
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
export function checkSampling(p: SamplingParams & { maxTokens?: number }): void {
  checkInteger(p.maxTokens, 'maxTokens', 0, 1 << 20);
  checkNumber(p.temperature, 'temperature', 0, 100);
  checkNumber(p.topP, 'topP', 0, 1);
  checkInteger(p.topK, 'topK', 0, 1 << 20);
  checkInteger(p.seed, 'seed', -(2 ** 53), 2 ** 53);
  checkNumber(p.timeBudgetMs, 'timeBudgetMs', 0, 3_600_000);
  if (p.stop !== undefined && (!Array.isArray(p.stop) || p.stop.some((s) => typeof s !== 'string'))) throw new EngineError('stop must be an array of strings', 'invalid-params');
}
