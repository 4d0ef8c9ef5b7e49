// Every registered architecture passes the same contract: its config round-trips through the registry, a random
// checkpoint of it holds exactly its tensors, and its ONNX graph agrees with its own float64 reference on a tree.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { parseConfig } from '../config';
import { loadModel } from '../index';
import { tempDir, tinyCheckpoint, reference, assertRowClose } from '../testSupport';
import { architectureByModelType, architectureOf, findArchitecture, SUPPORTED_ARCHITECTURES, SUPPORTED_MODEL_TYPES } from './index';

const cacheDir = tempDir('graphs-arch');
after(() => fs.rmSync(cacheDir, { recursive: true, force: true }));

test('an unknown architecture is refused with the registered names', () => {
  const raw = { architectures: ['GPTNeoXForCausalLM'], hidden_size: 8, num_attention_heads: 2, intermediate_size: 8, num_hidden_layers: 1, vocab_size: 10 };
  assert.throws(() => parseConfig(raw, 'x/config.json'), (err: Error) => {
    assert.match(err.message, /^x\/config\.json: unsupported architecture "GPTNeoXForCausalLM"; supported: /);
    for (const name of SUPPORTED_ARCHITECTURES) assert.ok(err.message.includes(name), `${name} missing from: ${err.message}`);
    return true;
  });
  assert.throws(() => architectureOf({ architecture: 'Nope' }), { message: `unsupported architecture "Nope"; supported: ${SUPPORTED_ARCHITECTURES.join(', ')}` });
  assert.throws(() => architectureByModelType('gpt2'), { message: `make-tiny-model: --arch must be one of ${SUPPORTED_MODEL_TYPES.join(', ')}, got "gpt2"` });
  assert.ok(SUPPORTED_ARCHITECTURES.includes('LlamaForCausalLM') && SUPPORTED_ARCHITECTURES.includes('Qwen2ForCausalLM'));
  assert.equal(findArchitecture(undefined, 'qwen2')?.name, 'Qwen2ForCausalLM');
  assert.equal(findArchitecture('Qwen2ForCausalLM', 'llama')?.name, 'Qwen2ForCausalLM', 'architectures[0] wins over model_type');
});

for (const modelType of SUPPORTED_MODEL_TYPES) {
  test(`${modelType}: registry contract (tensors, config, graph against its own reference on a tree)`, async () => {
    const arch = architectureByModelType(modelType);
    const { dir, ckpt } = await tinyCheckpoint({ arch: modelType, layers: 2, hidden: 32, heads: 4, kvHeads: 2, intermediate: 40, seed: 17, vocabSize: 61 });
    try {
      assert.equal(ckpt.config.architecture, arch.name);
      assert.equal(ckpt.config.modelType, modelType);
      // Exactly the declared tensors, with the declared shapes.
      const specs = arch.weightSpecs(ckpt.config);
      assert.deepEqual([...ckpt.tensors.keys()].sort(), specs.map((s) => s.name).sort());
      for (const s of specs) assert.deepEqual(ckpt.tensors.get(s.name)!.shape, s.shape, s.name);
      // A context of 3 tokens, then a tree whose two branches share their first node.
      const { model } = await loadModel(dir, { cacheDir });
      try {
        const prompt = [5, 17, 3];
        await model.forward(prompt, [-1, 0, 1]);
        model.commit([0, 1, 2]);
        const tree = [9, 30, 2, 44];
        const parents = [-1, 0, 0, 2];
        const logits = await model.forward(tree, parents);
        const paths = [[9], [9, 30], [9, 2], [9, 2, 44]];
        paths.forEach((path, node) => {
          const ref = reference(ckpt, [...prompt, ...path]);
          assertRowClose(logits, node, ref[ref.length - 1]!, 1e-4, `${modelType} node ${node}`);
        });
      } finally {
        await model.dispose();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
}
