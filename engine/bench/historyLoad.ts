// History load time at several sizes: what an engine does at start (read snapshot + log, import into the drafter).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createDrafter } from '../draft/index';
import { encodeHistory as encodeSequences } from '../draft/history';
import { HistoryStore, saveHistory, HISTORY_LOG, encodeLogRecord } from '../server/history';

export type Layout = 'snapshot' | 'snapshot+log';
const LOG_SHARE_BYTES = 1024 * 1024;

export interface HistoryLoadResult {
  /** 'snapshot': all compacted; 'snapshot+log': the newest 1 MB still in the log (the most the engine leaves there). */
  layout: Layout;
  megabytes: number;
  bytes: number;
  sequences: number;
  /** Best of the runs: reading and checking the files (and merging the log in). */
  readMs: number;
  /** Best of the runs: the default drafter's importHistory. */
  importMs: number;
  totalMs: number;
  msPerMegabyte: number;
}

/** Completions of 4–48 tokens over a skewed vocabulary (frequent tokens repeat, as in code). */
export function syntheticCompletions(bytes: number, seed = 7): number[][] {
  const seqs: number[][] = [];
  let used = 8;
  let s = seed >>> 0;
  const next = (): number => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0);
  while (used < bytes) {
    const len = 4 + (next() % 45);
    const q: number[] = [];
    for (let i = 0; i < len; i++) q.push(Math.floor(50_000 * (next() / 2 ** 32) ** 3));
    if (used + 4 + 4 * len > bytes) break;
    seqs.push(q);
    used += 4 + 4 * len;
  }
  return seqs;
}

function writeLayout(dir: string, layout: Layout, seqs: number[][], fingerprint: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  let split = seqs.length;
  if (layout === 'snapshot+log') {
    // The newest completions, up to 1 MB (a quarter of a small history), go to the log.
    const total = seqs.reduce((n, q) => n + 4 + 4 * q.length, 0);
    const share = Math.min(LOG_SHARE_BYTES, total / 4);
    for (let logged = 0; split > 0 && logged + 8 + 4 * seqs[split - 1]!.length <= share; ) logged += 8 + 4 * seqs[--split]!.length;
  }
  saveHistory(dir, fingerprint, encodeSequences(seqs.slice(0, split)));
  if (split === seqs.length) return;
  const fp = Buffer.from(fingerprint, 'utf8');
  const header = Buffer.alloc(12 + fp.length);
  header.writeUInt32LE(0x4c475350, 0);
  header.writeUInt32LE(1, 4);
  header.writeUInt32LE(fp.length, 8);
  fp.copy(header, 12);
  fs.writeFileSync(path.join(dir, HISTORY_LOG), Buffer.concat([header, ...seqs.slice(split).map((q) => encodeLogRecord(q))]));
}

export function benchHistoryLoad(megabytes: readonly number[], runs: number, layouts: readonly Layout[] = ['snapshot', 'snapshot+log']): HistoryLoadResult[] {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'presage-bench-history-'));
  const fingerprint = 'tok:bench';
  const results: HistoryLoadResult[] = [];
  try {
    // Warm up the JIT on a small history, so the first size is not charged for compilation.
    const warm = path.join(root, 'warm');
    writeLayout(warm, 'snapshot+log', syntheticCompletions(256 * 1024), fingerprint);
    createDrafter('hybrid').importHistory(new HistoryStore(warm, fingerprint, () => {}).load());
    for (const layout of layouts) {
      for (const mb of megabytes) {
        const seqs = syntheticCompletions(mb * 1024 * 1024);
        let readMs = Infinity;
        let importMs = Infinity;
        let totalMs = Infinity;
        let bytes = 0;
        for (let r = 0; r < runs; r++) {
          const dir = path.join(root, `${layout}-${mb}`);
          writeLayout(dir, layout, seqs, fingerprint);
          bytes = fs.readdirSync(dir).reduce((n, f) => n + fs.statSync(path.join(dir, f)).size, 0);
          const t0 = performance.now();
          const payload = new HistoryStore(dir, fingerprint, (w) => process.stderr.write(`${w}\n`), { maxBytes: Infinity, compactLogBytes: Infinity }).load();
          const t1 = performance.now();
          const drafter = createDrafter('hybrid');
          drafter.importHistory(payload);
          const t2 = performance.now();
          readMs = Math.min(readMs, t1 - t0);
          importMs = Math.min(importMs, t2 - t1);
          totalMs = Math.min(totalMs, t2 - t0);
        }
        const round = (x: number): number => Math.round(x * 10) / 10;
        results.push({ layout, megabytes: mb, bytes, sequences: seqs.length, readMs: round(readMs), importMs: round(importMs), totalMs: round(totalMs), msPerMegabyte: round(totalMs / mb) });
      }
    }
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
  return results;
}
