import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { statsMarkdown, type ClientInlineStats } from './statsReport';

const inline: ClientInlineStats = { requests: 10, cacheHits: 3, cancelled: 4, staleDropped: 2, errors: 0, shown: 6, acceptedChars: 40, firstGhost: { count: 6, p50: 87.4, p95: 140.2 } };

describe('stats report', () => {
  it('lists per-surface MAT, tokens/s and latency percentiles', () => {
    const s = { requests: 5, cancelled: 1, mat: 3.456, tokensPerS: 41.26, latencyMsP50: 80, latencyMsP95: 120, firstTokenMsP50: 30 };
    const md = statsMarkdown({
      version: '0.1.0', pid: 7, rssBytes: 200 * 1048576, documents: 3, indexedTokens: 1000, indexBytes: 1048576, historyBytes: 0,
      model: { path: '/m', architecture: 'llama', device: 'cpu' }, surfaces: { complete: s, rewrite: { ...s, requests: 0 }, chat: { ...s, requests: 2 } },
    }, inline);
    assert.match(md, /\| Inline completion \| 5 \| 1 \| 3\.46 \| 41\.3 \| 80 \| 120 \| 30 \|/);
    assert.match(md, /RSS 200\.0 MB/);
    assert.match(md, /First ghost text: p50 87 ms, p95 140 ms over 6/);
  });

  it('still reports the client numbers without the engine', () => {
    const md = statsMarkdown(undefined, { ...inline, firstGhost: { count: 0, p50: NaN, p95: NaN } }, 'not running');
    assert.match(md, /Engine stats unavailable: not running/);
    assert.match(md, /p50 – ms/);
  });
});
