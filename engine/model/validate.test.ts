// Hostile or broken checkpoints: each gets a clear error, fast, before anything is allocated from its values.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { openCheckpoint, readWeight } from './checkpoint';
import { writeSafetensors } from './safetensors';
import { editConfig, rejectsFast as rejectsFastIn, scratchCheckpoints, tempDir } from './testSupport';

const scratch = scratchCheckpoints('validate');
const { cacheDir } = scratch;

const shape = { arch: 'llama', layers: 1, hidden: 16, heads: 2, kvHeads: 1, intermediate: 24, seed: 8, vocabSize: 40 } as const;

const fresh = (): Promise<string> => scratch.fresh(shape);
const rejectsFast = (dir: string, pattern: RegExp): Promise<void> => rejectsFastIn(dir, pattern, cacheDir);

test('validate: config values out of bounds are named before any work sized by them', async () => {
  const cases: [string, (c: Record<string, unknown>) => void, RegExp][] = [
    ['head_dim 1e9', (c) => (c.head_dim = 1e9), /"head_dim" must be an integer in \[1, 1024\]/],
    ['hidden_size 2^20', (c) => (c.hidden_size = 2 ** 20), /"hidden_size" must be an integer/],
    ['vocab_size 1e9', (c) => (c.vocab_size = 1e9), /"vocab_size" must be an integer/],
    ['num_hidden_layers 1e6', (c) => (c.num_hidden_layers = 1e6), /"num_hidden_layers"/],
    ['intermediate_size 1e8', (c) => (c.intermediate_size = 1e8), /"intermediate_size"/],
    ['max_position_embeddings 1e12', (c) => (c.max_position_embeddings = 1e12), /"max_position_embeddings"/],
    ['rope_theta -1', (c) => (c.rope_theta = -1), /"rope_theta" must be a number in \(0/],
    ['rope_theta 0', (c) => (c.rope_theta = 0), /"rope_theta"/],
    ['linear factor 1e9', (c) => (c.rope_scaling = { rope_type: 'linear', factor: 1e9 }), /rope_scaling\.factor/],
    ['llama3 factor -2', (c) => (c.rope_scaling = { rope_type: 'llama3', factor: -2, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 64 }), /rope_scaling/],
  ];
  for (const [what, edit, pattern] of cases) {
    const dir = await fresh();
    editConfig(dir, edit);
    await rejectsFast(dir, pattern).catch((err: Error) => assert.fail(`${what}: ${err.message}`));
  }
});

test('validate: shard paths must stay inside the model folder', async () => {
  const outsideRoot = tempDir('outside');
  scratch.track(outsideRoot);
  for (const [what, name, pattern] of [
    ['../ path', '../stolen.safetensors', /outside the model folder/],
    ['absolute path', path.join(outsideRoot, 'stolen.safetensors'), /outside the model folder/],
    ['symlink out', 'linked.safetensors', /resolves to .* outside the model folder/],
  ] as const) {
    const dir = await fresh();
    const weights = path.join(dir, 'model.safetensors');
    // The shard exists outside: the only thing wrong is where it is.
    fs.copyFileSync(weights, path.join(outsideRoot, 'stolen.safetensors'));
    fs.copyFileSync(weights, path.join(path.dirname(dir), 'stolen.safetensors'));
    scratch.track(path.join(path.dirname(dir), 'stolen.safetensors'));
    if (what === 'symlink out') fs.symlinkSync(path.join(outsideRoot, 'stolen.safetensors'), path.join(dir, name));
    const names = Object.keys(JSON.parse(fs.readFileSync(weights).subarray(8, 8 + Number(fs.readFileSync(weights).readBigUInt64LE(0))).toString()) as object).filter((n) => n !== '__metadata__');
    fs.writeFileSync(path.join(dir, 'model.safetensors.index.json'), JSON.stringify({ weight_map: Object.fromEntries(names.map((n) => [n, name])) }));
    fs.rmSync(weights);
    await rejectsFast(dir, pattern).catch((err: Error) => assert.fail(`${what}: ${err.message}`));
  }
});

/** Runs openCheckpoint in a child process: a blocking read of a FIFO would hang this one, not fail it. */
function openInChild(dir: string): { status: number | null; stderr: string; ms: number } {
  const t0 = performance.now();
  const script = `require('./engine/model/checkpoint').openCheckpoint(${JSON.stringify(dir)})`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { cwd: path.resolve(__dirname, '../..'), timeout: 20_000, encoding: 'utf8' });
  return { status: r.status, stderr: r.stderr, ms: performance.now() - t0 };
}

test('validate: a FIFO named config.json or model.safetensors is refused, not read (no hang)', { timeout: 60_000 }, async () => {
  for (const name of ['config.json', 'model.safetensors']) {
    const dir = await fresh();
    fs.rmSync(path.join(dir, name));
    execFileSync('mkfifo', [path.join(dir, name)]);
    const r = openInChild(dir);
    assert.notEqual(r.status, null, `opening a checkpoint with a FIFO ${name} hung (killed after 20 s)`);
    assert.match(r.stderr, new RegExp(`${name.replace('.', '\\.')} is a FIFO`));
  }
});

test('validate: tensor headers that disagree with the config name the file, the tensor and the expected shape', async () => {
  const dir = await fresh();
  const ckpt = openCheckpoint(dir);
  const rewrite = (edit: (t: { name: string; shape: number[]; data: Float32Array }[]) => void): void => {
    const tensors = [...ckpt.tensors.values()].map((e) => ({ name: e.name, shape: e.shape, data: readWeight(ckpt, e.name, e.shape) }));
    edit(tensors);
    writeSafetensors(path.join(dir, 'model.safetensors'), tensors);
  };
  rewrite((t) => {
    const w = t.find((x) => x.name === 'model.embed_tokens.weight')!;
    w.shape = [16, 40];
  });
  // Checked when the checkpoint is opened, before the graph builder reads (and allocates) any tensor.
  assert.throws(() => openCheckpoint(dir), new RegExp(`${path.join(dir, 'model.safetensors').replace(/[.]/g, '\\.')}: tensor model\\.embed_tokens\\.weight has shape \\[16, 40\\], expected \\[40, 16\\]`));
  rewrite((t) => {
    const w = t.find((x) => x.name === 'model.embed_tokens.weight')!;
    w.shape = [40, 16];
    t.splice(t.findIndex((x) => x.name === 'model.norm.weight'), 1);
  });
  assert.throws(() => openCheckpoint(dir), /missing tensor model\.norm\.weight \(expected shape \[16\]\)/);
});
