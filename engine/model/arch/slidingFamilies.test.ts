// Mistral, Gemma 2, Gemma 3 and Phi-3 against their float64 references over contexts longer than the sliding
// window: full prompts, token-by-token decoding, trees after a long committed context, greedy decoding, and a
// property over random windows, contexts and trees. Also: the window really masks, and longrope switches tables.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { loadModel, type TinyCheckpointOptions } from '../index';
import { openCheckpoint } from '../checkpoint';
import { argmax, assertRowClose, assertTreeMatchesReference, dequantizedWeights, editConfig as rewriteConfig, reference, scratchCheckpoints } from '../testSupport';

const scratch = scratchCheckpoints('sliding');
const { cacheDir } = scratch;

const TOL = 1e-4;
const shape = { layers: 2, hidden: 32, heads: 4, kvHeads: 2, intermediate: 40, vocabSize: 61 } as const;
const families: { arch: string; window: number }[] = [
  { arch: 'mistral', window: 4 },
  { arch: 'gemma2', window: 4 },
  { arch: 'gemma3_text', window: 4 },
  { arch: 'phi3', window: 5 },
];

async function checkpoint(options: Omit<TinyCheckpointOptions, 'out'>) {
  const dir = await scratch.fresh(options);
  return { dir, ckpt: openCheckpoint(dir) };
}

function editConfig(dir: string, edit: (c: Record<string, unknown>) => void): ReturnType<typeof openCheckpoint> {
  rewriteConfig(dir, edit);
  return openCheckpoint(dir);
}

const linear = (n: number): number[] => Array.from({ length: n }, (_, i) => i - 1);

for (const { arch, window } of families) {
  describe(`${arch} (sliding window ${window})`, () => {
    // 12 tokens: three times the window, so sliding layers drop most of the context.
    const prompt = [1, 9, 33, 4, 27, 5, 50, 12, 8, 44, 3, 21];

    test('config carries the window', async () => {
      const { ckpt } = await checkpoint({ ...shape, arch, seed: 11 });
      assert.equal(ckpt.config.slidingWindow, window);
    });

    test('full prompt, token-by-token decoding and a tree after a long context agree with the reference', async () => {
      const { dir, ckpt } = await checkpoint({ ...shape, arch, seed: 11 });
      const { model } = await loadModel(dir, { cacheDir });
      try {
        const full = reference(ckpt, prompt);
        const logits = await model.forward(prompt, linear(prompt.length));
        prompt.forEach((_, i) => assertRowClose(logits, i, full[i]!, TOL, `${arch} prompt row ${i}`));

        // Token by token from a 3-token context: each step crosses the window further.
        model.truncate(0);
        await model.forward(prompt.slice(0, 3), linear(3));
        model.commit([0, 1, 2]);
        for (let i = 3; i < prompt.length; i++) {
          const step = await model.forward([prompt[i]!], [-1]);
          assertRowClose(step, 0, full[i]!, TOL, `${arch} step ${i}`);
          model.commit([0]);
        }
        assert.equal(model.contextLength, prompt.length);

        // A tree 4 deep after the 12-token context: 0 → 1 → 3 → 5, 0 → 2 → 4, plus a second root 6.
        const parents = [-1, 0, 0, 1, 2, 3, -1];
        const tokens = [40, 41, 42, 43, 44, 45, 46];
        const treeLogits = await model.forward(tokens, parents);
        parents.forEach((_, node) => {
          const pathTokens: number[] = [];
          for (let a = node; a >= 0; a = parents[a]!) pathTokens.unshift(tokens[a]!);
          const ref = reference(ckpt, [...prompt, ...pathTokens]);
          assertRowClose(treeLogits, node, ref[ref.length - 1]!, TOL, `${arch} tree node ${node}`);
        });
        // Commit a branch and continue: positions past the window from the committed branch.
        model.commit([0, 2, 4]);
        const next = await model.forward([7], [-1]);
        const ref = reference(ckpt, [...prompt, 40, 42, 44, 7]);
        assertRowClose(next, 0, ref[ref.length - 1]!, TOL, `${arch} after commit`);
      } finally {
        await model.dispose();
      }
    });

    test('greedy decoding equals the reference greedy decoding', async () => {
      const { dir, ckpt } = await checkpoint({ ...shape, arch, seed: 23 });
      const vocab = ckpt.config.vocabSize;
      const { model } = await loadModel(dir, { cacheDir });
      try {
        const start = [2, 30, 7];
        const engine: number[] = [];
        let logits = await model.forward(start, linear(start.length));
        model.commit([0, 1, 2]);
        let row = start.length - 1;
        for (let i = 0; i < 12; i++) {
          const t = argmax(logits, row, vocab);
          engine.push(t);
          logits = await model.forward([t], [-1]);
          model.commit([0]);
          row = 0;
        }
        const expected: number[] = [];
        for (let i = 0; i < 12; i++) {
          const ref = reference(ckpt, [...start, ...expected]);
          expected.push(argmax(ref[ref.length - 1]!, 0, vocab));
        }
        assert.deepEqual(engine, expected);
      } finally {
        await model.dispose();
      }
    });

    test('the window masks: without it, late logits change', async () => {
      const { ckpt: windowed } = await checkpoint({ ...shape, arch, seed: 11 });
      const { ckpt: full } = await checkpoint({ ...shape, arch, seed: 11, slidingWindow: null });
      assert.equal(full.config.slidingWindow, undefined);
      const a = reference(windowed, prompt);
      const b = reference(full, prompt);
      // Inside the window the two agree; beyond it they must not.
      assertRowClose(Float32Array.from(a[window - 1]!), 0, b[window - 1]!, 1e-6, `${arch} row inside the window`);
      const last = prompt.length - 1;
      const diff = Math.max(...a[last]!.map((v, i) => Math.abs(v - b[last]![i]!)));
      assert.ok(diff > 1e-3, `${arch}: the window changed nothing (${diff})`);
      // And the engine follows the windowed reference, not the full one.
      const { model } = await loadModel(windowed.dir, { cacheDir });
      try {
        const logits = await model.forward(prompt, linear(prompt.length));
        assertRowClose(logits, last, a[last]!, TOL, `${arch} engine last row`);
      } finally {
        await model.dispose();
      }
    });
  });
}

test('property: random windows, contexts and trees agree with the reference (mistral, gemma3)', async () => {
  const models = new Map<string, { dir: string; ckpt: ReturnType<typeof openCheckpoint> }>();
  for (const arch of ['mistral', 'gemma3_text']) {
    for (const w of [1, 2, 3, 6]) models.set(`${arch}/${w}`, await checkpoint({ ...shape, layers: 2, arch, seed: 5 + w, slidingWindow: w }));
  }
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(...models.keys()),
      fc.array(fc.integer({ min: 0, max: 60 }), { minLength: 1, maxLength: 10 }),
      fc.array(fc.tuple(fc.integer({ min: 0, max: 60 }), fc.nat()), { minLength: 1, maxLength: 6 }),
      async (key, context, nodes) => {
        const { dir, ckpt } = models.get(key)!;
        // Node j's parent is -1 or an earlier node, drawn from the tuple's second value.
        const parents = nodes.map(([, r], j) => (r % (j + 1)) - 1);
        const tokens = nodes.map(([t]) => t);
        const { model } = await loadModel(dir, { cacheDir });
        try {
          await model.forward(context, linear(context.length));
          model.commit(context.map((_, i) => i));
          const logits = await model.forward(tokens, parents);
          parents.forEach((_, node) => {
            const pathTokens: number[] = [];
            for (let a = node; a >= 0; a = parents[a]!) pathTokens.unshift(tokens[a]!);
            const ref = reference(ckpt, [...context, ...pathTokens]);
            assertRowClose(logits, node, ref[ref.length - 1]!, TOL, `${key} node ${node}`);
          });
        } finally {
          await model.dispose();
        }
      },
    ),
    { numRuns: 25, seed: 1234 },
  );
});

test('phi3 longrope: the long factors take over past original_max_position_embeddings, as in transformers', async () => {
  const { dir } = await checkpoint({ ...shape, arch: 'phi3', seed: 31, slidingWindow: null });
  const ckpt = editConfig(dir, (c) => {
    c.original_max_position_embeddings = 6;
    c.max_position_embeddings = 64;
  });
  const s = ckpt.config.ropeScaling;
  assert.equal(s.type, 'longrope');
  // transformers: factor = 64 / 6, attention factor sqrt(1 + ln(factor) / ln(6)).
  if (s.type === 'longrope') assert.ok(Math.abs(s.attentionFactor - Math.sqrt(1 + Math.log(64 / 6) / Math.log(6))) < 1e-12);
  const { model } = await loadModel(dir, { cacheDir });
  try {
    const short = [3, 8, 13, 21, 34];
    const long = [3, 8, 13, 21, 34, 55 % 61, 29, 17, 2];
    const shortRef = reference(ckpt, short);
    const shortLogits = await model.forward(short, linear(short.length));
    short.forEach((_, i) => assertRowClose(shortLogits, i, shortRef[i]!, TOL, `short row ${i}`));
    model.truncate(0);
    const longRef = reference(ckpt, long);
    const longLogits = await model.forward(long, linear(long.length));
    long.forEach((_, i) => assertRowClose(longLogits, i, longRef[i]!, TOL, `long row ${i}`));
    // The tables differ: the same first tokens get other logits once the sequence is long.
    const diff = Math.max(...shortRef[4]!.map((v, i) => Math.abs(v - longRef[4]![i]!)));
    assert.ok(diff > 1e-4, `long factors changed nothing (${diff})`);
  } finally {
    await model.dispose();
  }
});

test('int4: mistral, gemma2, gemma3 and phi3 graphs equal the reference on dequantized weights, past the window', async () => {
  for (const { arch } of families) {
    // hidden 64: the embedding table is quantized too (whole 32-wide blocks), as in real shapes.
    const { dir, ckpt } = await checkpoint({ arch, layers: 2, hidden: 64, heads: 4, kvHeads: 2, intermediate: 48, vocabSize: 50, seed: 41 });
    const prompt = [2, 7, 1, 8, 2, 8, 18, 28, 45];
    const tree = { tokens: [30, 31, 32, 33, 34, 35], parents: [-1, 0, 1, 0, 3, -1] };
    const { model } = await loadModel(dir, { cacheDir, quantization: 'int4', accuracyLevel: 0 });
    try {
      await assertTreeMatchesReference(model, ckpt, dequantizedWeights(ckpt, 4), prompt, tree, 1e-4, `${arch} int4`);
    } finally {
      await model.dispose();
    }
  }
});
