// Cost measurement on a real (tiny) model: both context strategies, calibration leaves the model clean.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { calibrateForwardCost, measureForwardCost } from './forwardCost';
import { loadModel, type Model } from './index';
import { tempDir, tinyCheckpoint } from './testSupport';

const cacheDir = tempDir('graphs-cost');
after(() => fs.rmSync(cacheDir, { recursive: true, force: true }));

test('measureForwardCost works with placeholder and with prefilled contexts; calibration leaves an empty context', async () => {
  const { dir } = await tinyCheckpoint({ arch: 'llama', layers: 1, hidden: 16, heads: 2, kvHeads: 1, intermediate: 16, seed: 2, vocabSize: 128, maxPositionEmbeddings: 512 });
  const { model } = await loadModel(dir, { cacheDir });
  try {
    const synthetic = await measureForwardCost(model, [1, 4], [0, 64], 1);
    assert.deepEqual(synthetic.map((x) => [x.s, x.context]), [[1, 0], [4, 0], [1, 64], [4, 64]]);
    assert.ok(synthetic.every((x) => x.ms > 0 && Number.isFinite(x.ms) && x.minMs! <= x.ms));
    // A Model without setSyntheticContext: the context is prefilled through forward/commit.
    const plain: Model = {
      get info() { return model.info; },
      get contextLength() { return model.contextLength; },
      forward: (t, p) => model.forward(t, p),
      commit: (n) => model.commit(n),
      truncate: (n) => model.truncate(n),
      dispose: () => model.dispose(),
    };
    const prefilled = await measureForwardCost(plain, [2], [32], 1);
    assert.equal(prefilled.length, 1);
    assert.equal(model.contextLength, 0);
    const cost = await calibrateForwardCost(model, 1);
    assert.equal(model.contextLength, 0);
    for (const [s, c] of [[1, 10], [16, 300]] as const) assert.ok(cost.forwardCostMs(s, c) > 0 && Number.isFinite(cost.forwardCostMs(s, c)));
    const logits = await model.forward([5, 6], [-1, 0]);
    assert.equal(logits.length, 2 * model.info.vocabSize);
  } finally {
    await model.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
