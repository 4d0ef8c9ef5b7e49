// The base graph's optional hidden_states output: the final-norm hidden state of the requested rows, consistent
// with the logits (logits = hidden · Wᵀ of the tied head), and logits unchanged by turning it on.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { loadModel } from '../index';
import { readWeight } from '../checkpoint';
import { tempDir, tinyCheckpoint } from '../testSupport';

const cacheDir = tempDir('graphs-hidden');
after(() => fs.rmSync(cacheDir, { recursive: true, force: true }));

test('hidden_states: rows match logitRows, project onto the logits, and leave the logits as they were', async () => {
  const vocab = 61;
  const hidden = 32;
  const { dir, ckpt } = await tinyCheckpoint({ arch: 'llama', layers: 2, hidden, heads: 4, kvHeads: 2, intermediate: 64, seed: 21, vocabSize: vocab, tieEmbeddings: true });
  const plain = await loadModel(dir, { cacheDir, threads: 1 });
  const withHidden = await loadModel(dir, { cacheDir, threads: 1, hiddenStates: true });
  assert.notEqual(plain.graphDir, withHidden.graphDir, 'the option is part of the graph cache key');
  const table = readWeight(ckpt, 'model.embed_tokens.weight', [vocab, hidden]);
  try {
    const tokens = [5, 9, 13, 2, 40, 7];
    const parents = [-1, 0, 1, 1, 3, -1];
    const rows = [4, 0, 2];
    const a = await plain.model.forward(tokens, parents, { logitRows: rows });
    assert.equal(plain.model.lastHiddenStates?.(), undefined);
    const b = await withHidden.model.forward(tokens, parents, { logitRows: rows });
    assert.deepEqual(Array.from(b), Array.from(a));
    const h = withHidden.model.lastHiddenStates?.();
    assert.ok(h, 'hidden states present');
    assert.equal(h.length, rows.length * hidden);
    for (let r = 0; r < rows.length; r++) {
      for (let v = 0; v < vocab; v++) {
        let dot = 0;
        for (let k = 0; k < hidden; k++) dot += h[r * hidden + k]! * table[v * hidden + k]!;
        assert.ok(Math.abs(dot - b[r * vocab + v]!) < 1e-4, `row ${r} token ${v}: ${dot} vs ${b[r * vocab + v]}`);
      }
    }
    // another forward replaces them
    await withHidden.model.forward([3], [-1]);
    assert.equal(withHidden.model.lastHiddenStates?.()!.length, hidden);
  } finally {
    await plain.model.dispose();
    await withHidden.model.dispose();
  }
});
