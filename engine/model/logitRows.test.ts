// The output projection runs only on the rows acceptance reads (`logitRows`): the logits' shape, their values
// against the all-rows forward, and a memory bound at a long prompt over a large vocabulary.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import fc from 'fast-check';
import { loadModel } from './index';
import { tempDir, tinyCheckpoint } from './testSupport';

const cacheDir = tempDir('graphs-rows');
after(() => fs.rmSync(cacheDir, { recursive: true, force: true }));

test('logitRows: one row per requested node, equal to that node\'s row of the all-rows forward', async () => {
  const vocab = 97;
  const { dir } = await tinyCheckpoint({ arch: 'llama', layers: 2, hidden: 32, heads: 4, kvHeads: 2, intermediate: 64, seed: 5, vocabSize: vocab });
  for (const quantization of ['none', 'int4'] as const) {
    const { model } = await loadModel(dir, { cacheDir, quantization, threads: 1 });
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.integer({ min: 0, max: vocab - 1 }), { minLength: 1, maxLength: 10 }).chain((tokens) =>
            fc.tuple(
              fc.constant(tokens),
              fc.tuple(...tokens.map((_, j) => fc.integer({ min: -1, max: j - 1 }))),
              fc.array(fc.integer({ min: 0, max: tokens.length - 1 }), { minLength: 1, maxLength: 6 }),
            ),
          ),
          async ([tokens, parents, rows]) => {
            const all = await model.forward(tokens, parents);
            const some = await model.forward(tokens, parents, { logitRows: rows });
            assert.equal(all.length, tokens.length * vocab);
            assert.equal(some.length, rows.length * vocab, 'the logits output has one row per requested node');
            rows.forEach((r, i) => {
              for (let v = 0; v < vocab; v++) assert.ok(Math.abs(some[i * vocab + v]! - all[r * vocab + v]!) <= 1e-5 * (1 + Math.abs(all[r * vocab + v]!)), `${quantization} row ${r} token ${v}`);
            });
            model.commit([]);
          },
        ),
        { numRuns: 15, seed: 14 },
      );
      await assert.rejects(model.forward([1, 2], [-1, 0], { logitRows: [2] }), /logit row 2 is not a node/);
      await assert.rejects(model.forward([1, 2], [-1, 0], { logitRows: [] }), /logitRows is empty/);
    } finally {
      await model.dispose();
    }
  }
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Peak resident set since the last reset, in bytes (Linux /proc). */
function peakRss(): number | undefined {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Resets VmHWM to the current RSS (Linux: clear_refs 5); false where that is not possible. */
function resetPeak(): boolean {
  try {
    fs.writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

test('a 1024-token prompt over a 60000-token vocabulary: the last-row forward stays below half the all-rows logits (246 MB)', async (t) => {
  if (peakRss() === undefined || !resetPeak()) return t.skip('needs Linux /proc to read and reset the peak RSS');
  const vocab = 60000;
  const { dir } = await tinyCheckpoint({ arch: 'llama', layers: 1, hidden: 16, heads: 2, kvHeads: 1, intermediate: 32, seed: 9, vocabSize: vocab, maxPositionEmbeddings: 2048 });
  const { model } = await loadModel(dir, { cacheDir, threads: 1 });
  try {
    const prompt = Array.from({ length: 1024 }, (_, i) => (i * 7919) % vocab);
    const parents = prompt.map((_, i) => i - 1);
    const allRowsBytes = prompt.length * vocab * 4;
    // Warm up the session on a short forward so that its fixed allocations are not counted.
    await model.forward(prompt.slice(0, 4), parents.slice(0, 4), { logitRows: [3] });
    model.commit([]);
    resetPeak();
    const base = peakRss()!;
    const last = await model.forward(prompt, parents, { logitRows: [prompt.length - 1] });
    const lastGrowth = peakRss()! - base;
    assert.equal(last.length, vocab);
    model.commit([]);
    // The same forward with every row: the bound below must be able to fail.
    resetPeak();
    const base2 = peakRss()!;
    const all = await model.forward(prompt, parents);
    const allGrowth = peakRss()! - base2;
    assert.equal(all.length, prompt.length * vocab);
    // The attention of a 1024-token prefill has its own working set (tens of MB, more on a busy machine's arena),
    // so the bound is half of what all rows' logits alone take.
    assert.ok(lastGrowth < allRowsBytes / 2, `last-row forward grew the peak by ${(lastGrowth / 2 ** 20).toFixed(1)} MB`);
    assert.ok(allGrowth > allRowsBytes * 0.9, `all-rows forward grew the peak by only ${(allGrowth / 2 ** 20).toFixed(1)} MB (the measurement is not sensitive)`);
    // The last row is the same either way.
    for (let v = 0; v < vocab; v += 97) assert.ok(Math.abs(last[v]! - all[(prompt.length - 1) * vocab + v]!) < 1e-4);
  } finally {
    await model.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
