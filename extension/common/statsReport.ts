// The "Show Stats" report as markdown: the engine's per-surface numbers and the client's ghost-text latency.
import type { StatsResult, SurfaceStats } from '../../engine/protocol';

/** Counters the inline provider keeps, as the report shows them. */
export interface InlineCounters {
  requests: number;
  cacheHits: number;
  cancelled: number;
  staleDropped: number;
  errors: number;
  shown: number;
  acceptedChars: number;
}

export interface ClientInlineStats extends InlineCounters {
  firstGhost: { count: number; p50: number; p95: number };
}

function num(v: number, digits = 1): string {
  return Number.isFinite(v) ? v.toFixed(digits) : '–';
}

function row(name: string, s: SurfaceStats | undefined): string {
  if (!s) return `| ${name} | – | – | – | – | – | – | – |`;
  return `| ${name} | ${s.requests} | ${s.cancelled} | ${num(s.mat, 2)} | ${num(s.tokensPerS)} | ${num(s.latencyMsP50, 0)} | ${num(s.latencyMsP95, 0)} | ${num(s.firstTokenMsP50, 0)} |`;
}

export function statsMarkdown(engine: StatsResult | undefined, inline: ClientInlineStats, error?: string): string {
  const lines = ['# Presage stats', ''];
  if (engine) {
    const mb = (b: number): string => `${(b / 1048576).toFixed(1)} MB`;
    lines.push(
      `Engine ${engine.version}, PID ${engine.pid}, RSS ${mb(engine.rssBytes)}`,
      '',
      engine.model ? `Model: \`${engine.model.path}\` (${engine.model.architecture}, ${engine.model.device})` : 'Model: none loaded',
      '',
      `Index: ${engine.documents} documents, ${engine.indexedTokens} tokens, ${mb(engine.indexBytes)}; history ${mb(engine.historyBytes)}`,
      '',
      '| Surface | Requests | Cancelled | MAT | Tokens/s | Latency p50 (ms) | p95 (ms) | First token p50 (ms) |',
      '|---|---|---|---|---|---|---|---|',
      row('Inline completion', engine.surfaces?.complete),
      row('Rewrite', engine.surfaces?.rewrite),
      row('Chat', engine.surfaces?.chat),
    );
  } else {
    lines.push(`Engine stats unavailable${error ? `: ${error}` : ''}.`);
  }
  const g = inline.firstGhost;
  lines.push(
    '',
    '## Inline completions in this window',
    '',
    `- First ghost text: p50 ${num(g.p50, 0)} ms, p95 ${num(g.p95, 0)} ms over ${g.count} suggestions`,
    `- Requests ${inline.requests}, served from the type-ahead cache ${inline.cacheHits}, cancelled ${inline.cancelled}, stale results dropped ${inline.staleDropped}, errors ${inline.errors}`,
    `- Suggestions shown ${inline.shown}; accepted characters ${inline.acceptedChars}`,
    '',
  );
  return lines.join('\n');
}
