// Granite: the graph against the float64 reference (prompt, incremental, trees, greedy), the config multipliers,
// and that each multiplier really changes the reference (so a graph that forgot one would fail above).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { parseConfig } from '../config';
import { checkpointWeights, reference, tinyCheckpoint } from '../testSupport';
import { parityTests } from './parityTestSupport';
import { granite } from './granite';
import type { GraniteMultipliers } from './types';

const base = { arch: 'granite', layers: 2, vocabSize: 73 } as const;

parityTests(base.arch, base.vocabSize, {
  'granite GQA, tied, multipliers: graph equals the reference': { hidden: 32, heads: 4, kvHeads: 2, intermediate: 40, seed: 41 },
  'granite untied, attention bias, MHA': { hidden: 32, heads: 2, kvHeads: 2, intermediate: 24, seed: 42, tieEmbeddings: false, attentionBias: true },
});

test('granite: every multiplier changes the reference logits', async () => {
  const { dir, ckpt } = await tinyCheckpoint({ ...base, hidden: 32, heads: 4, kvHeads: 2, intermediate: 40, seed: 43 });
  try {
    const weights = checkpointWeights(ckpt);
    const tokens = [5, 8, 13, 21];
    const m = ckpt.config.granite!;
    assert.deepEqual(m, { embedding: 12, attention: 0.09, residual: 0.22, logitsScaling: 8 });
    const logits = (g: GraniteMultipliers): Float64Array => reference({ ...ckpt, config: { ...ckpt.config, granite: g } }, tokens, weights).at(-1)!;
    const base = logits(m);
    for (const key of ['embedding', 'attention', 'residual', 'logitsScaling'] as const) {
      const other = logits({ ...m, [key]: m[key] * 1.5 });
      const diff = Math.max(...base.map((v, i) => Math.abs(v - other[i]!)));
      assert.ok(diff > 1e-3, `${key}: changing it moved the logits by only ${diff}`);
    }
    // logits_scaling divides the logits exactly.
    const halved = logits({ ...m, logitsScaling: m.logitsScaling * 2 });
    base.forEach((v, i) => assert.ok(Math.abs(v / 2 - halved[i]!) < 1e-12));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('granite config: multipliers default to 1, must be positive numbers', () => {
  const raw = { architectures: ['GraniteForCausalLM'], model_type: 'granite', hidden_size: 32, num_attention_heads: 4, num_key_value_heads: 2, intermediate_size: 40, num_hidden_layers: 2, vocab_size: 50 };
  assert.deepEqual(parseConfig(raw).granite, { embedding: 1, attention: 1, residual: 1, logitsScaling: 1 });
  const c = parseConfig({ ...raw, embedding_multiplier: 12, attention_multiplier: 0.015625, residual_multiplier: 0.22, logits_scaling: 8, attention_bias: true });
  assert.deepEqual(c.granite, { embedding: 12, attention: 0.015625, residual: 0.22, logitsScaling: 8 });
  assert.equal(c.qkvBias && c.oBias, true);
  assert.equal(c.tieWordEmbeddings, false);
  for (const [key, value] of [['logits_scaling', 0], ['attention_multiplier', -1], ['embedding_multiplier', '12'], ['residual_multiplier', Number.NaN]] as const) {
    assert.throws(() => parseConfig({ ...raw, [key]: value }, 'g/config.json'), new RegExp(`^Error: g/config\\.json: "${key}" must be a positive number`));
  }
  assert.equal(granite.weightSpecs(c).some((s) => s.name.endsWith('q_proj.bias')), true);
});
