// The history on disk: linear load, several engines on one folder, crash safety, degrading on bad folders.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { createDrafter } from '../draft/index';
import fc from 'fast-check';
import { encodeHistory as encodeSequences } from '../draft/history';
import { HISTORY_LOG, HistoryStore } from './history';

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

test('stores sharing a folder: any interleaving of appends and compactions keeps every completion, in order', () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.integer({ min: 0, max: 1 }), fc.oneof(fc.constant('compact' as const), fc.array(fc.integer({ min: 0, max: 999 }), { minLength: 1, maxLength: 6 }))), { maxLength: 30 }),
      fc.integer({ min: 40, max: 400 }),
      (ops, compactLogBytes) => {
        const dir = tempDir('hist-prop');
        const warnings: string[] = [];
        const stores = [0, 1].map(() => new HistoryStore(dir, 'tok:p', (w) => warnings.push(w), { compactLogBytes, sync: false }));
        stores.forEach((s) => s.load());
        const oracle: number[][] = [];
        for (const [who, op] of ops) {
          if (op === 'compact') stores[who]!.compact();
          else {
            stores[who]!.append(op);
            oracle.push(op);
          }
        }
        const loaded = new HistoryStore(dir, 'tok:p', (w) => warnings.push(w)).load();
        assert.deepEqual(loaded, encodeSequences(oracle));
        assert.deepEqual(warnings, []);
        fs.rmSync(dir, { recursive: true, force: true });
      },
    ),
    { numRuns: 60 },
  );
});

test('a torn last record (crash mid-write) is dropped with a warning; the records before it load', () => {
  const dir = tempDir('hist-torn');
  const store = new HistoryStore(dir, 'tok:t', () => {});
  store.append([1, 2, 3]);
  store.append([4, 5]);
  store.append([6, 7, 8, 9]);
  const log = path.join(dir, HISTORY_LOG);
  fs.truncateSync(log, fs.statSync(log).size - 3);
  const warnings: string[] = [];
  assert.deepEqual(new HistoryStore(dir, 'tok:t', (w) => warnings.push(w)).load(), encodeSequences([[1, 2, 3], [4, 5]]));
  assert.match(warnings.join(' | '), /dropped a damaged or unfinished last record/);
  // A log of another tokenizer is discarded, as a snapshot is.
  const other: string[] = [];
  assert.deepEqual(new HistoryStore(dir, 'tok:other', (w) => other.push(w)).load(), encodeSequences([]));
  assert.match(other.join(' | '), /another tokenizer/);
});

// ---- engines on one storage folder ----

import { decodeHistory as decodeSequences } from '../draft/history';
import { writeTinyCheckpoint } from '../model/index';
import { sharedPath } from '../sharedPaths';
import { Engine, type EngineEvents } from './engine';

let modelDir: string | undefined;
async function tinyModel(): Promise<string> {
  if (!modelDir) {
    modelDir = path.join(tempDir('hist-model'), 'model');
    await writeTinyCheckpoint({ out: modelDir, arch: 'llama', layers: 1, hidden: 16, heads: 2, kvHeads: 1, intermediate: 24, tokenizerDir: sharedPath('tokenizers/gpt2'), seed: 9 });
  }
  return modelDir;
}
const graphCache = tempDir('hist-graphs');

async function engineOn(storageDir: string, warnings: string[] = []): Promise<Engine> {
  const events: EngineEvents = { status: () => {}, log: (level, m) => level !== 'info' && warnings.push(m), loadProgress: () => {}, partial: () => {} };
  const engine = new Engine(events, { calibrate: false });
  engine.initialize({ clientName: 'test', clientVersion: '0', storageDir });
  await engine.loadModel({ model: await tinyModel(), cacheDir: graphCache });
  return engine;
}

/** The history a fresh engine on this folder starts with, as text. */
async function historyTexts(storageDir: string): Promise<string[]> {
  const engine = await engineOn(storageDir);
  try {
    const host = engine.host!;
    return decodeSequences(host.drafter!.exportHistory(), 'test').map((s) => host.tokenizer.decode(s));
  } finally {
    await engine.shutdown();
  }
}

test('two engines on one storage folder merge their histories instead of overwriting each other', { timeout: 120_000 }, async () => {
  const storageDir = path.join(tempDir('hist-shared'), 'storage');
  const a = await engineOn(storageDir);
  const b = await engineOn(storageDir);
  a.recordAcceptance({ text: 'first window wrote this' });
  b.recordAcceptance({ text: 'second window wrote that' });
  a.recordAcceptance({ text: 'first window again' });
  await a.shutdown();
  await b.shutdown();
  const texts = await historyTexts(storageDir);
  for (const t of ['first window wrote this', 'second window wrote that', 'first window again']) assert.ok(texts.includes(t), `${t} is missing from ${JSON.stringify(texts)}`);
});

test('after a crash at most the last completion is lost: each one is on disk when it is recorded', { timeout: 120_000 }, async () => {
  const storageDir = path.join(tempDir('hist-crash'), 'storage');
  const a = await engineOn(storageDir);
  a.recordAcceptance({ text: 'recorded before the crash' });
  a.recordAcceptance({ text: 'the last one before the crash' });
  // No shutdown and no save timer: the process is gone as far as the disk is concerned.
  const texts = await historyTexts(storageDir);
  assert.ok(texts.includes('recorded before the crash'), JSON.stringify(texts));
  assert.ok(texts.includes('the last one before the crash'), JSON.stringify(texts));
  await a.shutdown();
});

/** Makes a folder refuse writes, also for root (which chmod does not stop); undefined when this system cannot. */
function makeReadOnly(dir: string): (() => void) | undefined {
  if (process.getuid?.() !== 0) {
    fs.chmodSync(dir, 0o555);
    return () => fs.chmodSync(dir, 0o755);
  }
  if (spawnSync('chattr', ['+i', dir]).status !== 0) return undefined;
  try {
    fs.writeFileSync(path.join(dir, 'probe'), '');
  } catch {
    return () => spawnSync('chattr', ['-i', dir]);
  }
  spawnSync('chattr', ['-i', dir]);
  return undefined;
}

test('a corrupt history in a read-only folder gives a warning, and the model still loads', { timeout: 120_000 }, async (t) => {
  const storageDir = path.join(tempDir('hist-ro'), 'storage');
  fs.mkdirSync(storageDir);
  fs.writeFileSync(path.join(storageDir, 'history.bin'), 'garbage, not a history');
  const undo = makeReadOnly(storageDir);
  if (!undo) return t.skip('cannot make a folder read-only here (root without chattr)');
  try {
    const warnings: string[] = [];
    const engine = await engineOn(storageDir, warnings);
    try {
      assert.ok(engine.host, 'the model is loaded');
      assert.ok(warnings.some((w) => /history/.test(w) && /bad magic|corrupt|discard/.test(w)), warnings.join(' | '));
      engine.recordAcceptance({ text: 'still works' });
    } finally {
      await engine.shutdown();
    }
  } finally {
    undo();
  }
});

test('a storage folder that cannot exist (its parent is a file) gives a warning, and the model still loads', { timeout: 120_000 }, async () => {
  const parent = path.join(tempDir('hist-file'), 'a-file');
  fs.writeFileSync(parent, 'x');
  const warnings: string[] = [];
  const engine = await engineOn(path.join(parent, 'storage'), warnings);
  try {
    assert.ok(engine.host);
    engine.recordAcceptance({ text: 'kept in memory or a temporary folder' });
    assert.ok(warnings.some((w) => /history/.test(w)), warnings.join(' | '));
  } finally {
    await engine.shutdown();
  }
});
