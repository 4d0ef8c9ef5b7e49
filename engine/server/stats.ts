// Per-surface request statistics: counts, MAT, tokens/s and latency percentiles over a recent window.
import type { SurfaceStats } from '../protocol';

export type Surface = 'complete' | 'rewrite' | 'chat';

export function percentile(values: readonly number[], q: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[idx]!;
}

class SurfaceWindow {
  requests = 0;
  cancelled = 0;
  tokens = 0;
  steps = 0;
  genMs = 0;
  readonly latency: number[] = [];
  readonly firstToken: number[] = [];
  constructor(private readonly _window: number) {}

  record(latencyMs: number, firstTokenMs: number, tokens: number, steps: number, cancelled: boolean): void {
    this.requests++;
    if (cancelled) {
      this.cancelled++;
      return;
    }
    this.tokens += tokens;
    this.steps += steps;
    this.genMs += latencyMs;
    push(this.latency, latencyMs, this._window);
    if (tokens > 0) push(this.firstToken, firstTokenMs, this._window);
  }

  snapshot(): SurfaceStats {
    return {
      requests: this.requests,
      cancelled: this.cancelled,
      mat: this.steps > 0 ? this.tokens / this.steps : 0,
      tokensPerS: this.genMs > 0 ? (this.tokens * 1000) / this.genMs : 0,
      latencyMsP50: percentile(this.latency, 0.5),
      latencyMsP95: percentile(this.latency, 0.95),
      firstTokenMsP50: percentile(this.firstToken, 0.5),
    };
  }
}

function push(list: number[], v: number, max: number): void {
  list.push(v);
  if (list.length > max) list.shift();
}

export class EngineStats {
  private readonly _surfaces: Record<Surface, SurfaceWindow>;
  constructor(window = 500) {
    this._surfaces = { complete: new SurfaceWindow(window), rewrite: new SurfaceWindow(window), chat: new SurfaceWindow(window) };
  }

  record(surface: Surface, latencyMs: number, firstTokenMs: number, tokens: number, steps: number, cancelled: boolean): void {
    this._surfaces[surface].record(latencyMs, firstTokenMs, tokens, steps, cancelled);
  }

  snapshot(): Record<Surface, SurfaceStats> {
    return { complete: this._surfaces.complete.snapshot(), rewrite: this._surfaces.rewrite.snapshot(), chat: this._surfaces.chat.snapshot() };
  }
}
