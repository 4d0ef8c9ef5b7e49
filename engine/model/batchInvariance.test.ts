// Batch invariance: a tree node's logits are bit-identical to those of a sequential decode of its path, at every bit
// width, whatever the tree around it. This is what makes speculative output equal greedy output exactly.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import fc from 'fast-check';
import { loadModel } from './index';
import type { Model, Quantization } from './types';
import { tempDir, tinyCheckpoint } from './testSupport';

const cacheDir = tempDir('graphs-invariant');
after(() => fs.rmSync(cacheDir, { recursive: true, force: true }));

/** Logits of each token of `path` decoded one step at a time after `context` (padded to the model's row minimum). */
async function sequential(model: Model, context: readonly number[], path: readonly number[]): Promise<Float32Array[]> {
  const rows = model.info.minForwardRows ?? 1;
  model.truncate(0);
  await model.forward(context, context.map((_, i) => i - 1), { logitRows: [context.length - 1] });
  model.commit(context.map((_, i) => i));
  const out: Float32Array[] = [];
  for (const t of path) {
    out.push((await model.forward(Array(rows).fill(t), Array(rows).fill(-1), { logitRows: [0] })).slice());
    model.commit([0]);
  }
  return out;
}

const treeArb = (vocab: number): fc.Arbitrary<{ context: number[]; tokens: number[]; parents: number[] }> =>
  fc.record({
    context: fc.array(fc.integer({ min: 0, max: vocab - 1 }), { minLength: 1, maxLength: 40 }),
    tokens: fc.array(fc.integer({ min: 0, max: vocab - 1 }), { minLength: 2, maxLength: 12 }),
  }).chain(({ context, tokens }) =>
    fc.tuple(...tokens.map((_, j) => (j === 0 ? fc.constant(-1) : fc.integer({ min: -1, max: j - 1 })))).map((parents) => ({ context, tokens, parents })),
  );

for (const quantization of ['int8', 'int4', 'none'] as Quantization[]) {
  test(`${quantization}: every node of a random tree has the logits of a sequential decode of its path, bit for bit`, async () => {
    const vocab = 64;
    for (const [arch, kvHeads, seed] of [['llama', 2, 31], ['qwen2', 1, 32]] as const) {
      const { dir } = await tinyCheckpoint({ arch, layers: 2, hidden: 64, heads: 4, kvHeads, intermediate: 96, seed, vocabSize: vocab });
      // Two threads: a multi-threaded kernel partitions one row differently from several.
      const { model } = await loadModel(dir, { cacheDir, quantization, threads: 2 });
      try {
        await fc.assert(
          fc.asyncProperty(treeArb(vocab), async ({ context, tokens, parents }) => {
            model.truncate(0);
            await model.forward(context, context.map((_, i) => i - 1), { logitRows: [context.length - 1] });
            model.commit(context.map((_, i) => i));
            const tree = await model.forward(tokens, parents);
            model.commit([]);
            for (let j = 0; j < tokens.length; j++) {
              const path: number[] = [];
              for (let a = j; a !== -1; a = parents[a]!) path.unshift(tokens[a]!);
              const seq = await sequential(model, context, path);
              const want = seq[seq.length - 1]!;
              for (let v = 0; v < vocab; v++) {
                if (tree[j * vocab + v] !== want[v]) assert.fail(`${arch} ${quantization} node ${j} token ${v}: tree ${tree[j * vocab + v]} vs sequential ${want[v]}`);
              }
            }
          }),
          { numRuns: 12, seed: 7 },
        );
      } finally {
        await model.dispose();
        fs.rmSync(dir, { recursive: true, force: true });
      }
    }
  });
}
