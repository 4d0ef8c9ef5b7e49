// Bad input gets a clear error, never a crash: broken checkpoints, configs, graph caches and call sequences.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { openCheckpoint, readWeight } from './checkpoint';
import { loadModel } from './index';
import { writeSafetensors } from './safetensors';
import { reference, assertRowClose, editConfig, scratchCheckpoints } from './testSupport';

const scratch = scratchCheckpoints('err');
const { cacheDir } = scratch;

const shape = { arch: 'llama', layers: 1, hidden: 16, heads: 2, kvHeads: 1, intermediate: 24, seed: 5, vocabSize: 40 } as const;

const fresh = (): Promise<string> => scratch.fresh(shape);

/** Rewrites model.safetensors after editing its tensor list. */
function rewriteTensors(dir: string, edit: (tensors: { name: string; shape: number[]; data: Float32Array }[]) => void): void {
  const ckpt = openCheckpoint(dir);
  const tensors = [...ckpt.tensors.values()].map((e) => ({ name: e.name, shape: e.shape, data: readWeight(ckpt, e.name, e.shape) }));
  edit(tensors);
  writeSafetensors(path.join(dir, 'model.safetensors'), tensors);
}

test('a missing tensor is named', async () => {
  const dir = await fresh();
  rewriteTensors(dir, (t) => t.splice(t.findIndex((x) => x.name === 'model.layers.0.mlp.up_proj.weight'), 1));
  await assert.rejects(loadModel(dir, { cacheDir }), /missing tensor model\.layers\.0\.mlp\.up_proj\.weight/);
});

test('a tensor of the wrong shape is named with both shapes', async () => {
  const dir = await fresh();
  rewriteTensors(dir, (t) => {
    const w = t.find((x) => x.name === 'model.layers.0.self_attn.q_proj.weight')!;
    w.shape = [8, 32];
  });
  await assert.rejects(loadModel(dir, { cacheDir }), /q_proj\.weight has shape \[8, 32\], expected \[16, 16\]/);
});

test('a truncated safetensors file is reported as truncated', async () => {
  const dir = await fresh();
  const file = path.join(dir, 'model.safetensors');
  fs.truncateSync(file, fs.statSync(file).size - 100);
  await assert.rejects(loadModel(dir, { cacheDir }), /truncated/);
  fs.truncateSync(file, 5);
  await assert.rejects(loadModel(dir, { cacheDir }), /too short/);
});

test('an unknown architecture names the supported ones', async () => {
  const dir = await fresh();
  editConfig(dir, (c) => {
    c.architectures = ['GPT2LMHeadModel'];
    c.model_type = 'gpt2';
  });
  await assert.rejects(loadModel(dir, { cacheDir }), /unsupported architecture "GPT2LMHeadModel"; supported: LlamaForCausalLM, Qwen2ForCausalLM/);
});

test('a config without needed keys says which key', async () => {
  const dir = await fresh();
  editConfig(dir, (c) => delete c.num_hidden_layers);
  await assert.rejects(loadModel(dir, { cacheDir }), /missing required key "num_hidden_layers"/);
  editConfig(dir, (c) => {
    c.num_hidden_layers = 1;
    c.rope_scaling = { type: 'yarn', factor: 2 };
  });
  await assert.rejects(loadModel(dir, { cacheDir }), /unsupported rope_scaling type "yarn"/);
  fs.writeFileSync(path.join(dir, 'config.json'), '{ not json');
  await assert.rejects(loadModel(dir, { cacheDir }), /config\.json is not valid JSON/);
});

test('a corrupt graph cache is detected, reported and rebuilt', async () => {
  const dir = await fresh();
  const ckpt = openCheckpoint(dir);
  const prompt = [3, 1, 4, 1, 5];
  const first = await loadModel(dir, { cacheDir });
  await first.model.dispose();
  for (const [file, damage] of [
    ['weights.bin', (f: string) => {
      const fd = fs.openSync(f, 'r+');
      fs.writeSync(fd, Buffer.alloc(64, 0xff), 0, 64, 4096);
      fs.closeSync(fd);
    }],
    ['model.onnx', (f: string) => fs.truncateSync(f, 100)],
    ['manifest.json', (f: string) => fs.writeFileSync(f, '{')],
  ] as const) {
    damage(path.join(first.graphDir, file));
    const warnings: string[] = [];
    const again = await loadModel(dir, { cacheDir, onWarning: (m) => warnings.push(m) });
    try {
      assert.equal(again.graphDir, first.graphDir);
      assert.ok(warnings.some((w) => /corrupt/.test(w) && w.includes(first.graphDir)), `no corrupt-cache warning after damaging ${file}: ${warnings.join(' | ')}`);
      const logits = await again.model.forward(prompt, [-1, 0, 1, 2, 3]);
      const ref = reference(ckpt, prompt);
      assertRowClose(logits, 4, ref[4]!, 1e-4, `after rebuilding ${file}`);
    } finally {
      await again.model.dispose();
    }
  }
});

test('bad forward and commit calls get clear errors and leave the model usable', async () => {
  const dir = await fresh();
  const { model } = await loadModel(dir, { cacheDir });
  try {
    await assert.rejects(model.forward([1, 2], [-1]), /2 tokens but 1 parents/);
    await assert.rejects(model.forward([1, 2], [-1, 1]), /parents\[1\] = 1 must be -1 or an earlier node index/);
    await assert.rejects(model.forward([1, 99], [-1, 0]), /token 99 at node 1 is outside the vocabulary/);
    await assert.rejects(model.forward([], []), /no tokens/);
    assert.throws(() => model.commit([0]), /no forward pass/);
    await model.forward([1, 2, 3], [-1, 0, 0]);
    assert.throws(() => model.commit([1, 2]), /not a root path/);
    assert.throws(() => model.truncate(5), /not within the committed context/);
    model.commit([0, 2]);
    assert.equal(model.contextLength, 2);
    const pending = model.forward([4], [-1]);
    await assert.rejects(model.forward([5], [-1]), /another forward on this model is still running/);
    await pending;
    model.commit([0]);
    assert.equal(model.contextLength, 3);
  } finally {
    await model.dispose();
  }
  await assert.rejects(loadModel(path.join(dir, 'nope'), { cacheDir }), /checkpoint folder not found/);
});

test('asking for CUDA where it cannot load falls back to CPU with a warning', async () => {
  const dir = await fresh();
  const warnings: string[] = [];
  const { model, info } = await loadModel(dir, { cacheDir, device: 'cuda', onWarning: (m) => warnings.push(m) });
  try {
    if (info.device === 'cuda') return; // a machine with a working CUDA provider
    assert.equal(info.device, 'cpu');
    assert.ok(warnings.some((w) => /CUDA/.test(w) && /CPU/.test(w)), warnings.join(' | '));
  } finally {
    await model.dispose();
  }
});

test('a sharded checkpoint (model.safetensors.index.json) loads like the single file, and a missing shard is named', async () => {
  const dir = await fresh();
  const ckpt = openCheckpoint(dir);
  const entries = [...ckpt.tensors.values()];
  const half = Math.ceil(entries.length / 2);
  const shards = [entries.slice(0, half), entries.slice(half)];
  const weightMap: Record<string, string> = {};
  shards.forEach((list, i) => {
    const file = `model-0000${i + 1}-of-00002.safetensors`;
    writeSafetensors(path.join(dir, file), list.map((e) => ({ name: e.name, shape: e.shape, data: readWeight(ckpt, e.name, e.shape) })));
    for (const e of list) weightMap[e.name] = file;
  });
  fs.rmSync(path.join(dir, 'model.safetensors'));
  fs.writeFileSync(path.join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: weightMap }));
  const { model } = await loadModel(dir, { cacheDir });
  try {
    const logits = await model.forward([3, 1, 4], [-1, 0, 1]);
    const sharded = openCheckpoint(dir);
    assert.equal(sharded.files.length, 2);
    assertRowClose(logits, 2, reference(sharded, [3, 1, 4])[2]!, 1e-4, 'sharded');
  } finally {
    await model.dispose();
  }
  fs.rmSync(path.join(dir, 'model-00002-of-00002.safetensors'));
  await assert.rejects(loadModel(dir, { cacheDir }), /names shard model-00002-of-00002\.safetensors, which is missing/);
});
