// Graph cache integrity: every byte of a cached entry is checked, so damage anywhere is found and rebuilt.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { MODEL_FILE, verifyEntry, WEIGHTS_FILE, writeEntry } from './graphCache';
import { tempDir } from './testSupport';

const dirs: string[] = [];
after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

/** Writes a cache entry whose weights file is `bytes` long, filled with a non-zero pattern. */
function entryOf(bytes: number): string {
  const root = tempDir('cache-int');
  dirs.push(root);
  const dir = path.join(root, 'k');
  writeEntry(dir, 'k', (tmp) => {
    const chunk = Buffer.alloc(1 << 20);
    for (let i = 0; i < chunk.length; i++) chunk[i] = (i * 131 + 7) & 0xff;
    const fd = fs.openSync(path.join(tmp, WEIGHTS_FILE), 'w');
    for (let done = 0; done < bytes; done += chunk.length) fs.writeSync(fd, chunk, 0, Math.min(chunk.length, bytes - done));
    fs.closeSync(fd);
    fs.writeFileSync(path.join(tmp, MODEL_FILE), 'graph');
  });
  return dir;
}

function zero(file: string, at: number, length: number): void {
  const fd = fs.openSync(file, 'r+');
  fs.writeSync(fd, Buffer.alloc(length), 0, length, at);
  fs.closeSync(fd);
}

test('graph cache: zeroing bytes between the old 1 MB sample blocks of a large weights file is detected', () => {
  // Above 64 MB the old check hashed 64 blocks of 1 MB spaced size/64 apart; this region lies between two of them.
  const size = 80 * (1 << 20);
  const dir = entryOf(size);
  assert.equal(verifyEntry(dir, 'k'), undefined);
  const stride = Math.floor(size / 64);
  zero(path.join(dir, WEIGHTS_FILE), 3 * stride + (1 << 20) + 4096, 64 * 1024);
  assert.match(verifyEntry(dir, 'k') ?? 'valid', /weights\.bin content does not match/);
});

test('graph cache: a single flipped byte anywhere in a small entry is detected', () => {
  const dir = entryOf(3 * (1 << 20) + 17);
  const file = path.join(dir, WEIGHTS_FILE);
  for (const at of [0, (1 << 20) + 5, 3 * (1 << 20) + 16]) {
    const fd = fs.openSync(file, 'r+');
    const one = Buffer.alloc(1);
    fs.readSync(fd, one, 0, 1, at);
    const before = one[0]!;
    one[0] = before ^ 0x01;
    fs.writeSync(fd, one, 0, 1, at);
    assert.match(verifyEntry(dir, 'k') ?? 'valid', /content does not match/, `flip at ${at}`);
    one[0] = before;
    fs.writeSync(fd, one, 0, 1, at);
    fs.closeSync(fd);
    assert.equal(verifyEntry(dir, 'k'), undefined);
  }
});

test('graph cache: a manifest from the sampled-hash format is not trusted', () => {
  const dir = entryOf(1 << 20);
  const manifestFile = path.join(dir, 'manifest.json');
  const manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8')) as Record<string, unknown>;
  delete manifest.hash;
  fs.writeFileSync(manifestFile, JSON.stringify(manifest));
  assert.match(verifyEntry(dir, 'k') ?? 'valid', /older cache format/);
});

test('graph cache: a zeroed region of a real cached model gives a warning, a rebuild and the reference output', async () => {
  const { loadModel } = await import('./index');
  const { reference, assertRowClose, tinyCheckpoint } = await import('./testSupport');
  const { dir, ckpt } = await tinyCheckpoint({ arch: 'llama', layers: 1, hidden: 32, heads: 4, kvHeads: 2, intermediate: 48, seed: 11, vocabSize: 300 });
  const cacheDir = tempDir('cache-real');
  dirs.push(dir, cacheDir);
  const first = await loadModel(dir, { cacheDir });
  await first.model.dispose();
  const weights = path.join(first.graphDir, WEIGHTS_FILE);
  zero(weights, Math.floor(fs.statSync(weights).size / 2), 4096);
  const warnings: string[] = [];
  const again = await loadModel(dir, { cacheDir, onWarning: (m) => warnings.push(m) });
  try {
    assert.ok(warnings.some((w) => /corrupt.*weights\.bin content does not match.*rebuilding/.test(w)), warnings.join(' | '));
    const prompt = [5, 17, 250, 3];
    const logits = await again.model.forward(prompt, [-1, 0, 1, 2]);
    assertRowClose(logits, 3, reference(ckpt, prompt)[3]!, 1e-4, 'after the rebuild');
    assert.equal(verifyEntry(again.graphDir, path.basename(again.graphDir)), undefined);
  } finally {
    await again.model.dispose();
  }
});

test('graph cache: an unwritable cache folder gives a warning and a temporary folder; the model still loads', async () => {
  const { loadModel } = await import('./index');
  const { tinyCheckpoint } = await import('./testSupport');
  const { dir } = await tinyCheckpoint({ arch: 'qwen2', layers: 1, hidden: 16, heads: 2, kvHeads: 1, intermediate: 24, seed: 4, vocabSize: 50 });
  const root = tempDir('cache-unwritable');
  dirs.push(dir, root);
  // Root ignores permission bits, so make writes fail the way they fail for everyone: the folder's parent is a file.
  const blocker = path.join(root, 'not-a-folder');
  fs.writeFileSync(blocker, 'x');
  const warnings: string[] = [];
  const loaded = await loadModel(dir, { cacheDir: path.join(blocker, 'graphs'), onWarning: (m) => warnings.push(m) });
  try {
    assert.ok(warnings.some((w) => w.includes(path.join(blocker, 'graphs')) && /not writable|cannot/.test(w) && /temporary/.test(w)), warnings.join(' | '));
    assert.ok(!loaded.graphDir.startsWith(blocker), loaded.graphDir);
    const logits = await loaded.model.forward([1, 2], [-1, 0]);
    assert.equal(logits.length, 2 * 50);
  } finally {
    await loaded.model.dispose();
  }
});
