// qwen3, starcoder2 and granite checkpoints that lie (a tensor of the wrong shape or dtype, a missing family
// tensor, a config value out of range): each load fails with an error naming the file, the tensor and the expected
// shape, within 2 s and without allocating anything sized by the lie.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { editConfig, rejectsFast as rejectsFastIn, scratchCheckpoints } from '../testSupport';

const scratch = scratchCheckpoints('arch-validate');

const shapes = {
  qwen3: { arch: 'qwen3', layers: 2, hidden: 32, heads: 4, kvHeads: 2, intermediate: 40, seed: 51, vocabSize: 50 },
  starcoder2: { arch: 'starcoder2', layers: 2, hidden: 32, heads: 4, kvHeads: 2, intermediate: 64, seed: 52, vocabSize: 50 },
  granite: { arch: 'granite', layers: 2, hidden: 32, heads: 4, kvHeads: 2, intermediate: 40, seed: 53, vocabSize: 50 },
} as const;

const fresh = (arch: keyof typeof shapes): Promise<string> => scratch.fresh(shapes[arch]);

/** Rewrites one tensor's header entry in place (same header length), e.g. its dtype or its shape. */
function editTensorHeader(dir: string, tensor: string, edit: (entry: { dtype: string; shape: number[] }) => void): void {
  const file = path.join(dir, 'model.safetensors');
  const bytes = fs.readFileSync(file);
  const len = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + len).toString('utf8')) as Record<string, { dtype: string; shape: number[] }>;
  assert.ok(header[tensor], `${tensor} not in the checkpoint`);
  edit(header[tensor]);
  const text = JSON.stringify(header);
  assert.ok(text.length <= len, 'the edited header must fit in the old one');
  bytes.write(text.padEnd(len, ' '), 8, 'utf8');
  fs.writeFileSync(file, bytes);
}

/** Drops a tensor from the checkpoint by renaming it in the header (a name the architecture does not read). */
function renameTensor(dir: string, tensor: string): void {
  const file = path.join(dir, 'model.safetensors');
  const bytes = fs.readFileSync(file);
  const len = Number(bytes.readBigUInt64LE(0));
  const text = bytes.subarray(8, 8 + len).toString('utf8');
  const renamed = text.replace(`"${tensor}"`, `"${tensor.replace(/[a-z]$/, 'x')}"`);
  assert.notEqual(renamed, text);
  bytes.write(renamed, 8, 'utf8');
  fs.writeFileSync(file, bytes);
}

const rejectsFast = (dir: string, pattern: RegExp): Promise<void> => rejectsFastIn(dir, pattern, scratch.cacheDir, 256 * 2 ** 20);

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

test('qwen3: a q_norm of the wrong size, a missing k_norm, an integer dtype and a lying head_dim are named', async () => {
  let dir = await fresh('qwen3');
  editTensorHeader(dir, 'model.layers.1.self_attn.q_norm.weight', (e) => (e.shape = [8, 2]));
  await rejectsFast(dir, new RegExp(`${escape(path.join(dir, 'model.safetensors'))}: tensor model\\.layers\\.1\\.self_attn\\.q_norm\\.weight has shape \\[8, 2\\], expected \\[16\\]`));

  dir = await fresh('qwen3');
  renameTensor(dir, 'model.layers.0.self_attn.k_norm.weight');
  await rejectsFast(dir, /missing tensor model\.layers\.0\.self_attn\.k_norm\.weight \(expected shape \[16\]\)/);

  dir = await fresh('qwen3');
  editTensorHeader(dir, 'model.layers.0.self_attn.k_norm.weight', (e) => (e.dtype = 'I32'));
  await rejectsFast(dir, /tensor model\.layers\.0\.self_attn\.k_norm\.weight: expected a floating-point dtype, got I32/);

  // head_dim 8 instead of 16: every q/k/v/o projection and q/k norm disagrees; the first is named.
  dir = await fresh('qwen3');
  editConfig(dir, (c) => (c.head_dim = 8));
  await rejectsFast(dir, /tensor model\.layers\.0\.self_attn\.q_proj\.weight has shape \[64, 32\], expected \[32, 32\]/);

  dir = await fresh('qwen3');
  editConfig(dir, (c) => (c.head_dim = 1e9));
  await rejectsFast(dir, /"head_dim" must be an integer in \[1, 1024\]/);
});

test('starcoder2: a missing LayerNorm bias, a c_fc of the wrong shape and bad config values are named', async () => {
  let dir = await fresh('starcoder2');
  renameTensor(dir, 'model.layers.1.post_attention_layernorm.bias');
  await rejectsFast(dir, /missing tensor model\.layers\.1\.post_attention_layernorm\.bias \(expected shape \[32\]\)/);

  dir = await fresh('starcoder2');
  editTensorHeader(dir, 'model.layers.0.mlp.c_fc.weight', (e) => (e.shape = [32, 64]));
  await rejectsFast(dir, /tensor model\.layers\.0\.mlp\.c_fc\.weight has shape \[32, 64\], expected \[64, 32\]/);

  // use_bias false while the file has biases is fine (they are ignored); use_bias true without them is not.
  dir = await fresh('starcoder2');
  renameTensor(dir, 'model.layers.0.self_attn.o_proj.bias');
  await rejectsFast(dir, /missing tensor model\.layers\.0\.self_attn\.o_proj\.bias \(expected shape \[32\]\)/);

  for (const [edit, pattern] of [
    [(c: Record<string, unknown>) => (c.norm_epsilon = 0), /"norm_epsilon" must be a number in \(0, 1\), got 0/],
    [(c: Record<string, unknown>) => (c.hidden_act = 'relu'), /unsupported hidden_act "relu" for starcoder2/],
    [(c: Record<string, unknown>) => (c.intermediate_size = 1e9), /"intermediate_size" must be an integer/],
  ] as const) {
    dir = await fresh('starcoder2');
    editConfig(dir, edit);
    await rejectsFast(dir, pattern);
  }
});

test('granite: a lm_head that is absent when untied, a wrong embedding shape and bad multipliers are named', async () => {
  let dir = await fresh('granite');
  editConfig(dir, (c) => (c.tie_word_embeddings = false));
  await rejectsFast(dir, /missing tensor lm_head\.weight \(expected shape \[50, 32\]\)/);

  dir = await fresh('granite');
  editTensorHeader(dir, 'model.embed_tokens.weight', (e) => (e.shape = [25, 64]));
  await rejectsFast(dir, /tensor model\.embed_tokens\.weight has shape \[25, 64\], expected \[50, 32\]/);

  for (const [key, value] of [['logits_scaling', 0], ['attention_multiplier', -0.5], ['residual_multiplier', 'big'], ['embedding_multiplier', [12]]] as const) {
    dir = await fresh('granite');
    editConfig(dir, (c) => (c[key] = value));
    await rejectsFast(dir, new RegExp(`config\\.json: "${key}" must be a positive number`));
  }
});
