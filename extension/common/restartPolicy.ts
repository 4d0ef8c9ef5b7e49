// When the engine process dies: restart with exponential backoff, or give up after too many crashes in a window.

export interface RestartPolicyOptions {
  maxCrashes: number;
  windowMs: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RESTART: RestartPolicyOptions = { maxCrashes: 5, windowMs: 3 * 60_000, baseDelayMs: 250, maxDelayMs: 8000 };

export type RestartDecision =
  | { action: 'restart'; delayMs: number; crashesInWindow: number }
  | { action: 'give-up'; crashesInWindow: number; message: string };

export class RestartPolicy {
  private _crashes: number[] = [];

  constructor(private readonly _options: RestartPolicyOptions = DEFAULT_RESTART) {}

  /** Records a crash at `now` (ms) and decides what to do. */
  onCrash(now: number): RestartDecision {
    const { maxCrashes, windowMs, baseDelayMs, maxDelayMs } = this._options;
    this._crashes = this._crashes.filter((t) => now - t < windowMs);
    this._crashes.push(now);
    const n = this._crashes.length;
    if (n >= maxCrashes) {
      return {
        action: 'give-up', crashesInWindow: n,
        message: `The Presage engine crashed ${n} times in the last ${Math.round(windowMs / 60_000)} minutes and will not be restarted automatically.`,
      };
    }
    return { action: 'restart', delayMs: Math.min(maxDelayMs, baseDelayMs * 2 ** (n - 1)), crashesInWindow: n };
  }

  /** A manual restart (the user asked): start counting afresh. */
  reset(): void {
    this._crashes = [];
  }
}
