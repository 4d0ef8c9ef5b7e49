// int8/int4 MatMulNBits graphs against the reference run on the dequantized weights.
import { after, test } from 'node:test';
import fs from 'node:fs';
import { loadModel } from './index';
import { assertTreeMatchesReference, dequantizedWeights, tempDir, tinyCheckpoint } from './testSupport';

const cacheDir = tempDir('graphs-q');
after(() => fs.rmSync(cacheDir, { recursive: true, force: true }));

for (const [bits, tie] of [[4, true], [4, false], [8, false], [8, true]] as const) {
  test(`int${bits} weights (${tie ? 'tied' : 'untied'}): tree logits equal the reference on dequantized weights`, async () => {
    // intermediate 48 makes down_proj's K not a multiple of the 32-wide blocks.
    const { dir, ckpt } = await tinyCheckpoint({ arch: 'qwen2', layers: 2, hidden: 32, heads: 4, kvHeads: 2, intermediate: 48, seed: 21, vocabSize: 50, tieEmbeddings: tie });
    // Linear layers, the head and (hidden being a whole number of blocks) the embedding table are quantized.
    const weights = dequantizedWeights(ckpt, bits);
    const prompt = [2, 7, 1, 8, 2, 8];
    const parents = [-1, 0, 1, 0, 3, -1];
    const tokens = [30, 31, 32, 33, 34, 35];
    for (const [accuracyLevel, tol] of [[0, 1e-4], [4, 5e-2]] as const) {
      const { model } = await loadModel(dir, { cacheDir, quantization: bits === 4 ? 'int4' : 'int8', accuracyLevel });
      try {
        await assertTreeMatchesReference(model, ckpt, weights, prompt, { tokens, parents }, tol, `int${bits} accuracy_level ${accuracyLevel}`);
      } finally {
        await model.dispose();
      }
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });
}
