// The ORT graph against the naive float64 reference: prompt, incremental decoding, trees, compaction, truncation.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { loadModel, type TinyCheckpointOptions } from './index';
import { argmax, assertRowClose, reference, tempDir, tinyCheckpoint } from './testSupport';

const cacheDir = tempDir('graphs');
after(() => fs.rmSync(cacheDir, { recursive: true, force: true }));

const TOL = 1e-4;
const base = { seed: 7, vocabSize: 61, layers: 2 };
const cases: { name: string; options: Omit<TinyCheckpointOptions, 'out'> }[] = [
  { name: 'llama GQA untied, head size 8', options: { ...base, arch: 'llama', hidden: 32, heads: 4, kvHeads: 2, intermediate: 40 } },
  { name: 'qwen2 bias, tied, kv=1, head size 6', options: { ...base, arch: 'qwen2', hidden: 24, heads: 4, kvHeads: 1, intermediate: 36, seed: 3 } },
  { name: 'qwen2 GQA kv=2, untied', options: { ...base, arch: 'qwen2', hidden: 32, heads: 4, kvHeads: 2, intermediate: 40, seed: 4, tieEmbeddings: false } },
  {
    name: 'llama attention bias, tied, MHA, rope llama3',
    options: {
      ...base,
      arch: 'llama',
      hidden: 32,
      heads: 2,
      kvHeads: 2,
      intermediate: 24,
      tieEmbeddings: true,
      attentionBias: true,
      ropeTheta: 500000,
      ropeScaling: { rope_type: 'llama3', factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 16 },
    },
  },
  {
    name: 'llama rope linear, head size 12, bf16 storage',
    options: { ...base, arch: 'llama', hidden: 36, heads: 3, kvHeads: 1, intermediate: 30, ropeScaling: { type: 'linear', factor: 4 }, dtype: 'BF16' },
  },
];

// A small tree after the prompt: 0 → 1 → 3 → 6, 0 → 2 → 4, 2 → 5; plus a second root 7.
const treeParents = [-1, 0, 0, 1, 2, 2, 3, -1];
const treeTokens = [11, 12, 13, 14, 15, 16, 17, 18];
const rootPath = (j: number): number[] => {
  const path: number[] = [];
  for (let a = j; a >= 0; a = treeParents[a]!) path.unshift(a);
  return path;
};

for (const { name, options } of cases) {
  describe(name, () => {
    const prompt = [1, 9, 33, 4, 27, 5];
    test('full prompt, incremental decoding, tree, compaction and truncation agree with the reference', async () => {
      const { dir, ckpt } = await tinyCheckpoint(options);
      const vocab = ckpt.config.vocabSize;
      const { model } = await loadModel(dir, { cacheDir });
      try {
        // Full prompt in one linear pass.
        const full = reference(ckpt, [...prompt, 40, 41, 42]);
        const logits = await model.forward(prompt, prompt.map((_, i) => i - 1));
        prompt.forEach((_, i) => assertRowClose(logits, i, full[i]!, TOL, `prompt row ${i}`));
        model.commit(prompt.map((_, i) => i));
        assert.equal(model.contextLength, prompt.length);

        // Incremental decoding through the cache, one token at a time.
        for (const [k, t] of [40, 41, 42].entries()) {
          const step = await model.forward([t], [-1]);
          assertRowClose(step, 0, full[prompt.length + k]!, TOL, `incremental step ${k}`);
          model.commit([0]);
        }
        const ctx = [...prompt, 40, 41, 42];
        assert.equal(model.contextLength, ctx.length);

        // A tree: every node's logits equal decoding its root path in sequence.
        const tree = await model.forward(treeTokens, treeParents);
        for (let j = 0; j < treeTokens.length; j++) {
          const path = rootPath(j).map((n) => treeTokens[n]!);
          const ref = reference(ckpt, [...ctx, ...path]);
          assertRowClose(tree, j, ref[ref.length - 1]!, TOL, `tree node ${j}`);
        }

        // Compaction: keep 0 → 2 → 5, then continuing equals decoding that path from scratch.
        model.commit([0, 2, 5]);
        const kept = [...ctx, treeTokens[0]!, treeTokens[2]!, treeTokens[5]!];
        assert.equal(model.contextLength, kept.length);
        const next = await model.forward([50, 51], [-1, 0]);
        const refNext = reference(ckpt, [...kept, 50, 51]);
        assertRowClose(next, 0, refNext[kept.length]!, TOL, 'after compaction row 0');
        assertRowClose(next, 1, refNext[kept.length + 1]!, TOL, 'after compaction row 1');
        assert.equal(argmax(next, 1, vocab), argmax(refNext[kept.length + 1]!, 0, vocab));

        // Truncation reuses a prompt prefix.
        model.truncate(3);
        const again = await model.forward([8, 2], [-1, 0]);
        const refTrunc = reference(ckpt, [...prompt.slice(0, 3), 8, 2]);
        assertRowClose(again, 1, refTrunc[4]!, TOL, 'after truncate');
      } finally {
        await model.dispose();
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}

test('greedy decoding of a tiny model is not stuck on one token (tied and untied)', async () => {
  for (const tie of [true, false]) {
    const { dir } = await tinyCheckpoint({ arch: 'llama', layers: 2, hidden: 32, heads: 4, kvHeads: 2, intermediate: 48, seed: 11, vocabSize: 97, tieEmbeddings: tie });
    const { model, info } = await loadModel(dir, { cacheDir });
    try {
      let logits = await model.forward([3, 4, 5], [-1, 0, 1]);
      model.commit([0, 1, 2]);
      let next = argmax(logits, 2, info.vocabSize);
      const out: number[] = [];
      for (let i = 0; i < 24; i++) {
        out.push(next);
        logits = await model.forward([next], [-1]);
        model.commit([0]);
        next = argmax(logits, 0, info.vocabSize);
      }
      assert.ok(new Set(out).size >= 4, `tie=${tie}: greedy output ${out.join(',')} uses fewer than 4 distinct tokens`);
    } finally {
      await model.dispose();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
});
