// A tied checkpoint's quantized graph holds its [vocab, hidden] matrix once: the embedding lookup
// (GatherBlockQuantized) and the LM head (MatMulNBits) read the same initializer.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { onnx } from 'onnx-proto';
import { loadModel } from './index';
import { MODEL_FILE, WEIGHTS_FILE } from './graphCache';
import { tempDir, tinyCheckpoint } from './testSupport';

const cacheDir = tempDir('graphs-tied');
after(() => fs.rmSync(cacheDir, { recursive: true, force: true }));

/** Bytes of each initializer (external data length or inline raw data), by name. */
function initializerBytes(model: onnx.ModelProto): Map<string, number> {
  const sizes = new Map<string, number>();
  for (const t of model.graph?.initializer ?? []) {
    const length = (t.externalData ?? []).find((e) => e.key === 'length')?.value;
    sizes.set(t.name!, length !== undefined && length !== null ? Number(length) : (t.rawData?.length ?? 0));
  }
  return sizes;
}

for (const quantization of ['int4', 'int8'] as const) {
  test(`${quantization}: a tied checkpoint's graph holds the embedding matrix once; an untied one holds two`, async () => {
    const bits = quantization === 'int4' ? 4 : 8;
    const vocab = 3000;
    const hidden = 64;
    const matrixBytes = (vocab * hidden * bits) / 8;
    const sizes: Record<string, number> = {};
    for (const tie of [true, false]) {
      const { dir } = await tinyCheckpoint({ arch: 'qwen2', layers: 1, hidden, heads: 4, kvHeads: 2, intermediate: 64, seed: 3, vocabSize: vocab, tieEmbeddings: tie });
      const loaded = await loadModel(dir, { cacheDir, quantization, threads: 1 });
      try {
        const model = onnx.ModelProto.decode(fs.readFileSync(path.join(loaded.graphDir, MODEL_FILE)));
        const bytes = initializerBytes(model);
        const matrices = [...bytes].filter(([, n]) => n >= matrixBytes).map(([name]) => name);
        const nodes = model.graph?.node ?? [];
        const lookup = nodes.find((n) => n.opType === 'GatherBlockQuantized');
        const heads = nodes.filter((n) => n.opType === 'MatMulNBits' && (n.attribute ?? []).some((a) => a.name === 'N' && Number(a.i) === vocab));
        assert.ok(lookup?.input, 'the embedding lookup is quantized');
        assert.equal(heads.length, 1, 'one quantized LM head');
        if (tie) {
          assert.deepEqual(matrices, ['model.embed_tokens.qweight'], `vocabulary-sized initializers: ${matrices}`);
          assert.equal(lookup.input[0], heads[0]!.input?.[1], 'the lookup and the head read the same initializer');
        } else {
          assert.equal(matrices.length, 2, `vocabulary-sized initializers: ${matrices}`);
          assert.notEqual(lookup.input[0], heads[0]!.input?.[1]);
        }
        sizes[tie ? 'tied' : 'untied'] = fs.statSync(path.join(loaded.graphDir, WEIGHTS_FILE)).size;
        // The shared copy still gives the right lookups: the logits of a short prompt are finite and distinct.
        const logits = await loaded.model.forward([1, 2, 3], [-1, 0, 1]);
        assert.ok(logits.every(Number.isFinite));
      } finally {
        await loaded.model.dispose();
        fs.rmSync(dir, { recursive: true, force: true });
      }
    }
    assert.ok(sizes.untied! - sizes.tied! >= matrixBytes * 0.95, `weights.bin: tied ${sizes.tied} bytes, untied ${sizes.untied}`);
  });
}
