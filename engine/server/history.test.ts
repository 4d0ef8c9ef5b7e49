// The history on disk: linear load, several engines on one folder, crash safety, degrading on bad folders.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { createDrafter } from '../draft/index';
import { encodeHistory as encodeSequences } from '../draft/history';

const dirs: string[] = [];
after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
function tempDir(prefix: string): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), `presage-${prefix}-`));
  dirs.push(d);
  return d;
}

/** Many short sequences (accepted completions are often a few tokens): the shape that made loading quadratic. */
function shortSequences(bytes: number, seed = 1): number[][] {
  const seqs: number[][] = [];
  let used = 8;
  let s = seed;
  while (used < bytes) {
    const len = 3 + (s % 6);
    const q: number[] = [];
    for (let i = 0; i < len; i++) {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      q.push(s % 50_000);
    }
    seqs.push(q);
    used += 4 + 4 * len;
  }
  return seqs;
}

test('history load is linear: 4 MB of short completions import into the default drafter without stalling', { timeout: 60_000 }, () => {
  const payload = encodeSequences(shortSequences(4 << 20));
  const drafter = createDrafter('hybrid');
  const t0 = performance.now();
  drafter.importHistory(payload);
  const ms = performance.now() - t0;
  // A hang guard, not a benchmark (bench-history measures): a quadratic import takes minutes here.
  assert.ok(ms < 5000, `importing 4 MB took ${ms.toFixed(0)} ms`);
  assert.equal(drafter.exportHistory().length, payload.length);
});
