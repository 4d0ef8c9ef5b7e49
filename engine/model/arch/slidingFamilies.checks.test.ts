// Lies in a mistral, gemma2, gemma3 or phi3 checkpoint (a tensor's shape or dtype, a config value) get a clear
// error that names the tensor or key and what was expected, quickly and before any large allocation.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { parseConfig } from '../config';
import { openCheckpoint, readWeight } from '../checkpoint';
import { loadModel } from '../index';
import { writeSafetensors } from '../safetensors';
import { tinyConfig } from '../tiny';
import { tempDir, tinyCheckpoint } from '../testSupport';

const cacheDir = tempDir('graphs-checks');
const dirs: string[] = [cacheDir];
after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

const shape = { layers: 2, hidden: 32, heads: 4, kvHeads: 2, intermediate: 40, vocabSize: 61, seed: 3 } as const;

async function rejectsQuickly(promise: Promise<unknown>, pattern: RegExp): Promise<void> {
  const start = Date.now();
  await assert.rejects(promise, pattern);
  assert.ok(Date.now() - start < 2000, `took ${Date.now() - start} ms`);
}

/** Rewrites one tensor with another shape (same data length is not needed: the header is what lies). */
async function withTensorShape(arch: string, name: string, lie: number[]): Promise<string> {
  const { dir } = await tinyCheckpoint({ ...shape, arch });
  dirs.push(dir);
  const ckpt = openCheckpoint(dir);
  const tensors = [...ckpt.tensors.values()].map((e) => ({ name: e.name, shape: e.shape, data: readWeight(ckpt, e.name, e.shape) }));
  const t = tensors.find((x) => x.name === name);
  assert.ok(t, `${arch} has no ${name}`);
  t.shape = lie;
  t.data = new Float32Array(lie.reduce((a, b) => a * b, 1));
  writeSafetensors(path.join(dir, 'model.safetensors'), tensors);
  return dir;
}

const shapeLies: { arch: string; tensor: string; lie: number[]; expected: string }[] = [
  { arch: 'mistral', tensor: 'model.layers.1.self_attn.k_proj.weight', lie: [32, 32], expected: '[16, 32]' },
  { arch: 'gemma2', tensor: 'model.layers.0.pre_feedforward_layernorm.weight', lie: [16], expected: '[32]' },
  { arch: 'gemma3_text', tensor: 'model.layers.1.self_attn.k_norm.weight', lie: [16], expected: '[8]' },
  { arch: 'phi3', tensor: 'model.layers.0.self_attn.qkv_proj.weight', lie: [32, 32], expected: '[64, 32]' },
  { arch: 'phi3', tensor: 'model.layers.1.mlp.gate_up_proj.weight', lie: [40, 32], expected: '[80, 32]' },
];

for (const { arch, tensor, lie, expected } of shapeLies) {
  test(`${arch}: ${tensor} with a wrong shape is named with the expected shape`, async () => {
    const dir = await withTensorShape(arch, tensor, lie);
    const escaped = (s: string): string => s.replace(/[.[\]]/g, (m) => `\\${m}`);
    await rejectsQuickly(loadModel(dir, { cacheDir }), new RegExp(`${escaped(tensor)} has shape \\[${lie.join(', ')}\\], expected ${escaped(expected)}`));
  });
}

test('a tensor stored as integers is refused by name (dtype lie)', async () => {
  for (const [arch, tensor] of [['gemma3_text', 'model.layers.0.self_attn.q_norm.weight'], ['phi3', 'model.layers.0.self_attn.qkv_proj.weight']] as const) {
    const { dir } = await tinyCheckpoint({ ...shape, arch });
    dirs.push(dir);
    // Same byte width, so only the header's dtype lies: F32 -> I32.
    const file = path.join(dir, 'model.safetensors');
    const bytes = fs.readFileSync(file);
    const headerLength = Number(bytes.readBigUInt64LE(0));
    const header = bytes.subarray(8, 8 + headerLength).toString('utf8');
    const at = header.indexOf(`"${tensor}"`);
    assert.ok(at >= 0);
    const dtypeAt = header.indexOf('"F32"', at);
    bytes.write('"I32"', 8 + Buffer.byteLength(header.slice(0, dtypeAt)), 'utf8');
    fs.writeFileSync(file, bytes);
    await rejectsQuickly(loadModel(dir, { cacheDir }), new RegExp(`${tensor.replace(/\./g, '\\.')}: expected a floating-point dtype, got I32`));
  }
});

/** A family's tiny config.json with some keys replaced. */
function configWith(arch: string, edit: Record<string, unknown>): Record<string, unknown> {
  return { ...tinyConfig({ ...shape, arch, out: '' }, 61), ...edit };
}

const configLies: { arch: string; edit: Record<string, unknown>; error: RegExp }[] = [
  { arch: 'mistral', edit: { sliding_window: -4 }, error: /"sliding_window" must be null or a positive integer, got -4/ },
  { arch: 'mistral', edit: { hidden_act: 'gelu' }, error: /unsupported hidden_act "gelu"/ },
  { arch: 'gemma2', edit: { hidden_activation: 'relu' }, error: /unsupported hidden_activation "relu" \(supported: gelu_pytorch_tanh\)/ },
  { arch: 'gemma2', edit: { attn_logit_softcapping: 0 }, error: /"attn_logit_softcapping" must be null or a positive number, got 0/ },
  { arch: 'gemma2', edit: { query_pre_attn_scalar: null }, error: /"query_pre_attn_scalar" must be a positive number/ },
  { arch: 'gemma3_text', edit: { layer_types: ['sliding_attention'] }, error: /"layer_types" must list 2 entries/ },
  { arch: 'gemma3_text', edit: { layer_types: ['sliding_attention', 'local'] }, error: /"layer_types" must list 2 entries, each "sliding_attention" or "full_attention"/ },
  { arch: 'gemma3_text', edit: { sliding_window_pattern: 0 }, error: /"sliding_window_pattern" must be a positive integer, got 0/ },
  { arch: 'gemma3_text', edit: { num_hidden_layers: 1e9 }, error: /"num_hidden_layers" must be an integer in 1\.\.4096, got 1000000000/ },
  { arch: 'phi3', edit: { partial_rotary_factor: 0.4 }, error: /head_dim 8 · partial_rotary_factor 0\.4 = 3 rotary dims, which must be even and positive/ },
  { arch: 'phi3', edit: { partial_rotary_factor: 2 }, error: /"partial_rotary_factor" must be in \(0, 1\], got 2/ },
  { arch: 'phi3', edit: { rope_scaling: { type: 'longrope', short_factor: [1, 1, 1], long_factor: [1, 1, 1] } }, error: /short_factor has 3 entries, expected 2/ },
  { arch: 'phi3', edit: { rope_scaling: { type: 'longrope', short_factor: [1, 1], long_factor: [1, -1] } }, error: /longrope needs "long_factor", a list of positive numbers/ },
  { arch: 'phi3', edit: { rope_scaling: { type: 'su', short_factor: [1, 1], long_factor: [1] } }, error: /differ in length|short_factor has|long_factor/ },
];

for (const { arch, edit, error } of configLies) {
  test(`${arch}: config ${JSON.stringify(edit)} is refused with a clear error`, () => {
    assert.throws(() => parseConfig(configWith(arch, edit), 'm/config.json'), (err: Error) => {
      assert.match(err.message, /^m\/config\.json: /);
      assert.match(err.message, error);
      return true;
    });
  });
}

test('real configs parse: Mistral-7B-v0.1, Gemma-2-2B, Gemma-3-1B, Phi-3-mini-128k', () => {
  const mistral = parseConfig({ architectures: ['MistralForCausalLM'], model_type: 'mistral', hidden_act: 'silu', hidden_size: 4096, intermediate_size: 14336, num_attention_heads: 32, num_key_value_heads: 8, num_hidden_layers: 32, vocab_size: 32000, rope_theta: 10000, sliding_window: 4096, max_position_embeddings: 32768 });
  assert.equal(mistral.slidingWindow, 4096);
  const gemma2 = parseConfig({ architectures: ['Gemma2ForCausalLM'], model_type: 'gemma2', hidden_act: 'gelu_pytorch_tanh', hidden_activation: 'gelu_pytorch_tanh', hidden_size: 2304, intermediate_size: 9216, num_attention_heads: 8, num_key_value_heads: 4, head_dim: 256, num_hidden_layers: 26, vocab_size: 256000, query_pre_attn_scalar: 256, sliding_window: 4096, attn_logit_softcapping: 50, final_logit_softcapping: 30 });
  assert.deepEqual([gemma2.tieWordEmbeddings, gemma2.slidingLayers!.slice(0, 4), gemma2.gemma!.attnLogitSoftcap, gemma2.gemma!.qkNorm], [true, [true, false, true, false], 50, false]);
  const gemma3 = parseConfig({ architectures: ['Gemma3ForCausalLM'], model_type: 'gemma3_text', hidden_activation: 'gelu_pytorch_tanh', hidden_size: 1152, intermediate_size: 6912, num_attention_heads: 4, num_key_value_heads: 1, head_dim: 256, num_hidden_layers: 26, vocab_size: 262144, query_pre_attn_scalar: 256, sliding_window: 512, sliding_window_pattern: 6, rope_theta: 1000000, rope_local_base_freq: 10000, rope_scaling: null, final_logit_softcapping: null, attn_logit_softcapping: null });
  assert.deepEqual(gemma3.slidingLayers!.map((s, i) => (s ? '' : i)).filter((x) => x !== ''), [5, 11, 17, 23]);
  assert.deepEqual([gemma3.gemma!.localRopeTheta, gemma3.ropeTheta, gemma3.gemma!.finalLogitSoftcap, gemma3.tieWordEmbeddings], [10000, 1000000, null, true]);
  // As transformers' Gemma 3 attention, which does not pass attn_logit_softcapping on.
  assert.equal(parseConfig(configWith('gemma3_text', { attn_logit_softcapping: 2 })).gemma!.attnLogitSoftcap, null);
  assert.equal(parseConfig(configWith('gemma2', { attn_logit_softcapping: 2 })).gemma!.attnLogitSoftcap, 2);
  const phi = parseConfig({ architectures: ['Phi3ForCausalLM'], model_type: 'phi3', hidden_act: 'silu', hidden_size: 3072, intermediate_size: 8192, num_attention_heads: 32, num_key_value_heads: 32, num_hidden_layers: 32, vocab_size: 32064, max_position_embeddings: 131072, original_max_position_embeddings: 4096, sliding_window: 262144, rope_scaling: { type: 'longrope', short_factor: Array(48).fill(1), long_factor: Array(48).fill(2) } });
  assert.equal(phi.ropeScaling.type, 'longrope');
  if (phi.ropeScaling.type === 'longrope') assert.ok(Math.abs(phi.ropeScaling.attentionFactor - Math.sqrt(1 + Math.log(32) / Math.log(4096))) < 1e-12);
  assert.equal(phi.rotaryDim, undefined);
});
