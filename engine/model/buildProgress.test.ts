// Cold start: building a graph reports its progress as the fraction of the checkpoint's parameters read.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { loadModel } from './index';
import { tempDir, tinyCheckpoint } from './testSupport';

const cacheDir = tempDir('graphs-progress');
after(() => fs.rmSync(cacheDir, { recursive: true, force: true }));

test('graph building reports fractions from 0 to 1, non-decreasing, with the embedding counted; a cached load reports none', async () => {
  // A large vocabulary makes the embedding most of the parameters: its read must move the fraction on its own.
  const { dir } = await tinyCheckpoint({ arch: 'qwen2', layers: 4, hidden: 32, heads: 4, kvHeads: 2, intermediate: 64, seed: 2, vocabSize: 4000 });
  const seen: [string, number][] = [];
  const first = await loadModel(dir, { cacheDir, quantization: 'int4', onProgress: (stage, f) => seen.push([stage, f]) });
  await first.model.dispose();
  const build = seen.filter(([stage]) => stage === 'build').map(([, f]) => f);
  assert.equal(build[0], 0);
  assert.equal(build[build.length - 1], 1);
  for (let i = 1; i < build.length; i++) assert.ok(build[i]! >= build[i - 1]!, `fractions go down: ${build}`);
  assert.ok(build.filter((f) => f > 0 && f < 1).length >= 5, `too few intermediate fractions: ${build}`);
  // The embedding (4000 × 32 of about 180 k parameters) is read first: the first step is a large one.
  assert.ok(build[1]! > 0.5, `first fraction after the embedding: ${build[1]}`);
  assert.deepEqual(seen[seen.length - 1], ['session', 1]);
  const again: string[] = [];
  const cached = await loadModel(dir, { cacheDir, quantization: 'int4', onProgress: (stage) => again.push(stage) });
  await cached.model.dispose();
  assert.ok(!again.includes('build'), 'a cached graph is not rebuilt');
  fs.rmSync(dir, { recursive: true, force: true });
});
