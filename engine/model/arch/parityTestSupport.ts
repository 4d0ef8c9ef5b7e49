// Shared checks of an architecture's ONNX graph against its own float64 reference (tests only): a full prompt in
// one pass, incremental decoding over the KV cache, random trees after a random context (fast-check), and greedy
// decoding token for token.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import fs from 'node:fs';
import type { Checkpoint } from '../checkpoint';
import { loadModel, type TinyCheckpointOptions } from '../index';
import { argmax, assertRowClose, checkpointWeights, reference, scratchCheckpoints, tinyCheckpoint } from '../testSupport';

const TOL = 1e-4;

/** Greedy continuation straight from the reference: no cache, the whole sequence recomputed per token. */
export function referenceGreedy(ckpt: Checkpoint, prompt: readonly number[], count: number): number[] {
  const weights = checkpointWeights(ckpt);
  const seq = [...prompt];
  for (let i = 0; i < count; i++) {
    const rows = reference(ckpt, seq, weights);
    seq.push(argmax(rows[rows.length - 1]!, 0, ckpt.config.vocabSize));
  }
  return seq.slice(prompt.length);
}

/** Runs every parity check on a random checkpoint of `options`. */
export async function checkReferenceParity(options: Omit<TinyCheckpointOptions, 'out'>, cacheDir: string): Promise<void> {
  const { dir, ckpt } = await tinyCheckpoint(options);
  const vocab = ckpt.config.vocabSize;
  const weights = checkpointWeights(ckpt);
  try {
    const { model } = await loadModel(dir, { cacheDir });
    try {
      // Full prompt in one linear pass, then incremental decoding one token at a time.
      const prompt = [1, 9, 33 % vocab, 4, 27 % vocab, 5];
      const more = [40 % vocab, 2, 17 % vocab];
      const full = reference(ckpt, [...prompt, ...more], weights);
      const logits = await model.forward(prompt, prompt.map((_, i) => i - 1));
      prompt.forEach((_, i) => assertRowClose(logits, i, full[i]!, TOL, `prompt row ${i}`));
      model.commit(prompt.map((_, i) => i));
      for (const [i, t] of more.entries()) {
        assertRowClose(await model.forward([t], [-1]), 0, full[prompt.length + i]!, TOL, `incremental token ${i}`);
        model.commit([0]);
      }

      // Random trees after a random committed context.
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.integer({ min: 0, max: vocab - 1 }), { minLength: 1, maxLength: 6 }),
          fc.array(fc.tuple(fc.integer({ min: 0, max: vocab - 1 }), fc.nat()), { minLength: 1, maxLength: 6 }),
          async (context, nodes) => {
            model.truncate(0);
            await model.forward(context, context.map((_, i) => i - 1));
            model.commit(context.map((_, i) => i));
            const tokens = nodes.map(([t]) => t);
            const parents = nodes.map(([, p], j) => (p % (j + 1)) - 1);
            const tree = await model.forward(tokens, parents);
            for (let j = 0; j < tokens.length; j++) {
              const path: number[] = [];
              for (let a = j; a >= 0; a = parents[a]!) path.unshift(tokens[a]!);
              const rows = reference(ckpt, [...context, ...path], weights);
              assertRowClose(tree, j, rows[rows.length - 1]!, TOL, `tree node ${j}`);
            }
          },
        ),
        { numRuns: 8, seed: options.seed },
      );

      // Greedy decoding over the KV cache equals the reference's greedy choice at every step. (Random tied
      // checkpoints often repeat one token; the rows above already check the logits themselves.)
      model.truncate(0);
      const expected = referenceGreedy(ckpt, prompt, 12);
      let step = await model.forward(prompt, prompt.map((_, i) => i - 1));
      model.commit(prompt.map((_, i) => i));
      let next = argmax(step, prompt.length - 1, vocab);
      const got: number[] = [];
      while (got.length < expected.length) {
        got.push(next);
        step = await model.forward([next], [-1]);
        model.commit([0]);
        next = argmax(step, 0, vocab);
      }
      assert.deepEqual(got, expected, 'greedy tokens');
    } finally {
      await model.dispose();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The shape of one parity case; the architecture, two layers and the vocabulary come from `parityTests`. */
export type ParityCase = Omit<TinyCheckpointOptions, 'out' | 'arch' | 'layers' | 'vocabSize'>;

/** Registers one test per case (title → shape): a random two-layer checkpoint of `arch` through every parity check. */
export function parityTests(arch: string, vocabSize: number, cases: Record<string, ParityCase>): void {
  const { cacheDir } = scratchCheckpoints(`parity-${arch}`);
  for (const [title, shape] of Object.entries(cases)) {
    test(title, () => checkReferenceParity({ arch, layers: 2, vocabSize, ...shape }, cacheDir));
  }
}
