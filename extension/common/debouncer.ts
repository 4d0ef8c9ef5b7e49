// Adaptive debounce (Tabby-style): the wait before a completion request follows the user's typing speed.
// Fast typing waits longer (the next keystroke is coming); a pause fires soon.

export interface DebounceOptions {
  minMs: number;
  maxMs: number;
  /** The wait is this multiple of the recent mean gap between keystrokes. */
  factor: number;
  /** Gaps longer than this are pauses, not typing, and are left out of the mean. */
  pauseMs: number;
  /** How many recent gaps the mean covers. */
  window: number;
}

export const DEFAULT_DEBOUNCE: DebounceOptions = { minMs: 15, maxMs: 250, factor: 1.2, pauseMs: 1000, window: 8 };

export class AdaptiveDebouncer {
  private readonly _gaps: number[] = [];
  private _last: number | undefined;

  constructor(private readonly _options: DebounceOptions = DEFAULT_DEBOUNCE) {
    if (!(_options.minMs >= 0 && _options.maxMs >= _options.minMs)) throw new Error(`bad debounce bounds: ${_options.minMs}..${_options.maxMs}`);
  }

  /** Records a keystroke (a document change) at time `now` (ms). */
  keystroke(now: number): void {
    if (this._last !== undefined) {
      const gap = now - this._last;
      if (gap >= 0 && gap < this._options.pauseMs) {
        this._gaps.push(gap);
        if (this._gaps.length > this._options.window) this._gaps.shift();
      }
    }
    this._last = now;
  }

  /** The wait before requesting at `now`: long while keystrokes come fast, short after a pause. */
  delayMs(now: number): number {
    const { minMs, maxMs, factor, pauseMs } = this._options;
    if (this._gaps.length === 0 || this._last === undefined) return minMs;
    const sinceLast = now - this._last;
    if (sinceLast >= pauseMs) return minMs;
    const mean = this._gaps.reduce((a, b) => a + b, 0) / this._gaps.length;
    const wait = mean * factor - sinceLast;
    return Math.round(Math.min(maxMs, Math.max(minMs, wait)));
  }

  /** Resolves true after the adaptive wait, or false as soon as the signal aborts. */
  wait(now: number, signal?: AbortSignal): Promise<boolean> {
    const ms = this.delayMs(now);
    return sleep(ms, signal);
  }
}

export function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve(false);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
