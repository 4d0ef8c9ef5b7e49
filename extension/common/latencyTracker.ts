// Latency samples over a sliding window, with percentiles (nearest rank).

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export class LatencyTracker {
  private readonly _samples: number[] = [];

  constructor(private readonly _window = 500) {}

  add(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) return;
    this._samples.push(ms);
    if (this._samples.length > this._window) this._samples.shift();
  }

  get count(): number {
    return this._samples.length;
  }

  summary(): { count: number; p50: number; p95: number; mean: number } {
    const sorted = [...this._samples].sort((a, b) => a - b);
    const mean = sorted.length ? sorted.reduce((a, b) => a + b, 0) / sorted.length : NaN;
    return { count: sorted.length, p50: percentile(sorted, 50), p95: percentile(sorted, 95), mean };
  }

  clear(): void {
    this._samples.length = 0;
  }
}
