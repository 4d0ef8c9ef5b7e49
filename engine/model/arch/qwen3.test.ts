// Qwen3: the graph against the float64 reference (prompt, incremental, trees, greedy), its config rules, and
// that the per-head q/k norms really take part.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { parseConfig } from '../config';
import { checkpointWeights, reference, tinyCheckpoint } from '../testSupport';
import { parityTests } from './parityTestSupport';

const base = { arch: 'qwen3', layers: 2, vocabSize: 67 } as const;

parityTests(base.arch, base.vocabSize, {
  'qwen3 GQA, head_dim 16 with hidden 32 / 4 heads, tied: graph equals the reference': { hidden: 32, heads: 4, kvHeads: 2, intermediate: 40, seed: 21 },
  'qwen3 untied, attention bias, kv=1, head_dim smaller than hidden / heads': { hidden: 48, heads: 4, kvHeads: 1, headDim: 8, intermediate: 36, seed: 22, tieEmbeddings: false, attentionBias: true },
});

test('qwen3 tensors: q_norm / k_norm of [head_dim] per layer, and they change the logits', async () => {
  const { dir, ckpt } = await tinyCheckpoint({ ...base, hidden: 32, heads: 4, kvHeads: 2, intermediate: 40, seed: 23 });
  try {
    assert.equal(ckpt.config.headDim, 16);
    assert.deepEqual(ckpt.tensors.get('model.layers.1.self_attn.q_norm.weight')!.shape, [16]);
    assert.deepEqual(ckpt.tensors.get('model.layers.1.self_attn.k_norm.weight')!.shape, [16]);
    assert.deepEqual(ckpt.tensors.get('model.layers.0.self_attn.q_proj.weight')!.shape, [64, 32]);
    assert.equal(ckpt.tensors.has('model.layers.0.self_attn.q_proj.bias'), false);
    // Doubling a q_norm weight must move the reference's logits (the oracle does read it).
    const weights = checkpointWeights(ckpt);
    const tokens = [3, 7, 11, 2];
    const before = reference(ckpt, tokens, weights).at(-1)!;
    weights('model.layers.0.self_attn.k_norm.weight').forEach((v, i, a) => (a[i] = v * 2));
    const after = reference(ckpt, tokens, weights).at(-1)!;
    assert.ok(before.some((v, i) => Math.abs(v - after[i]!) > 1e-3), 'k_norm weight has no effect on the reference');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('qwen3 config: head_dim required, sliding window refused, bias from attention_bias', () => {
  const raw = { architectures: ['Qwen3ForCausalLM'], model_type: 'qwen3', hidden_size: 32, num_attention_heads: 4, num_key_value_heads: 2, intermediate_size: 40, num_hidden_layers: 2, vocab_size: 50 };
  assert.throws(() => parseConfig(raw, 'q/config.json'), /^Error: q\/config\.json: qwen3 needs "head_dim"/);
  assert.throws(() => parseConfig({ ...raw, head_dim: 16, use_sliding_window: true }, 'q/config.json'), /use_sliding_window is not supported/);
  const c = parseConfig({ ...raw, head_dim: 16 });
  assert.equal(c.headDim, 16);
  assert.equal(c.qkvBias, false);
  assert.equal(c.tieWordEmbeddings, false, "Qwen3Config's tie_word_embeddings default is false");
  assert.equal(parseConfig({ ...raw, head_dim: 16, attention_bias: true }).oBias, true);
  assert.throws(() => parseConfig({ ...raw, head_dim: 16, hidden_act: 'gelu' }), /unsupported hidden_act "gelu"/);
});
