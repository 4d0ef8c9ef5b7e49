// The released config.json of Qwen3-0.6B, StarCoder2-3B and Granite-3.1-2B parse into the expected shapes, and the
// tensors their modules declare add up to the parameter counts the hub reports (596,049,920 for Qwen3-0.6B;
// 3.03 B and 2.53 B for the others), so every declared tensor has the real model's shape.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../config';
import { parameterCount, weightSpecs } from '../weights';

const qwen3_0_6b = {
  architectures: ['Qwen3ForCausalLM'], attention_bias: false, attention_dropout: 0.0, bos_token_id: 151643, eos_token_id: 151645, head_dim: 128,
  hidden_act: 'silu', hidden_size: 1024, initializer_range: 0.02, intermediate_size: 3072, max_position_embeddings: 40960, max_window_layers: 28,
  model_type: 'qwen3', num_attention_heads: 16, num_hidden_layers: 28, num_key_value_heads: 8, rms_norm_eps: 1e-6, rope_scaling: null,
  rope_theta: 1000000, sliding_window: null, tie_word_embeddings: true, torch_dtype: 'bfloat16', use_cache: true, use_sliding_window: false, vocab_size: 151936,
};
const starcoder2_3b = {
  architectures: ['Starcoder2ForCausalLM'], attention_dropout: 0.1, residual_dropout: 0.1, embedding_dropout: 0.1, bos_token_id: 0, eos_token_id: 0,
  hidden_act: 'gelu_pytorch_tanh', hidden_size: 3072, initializer_range: 0.018042, intermediate_size: 12288, max_position_embeddings: 16384,
  mlp_type: 'default', model_type: 'starcoder2', norm_epsilon: 1e-5, norm_type: 'layer_norm', num_attention_heads: 24, num_hidden_layers: 30,
  num_key_value_heads: 2, rope_theta: 999999.4420358813, sliding_window: 4096, torch_dtype: 'bfloat16', use_bias: true, use_cache: true, vocab_size: 49152,
};
const granite_3_1_2b = {
  architectures: ['GraniteForCausalLM'], attention_bias: false, attention_dropout: 0.1, attention_multiplier: 0.015625, bos_token_id: 0, embedding_multiplier: 12.0,
  eos_token_id: 0, hidden_act: 'silu', hidden_size: 2048, initializer_range: 0.02, intermediate_size: 8192, logits_scaling: 8.0, max_position_embeddings: 131072,
  mlp_bias: false, model_type: 'granite', num_attention_heads: 32, num_hidden_layers: 40, num_key_value_heads: 8, pad_token_id: 0, residual_multiplier: 0.22,
  rms_norm_eps: 1e-5, rope_scaling: null, rope_theta: 5000000.0, tie_word_embeddings: true, torch_dtype: 'bfloat16', use_cache: true, vocab_size: 49155,
};

test('Qwen3-0.6B: head_dim 128 (not 1024 / 16), q/k norms, tied, 596,049,920 parameters', () => {
  const c = parseConfig(qwen3_0_6b);
  assert.deepEqual([c.headDim, c.numHeads, c.numKvHeads, c.tieWordEmbeddings, c.qkvBias, c.slidingWindow], [128, 16, 8, true, false, undefined]);
  assert.equal(parameterCount(c), 596_049_920);
  const specs = new Map(weightSpecs(c).map((s) => [s.name, s.shape]));
  assert.deepEqual(specs.get('model.layers.27.self_attn.q_proj.weight'), [2048, 1024]);
  assert.deepEqual(specs.get('model.layers.27.self_attn.k_norm.weight'), [128]);
});

test('StarCoder2-3B: LayerNorm eps from norm_epsilon, biases, window 4096, tied by default, 3.03 B parameters', () => {
  const c = parseConfig(starcoder2_3b);
  assert.deepEqual([c.headDim, c.rmsNormEps, c.slidingWindow, c.tieWordEmbeddings, c.mlpBias], [128, 1e-5, 4096, true, true]);
  assert.equal(Math.round(parameterCount(c) / 1e7) / 100, 3.03);
  const specs = new Map(weightSpecs(c).map((s) => [s.name, s.shape]));
  assert.deepEqual(specs.get('model.layers.29.mlp.c_fc.bias'), [12288]);
  assert.deepEqual(specs.get('model.layers.0.self_attn.k_proj.weight'), [256, 3072]);
  assert.deepEqual(specs.get('model.norm.bias'), [3072]);
});

test('Granite-3.1-2B: the four multipliers, tied, 2.53 B parameters', () => {
  const c = parseConfig(granite_3_1_2b);
  assert.deepEqual(c.granite, { embedding: 12, attention: 0.015625, residual: 0.22, logitsScaling: 8 });
  assert.deepEqual([c.headDim, c.tieWordEmbeddings, c.ropeTheta], [64, true, 5_000_000]);
  assert.equal(Math.round(parameterCount(c) / 1e7) / 100, 2.53);
});
