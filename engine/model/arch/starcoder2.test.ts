// StarCoder2: the graph against the float64 reference (prompt, incremental, trees, greedy), its tensor layout
// (LayerNorm weight + bias, c_fc / c_proj, biases from use_bias) and its config defaults.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { parseConfig } from '../config';
import { tinyCheckpoint } from '../testSupport';
import { parityTests } from './parityTestSupport';

const base = { arch: 'starcoder2', layers: 2, vocabSize: 71 } as const;

parityTests(base.arch, base.vocabSize, {
  'starcoder2 GQA, biases, tied: graph equals the reference': { hidden: 32, heads: 4, kvHeads: 2, intermediate: 64, seed: 31 },
  'starcoder2 without bias (use_bias false), untied, kv=1': { hidden: 24, heads: 4, kvHeads: 1, intermediate: 48, seed: 32, attentionBias: false, tieEmbeddings: false },
  'starcoder2 with a sliding window of 4: contexts and trees past the window equal the windowed reference': { hidden: 32, heads: 4, kvHeads: 2, intermediate: 64, seed: 34, slidingWindow: 4 },
});

test('starcoder2 tensors: LayerNorm weight and bias, c_fc / c_proj, biases everywhere but the head', async () => {
  const { dir, ckpt } = await tinyCheckpoint({ ...base, hidden: 32, heads: 4, kvHeads: 2, intermediate: 64, seed: 33 });
  try {
    const shape = (name: string): number[] | undefined => ckpt.tensors.get(name)?.shape;
    assert.deepEqual(shape('model.layers.0.input_layernorm.bias'), [32]);
    assert.deepEqual(shape('model.layers.1.post_attention_layernorm.weight'), [32]);
    assert.deepEqual(shape('model.norm.bias'), [32]);
    assert.deepEqual(shape('model.layers.0.mlp.c_fc.weight'), [64, 32]);
    assert.deepEqual(shape('model.layers.0.mlp.c_fc.bias'), [64]);
    assert.deepEqual(shape('model.layers.0.mlp.c_proj.weight'), [32, 64]);
    assert.deepEqual(shape('model.layers.0.mlp.c_proj.bias'), [32]);
    assert.deepEqual(shape('model.layers.0.self_attn.k_proj.bias'), [16]);
    assert.deepEqual(shape('model.layers.0.self_attn.o_proj.bias'), [32]);
    assert.equal(shape('lm_head.weight'), undefined, 'tied by default');
    assert.equal(shape('model.layers.0.mlp.gate_proj.weight'), undefined);
    const raw = JSON.parse(fs.readFileSync(`${dir}/config.json`, 'utf8')) as Record<string, unknown>;
    assert.equal(raw.norm_epsilon, 1e-5);
    assert.equal(raw.rms_norm_eps, undefined, 'a StarCoder2 config names its epsilon norm_epsilon only');
    assert.equal(raw.hidden_act, 'gelu_pytorch_tanh');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('starcoder2 config: norm_epsilon, tied by default, use_bias, activation', () => {
  const raw = { architectures: ['Starcoder2ForCausalLM'], model_type: 'starcoder2', hidden_size: 32, num_attention_heads: 4, num_key_value_heads: 2, intermediate_size: 64, num_hidden_layers: 2, vocab_size: 50 };
  const c = parseConfig({ ...raw, norm_epsilon: 3e-5 });
  assert.equal(c.rmsNormEps, 3e-5);
  assert.equal(c.tieWordEmbeddings, true, "Starcoder2Config's tie_word_embeddings default is true");
  assert.equal(parseConfig({ ...raw, tie_word_embeddings: false }).tieWordEmbeddings, false);
  assert.equal(parseConfig(raw).rmsNormEps, 1e-5);
  assert.deepEqual([c.qkvBias, c.oBias, c.mlpBias], [true, true, true]);
  const noBias = parseConfig({ ...raw, use_bias: false });
  assert.deepEqual([noBias.qkvBias, noBias.oBias, noBias.mlpBias], [false, false, false]);
  assert.throws(() => parseConfig({ ...raw, hidden_act: 'gelu' }, 's/config.json'), /^Error: s\/config\.json: unsupported hidden_act "gelu" for starcoder2/);
  assert.throws(() => parseConfig({ ...raw, norm_epsilon: -1 }, 's/config.json'), /"norm_epsilon" must be a number in \(0, 1\), got -1/);
  assert.throws(() => parseConfig({ ...raw, use_bias: 'yes' }, 's/config.json'), /"use_bias" must be true or false/);
  assert.equal(parseConfig({ ...raw, sliding_window: 4096 }).slidingWindow, 4096);
  assert.equal(parseConfig({ ...raw, sliding_window: null }).slidingWindow, undefined);
  assert.throws(() => parseConfig({ ...raw, sliding_window: -3 }), /"sliding_window" must be null or a positive integer/);
});
