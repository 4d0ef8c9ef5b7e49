// The WebGPU provider on tiny models: it must agree with the CPU provider. CI has no GPU and runs this through
// Mesa's lavapipe (a Vulkan driver on the CPU, Mesa >= 24); without any adapter the tests skip and say why.
import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { generateWith } from '../cli/generate';
import { openModelHost } from '../server/host';
import { sharedPath } from '../sharedPaths';
import type { DeviceKvCache } from './deviceKvCache';
import { probeWebGpuInChild } from './device';
import { loadModel, type LoadedModel } from './index';
import type { HostKvCache } from './kvCache';
import type { OrtModel } from './session';
import { hostBytes, providers } from './session';
import { tempDir, tinyCheckpoint } from './testSupport';
import { SUPPORTED_MODEL_TYPES } from './arch/index';

const root = tempDir('webgpu');
const cacheDir = path.join(root, 'graphs');
after(() => fs.rmSync(root, { recursive: true, force: true }));

let skipReason: string | undefined;
before(async () => {
  const found = await providers().webgpu.detect();
  if (!found.available) skipReason = `no WebGPU adapter here (${found.reason}); on Linux install Mesa >= 24's lavapipe (mesa-vulkan-drivers from bookworm-backports)`;
});
function needsAdapter(t: TestContext): boolean {
  if (skipReason) t.skip(skipReason);
  return skipReason === undefined;
}

function maxRelativeError(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let scale = 1e-6;
  let worst = 0;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]!));
  for (let i = 0; i < b.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return worst / scale;
}

async function pair(dir: string, deviceKv: boolean): Promise<{ gpu: LoadedModel; cpu: LoadedModel }> {
  const saved = process.env.PRESAGE_DEVICE_KV;
  process.env.PRESAGE_DEVICE_KV = deviceKv ? '1' : '0';
  try {
    const gpu = await loadModel(dir, { cacheDir, device: 'webgpu' });
    const cpu = await loadModel(dir, { cacheDir, device: 'cpu' });
    return { gpu, cpu };
  } finally {
    if (saved === undefined) delete process.env.PRESAGE_DEVICE_KV;
    else process.env.PRESAGE_DEVICE_KV = saved;
  }
}

/** A WebGPU model and a CPU one of the same checkpoint, driven in step. */
type Pair = { gpu: LoadedModel; cpu: LoadedModel };

/** Forwards the same tree through both (the GPU first) and returns the largest relative error between their logits. */
async function forwardBoth(p: Pair, tokens: readonly number[], parents: readonly number[]): Promise<number> {
  return maxRelativeError(await p.gpu.model.forward(tokens, parents), await p.cpu.model.forward(tokens, parents));
}

function commitBoth(p: Pair, accepted: number[]): void {
  p.gpu.model.commit(accepted);
  p.cpu.model.commit(accepted);
}

function truncateBoth(p: Pair, length: number): void {
  p.gpu.model.truncate(length);
  p.cpu.model.truncate(length);
}

/** Loads the checkpoint on WebGPU (its warnings into `warnings`) and on the CPU. */
async function loadBoth(dir: string, warnings: string[] = []): Promise<Pair> {
  return { gpu: await loadModel(dir, { cacheDir, device: 'webgpu', onWarning: (m) => warnings.push(m) }), cpu: await loadModel(dir, { cacheDir, device: 'cpu' }) };
}

async function disposeBoth(p: Pair): Promise<void> {
  await p.gpu.model.dispose();
  await p.cpu.model.dispose();
}

for (const arch of ['llama', 'qwen2'] as const) {
  for (const deviceKv of [true, false]) {
    test(`${arch}, ${deviceKv ? 'device' : 'host'} KV cache: WebGPU logits equal the CPU provider's within 1e-3 over prefill, trees, commits and truncation`, async (t) => {
      if (!needsAdapter(t)) return;
      const { dir } = await tinyCheckpoint({ arch, layers: 2, hidden: 32, heads: 4, kvHeads: 2, intermediate: 40, seed: 9, vocabSize: 80 });
      const models = await pair(dir, deviceKv);
      const { gpu } = models;
      try {
        assert.equal(gpu.info.device, 'webgpu');
        assert.ok(gpu.info.adapter, 'the adapter is named');
        const steps: [number[], number[], number[]][] = [
          [[1, 2, 3, 4, 5, 6], [-1, 0, 1, 2, 3, 4], [0, 1, 2, 3, 4, 5]],
          [[7, 8, 9, 10], [-1, 0, 0, 2], [0, 2, 3]],
          [[11], [-1], [0]],
          [[12, 13, 14], [-1, -1, 1], []],
          [[15, 16], [-1, 0], [0]],
        ];
        for (const [i, [tokens, parents, accepted]] of steps.entries()) {
          const err = await forwardBoth(models, tokens, parents);
          assert.ok(err <= 1e-3, `step ${i}: relative error ${err.toExponential(2)}`);
          commitBoth(models, accepted);
        }
        truncateBoth(models, 3);
        const err = await forwardBoth(models, [20, 21, 22], [-1, 0, 1]);
        assert.ok(err <= 1e-3, `after truncate: relative error ${err.toExponential(2)}`);
      } finally {
        await disposeBoth(models);
      }
    });
  }
}

test('KV compaction on the device equals the host cache (property: random trees, accepted paths, truncations)', async (t) => {
  if (!needsAdapter(t)) return;
  const { dir } = await tinyCheckpoint({ arch: 'llama', layers: 2, hidden: 16, heads: 2, kvHeads: 1, intermediate: 24, seed: 4, vocabSize: 50 });
  const models = await pair(dir, true);
  const { gpu, cpu } = models;
  const step = fc.record({
    tokens: fc.array(fc.integer({ min: 0, max: 49 }), { minLength: 1, maxLength: 6 }),
    parentSeeds: fc.array(fc.nat(), { minLength: 6, maxLength: 6 }),
    acceptSeed: fc.nat(),
    truncateSeed: fc.option(fc.nat(), { freq: 4 }),
  });
  try {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 5 }), async (steps) => {
        truncateBoth(models, 0);
        for (const s of steps) {
          const parents = s.tokens.map((_, j) => (j === 0 ? -1 : (s.parentSeeds[j]! % (j + 1)) - 1));
          assert.ok((await forwardBoth(models, s.tokens, parents)) <= 1e-3);
          // A root path: walk down from a random root child through random children.
          const accepted: number[] = [];
          let at = -1;
          for (;;) {
            const children = parents.flatMap((p, j) => (p === at ? [j] : []));
            if (children.length === 0 || (accepted.length > 0 && (s.acceptSeed >> accepted.length) % 3 === 0)) break;
            at = children[(s.acceptSeed + accepted.length) % children.length]!;
            accepted.push(at);
          }
          commitBoth(models, accepted);
          if (s.truncateSeed !== null) truncateBoth(models, s.truncateSeed % (cpu.model.contextLength + 1));
        }
        const device = await ((gpu.model as OrtModel).kvCache as DeviceKvCache).download();
        const host = (cpu.model as OrtModel).kvCache as HostKvCache;
        assert.equal(gpu.model.contextLength, cpu.model.contextLength);
        for (let l = 0; l < host.layers; l++) {
          const view = host.past(l, 0); // one kv head
          assert.equal(device.keys[l]!.length, view.key.length);
          for (let i = 0; i < view.key.length; i++) {
            assert.ok(Math.abs(device.keys[l]![i]! - view.key[i]!) <= 1e-4, `layer ${l} key ${i}`);
            assert.ok(Math.abs(device.values[l]![i]! - view.value[i]!) <= 1e-4, `layer ${l} value ${i}`);
          }
        }
      }),
      { numRuns: 12, seed: 7 },
    );
  } finally {
    await disposeBoth(models);
  }
});

test('bytes crossing the bus per step grow with the tree and the vocabulary, not with the context (device cache)', async (t) => {
  if (!needsAdapter(t)) return;
  const { dir } = await tinyCheckpoint({ arch: 'qwen2', layers: 2, hidden: 32, heads: 4, kvHeads: 2, intermediate: 40, seed: 6, vocabSize: 96 });
  const { gpu } = await pair(dir, true);
  const { gpu: hostCached } = await pair(dir, false);
  // One step at a given context: a tree of `s` nodes, then commit a 2-node path (compaction runs before the next forward).
  const stepBytes = async (m: LoadedModel, context: number, s: number): Promise<number> => {
    m.model.truncate(0);
    const prompt = Array.from({ length: context }, (_, i) => (i * 7) % 96);
    await m.model.forward(prompt, prompt.map((_, i) => i - 1));
    m.model.commit(prompt.map((_, i) => i));
    let bytes = 0;
    (m.model as OrtModel).instrument((feeds, out) => (bytes += hostBytes(feeds) + hostBytes(out)));
    const parents = Array.from({ length: s }, (_, j) => (j === 0 ? -1 : j === 1 ? 0 : j - 2));
    await m.model.forward(Array.from({ length: s }, (_, j) => j + 1), parents);
    m.model.commit(s > 1 ? [0, 1] : [0]);
    await m.model.forward([5], [-1]); // applies the compaction; its own feeds are counted too
    (m.model as OrtModel).instrument(undefined);
    return bytes;
  };
  try {
    const short = await stepBytes(gpu, 8, 6);
    const long = await stepBytes(gpu, 200, 6);
    assert.equal(long, short, `device cache: ${short} bytes at context 8, ${long} at context 200`);
    const bigTree = await stepBytes(gpu, 8, 12);
    assert.ok(bigTree > short, `a larger tree moves more bytes (${bigTree} vs ${short})`);
    // Logits dominate: S x vocab floats, both forwards of the step.
    assert.ok(short >= (6 + 1) * 96 * 4);
    // The host cache on the same device uploads the whole past every step: the meter sees the difference.
    const hostShort = await stepBytes(hostCached, 8, 6);
    const hostLong = await stepBytes(hostCached, 200, 6);
    assert.ok(hostLong > hostShort + 2 * 2 * 2 * 190 * 8 * 4, `host cache: ${hostShort} bytes at context 8, ${hostLong} at context 200`);
  } finally {
    await gpu.model.dispose();
    await hostCached.model.dispose();
  }
});

test('speculative decoding equals greedy token for token on WebGPU', async (t) => {
  if (!needsAdapter(t)) return;
  const dir = path.join(root, 'spec-model');
  const { writeTinyCheckpoint } = await import('./index');
  await writeTinyCheckpoint({ out: dir, arch: 'llama', layers: 2, hidden: 64, heads: 4, kvHeads: 2, intermediate: 96, tokenizerDir: sharedPath('tokenizers/gpt2'), seed: 12 });
  const prompt = 'function add(a, b) {\n  return a + b;\n}\nfunction add(a, b) {\n  return a + b;\n}\nfunction add(';
  for (const drafter of ['hybrid', 'pld']) {
    const greedyHost = await openModelHost(dir, { device: 'webgpu', drafter: 'none', cacheDir });
    const specHost = await openModelHost(dir, { device: 'webgpu', drafter, cacheDir });
    try {
      assert.equal(specHost.checkpoint.info.device, 'webgpu');
      const greedy = await generateWith(greedyHost, { prompt, maxTokens: 40, mode: 'greedy', stopAtEos: false });
      // The greedy text as a reference document (as a workspace file would be): long drafts that verify.
      const spec = await generateWith(specHost, { prompt, references: [greedy.text], maxTokens: 40, mode: 'speculative', stopAtEos: false });
      assert.deepEqual(spec.tokens, greedy.tokens, drafter);
      assert.equal(spec.tokens.length, 40);
      assert.ok(spec.steps < 40, `${drafter}: drafts were accepted (${spec.steps} steps for 40 tokens)`);
    } finally {
      await greedyHost.dispose();
      await specHost.dispose();
    }
  }
});

const repo = path.resolve(__dirname, '../..');
function cli(args: string[], env: NodeJS.ProcessEnv = process.env): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(repo, 'engine/main.ts'), ...args], { cwd: repo, env: { ...env, ORT_DISABLE_TELEMETRY: '1' }, encoding: 'utf8', timeout: 240_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('generate --device webgpu equals --device cpu token for token, and reports the device and adapter', async (t) => {
  if (!needsAdapter(t)) return;
  const dir = path.join(root, 'cli-model');
  const { writeTinyCheckpoint } = await import('./index');
  await writeTinyCheckpoint({ out: dir, arch: 'qwen2', layers: 2, hidden: 64, heads: 4, kvHeads: 2, intermediate: 96, tokenizerDir: sharedPath('tokenizers/gpt2'), seed: 13 });
  const promptFile = path.join(root, 'prompt.txt');
  fs.writeFileSync(promptFile, 'const total = items.map((x) => x.price).reduce((a, b) => a + b, 0);\nconst total = items.');
  const outputs: Record<string, { tokens: number[]; device: string; adapter?: string }> = {};
  for (const device of ['cpu', 'webgpu']) {
    for (const mode of ['greedy', 'speculative']) {
      const r = cli(['generate', '--model', dir, '--prompt-file', promptFile, '--max-tokens', '32', '--mode', mode, '--no-eos', '--device', device, '--cache-dir', cacheDir, '--json']);
      assert.equal(r.status, 0, r.stderr);
      outputs[`${device}/${mode}`] = JSON.parse(r.stdout.trim().split('\n').pop()!);
    }
  }
  assert.equal(outputs['webgpu/greedy']!.device, 'webgpu');
  assert.ok(outputs['webgpu/greedy']!.adapter);
  assert.equal(outputs['cpu/greedy']!.device, 'cpu');
  assert.equal(outputs['cpu/greedy']!.tokens.length, 32);
  for (const key of ['webgpu/greedy', 'webgpu/speculative', 'cpu/speculative']) assert.deepEqual(outputs[key]!.tokens, outputs['cpu/greedy']!.tokens, key);
});

test('no adapter: --device webgpu is a clear error, auto runs on the CPU', async (t) => {
  if (!needsAdapter(t)) return;
  // A Vulkan loader pointed at no driver: the real "no adapter" path, in child processes.
  const noAdapter = { ...process.env, VK_DRIVER_FILES: path.join(root, 'no-driver.json'), VK_ICD_FILENAMES: path.join(root, 'no-driver.json') };
  assert.match((await probeWebGpuInChild(noAdapter)) ?? '', /no usable WebGPU adapter \(No supported adapters\)/);
  const dir = path.join(root, 'cli-model');
  if (!fs.existsSync(dir)) {
    const { writeTinyCheckpoint } = await import('./index');
    await writeTinyCheckpoint({ out: dir, arch: 'qwen2', layers: 2, hidden: 64, heads: 4, kvHeads: 2, intermediate: 96, tokenizerDir: sharedPath('tokenizers/gpt2'), seed: 13 });
  }
  const promptFile = path.join(root, 'prompt-none.txt');
  fs.writeFileSync(promptFile, 'let x = 1;');
  const webgpu = cli(['generate', '--model', dir, '--prompt-file', promptFile, '--max-tokens', '4', '--device', 'webgpu', '--cache-dir', cacheDir, '--json'], noAdapter);
  assert.notEqual(webgpu.status, 0);
  assert.match(webgpu.stderr, /--device webgpu: no usable WebGPU adapter \(No supported adapters\)/);
  assert.equal(webgpu.stdout.trim(), '', 'nothing generated on the CPU instead');
  const auto = cli(['generate', '--model', dir, '--prompt-file', promptFile, '--max-tokens', '4', '--device', 'auto', '--cache-dir', cacheDir, '--json'], noAdapter);
  assert.equal(auto.status, 0, auto.stderr);
  assert.equal(JSON.parse(auto.stdout.trim().split('\n').pop()!).device, 'cpu');
  const bad = cli(['generate', '--model', dir, '--prompt-file', promptFile, '--device', 'tpu']);
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /--device must be one of auto, cpu, webgpu, cuda, got "tpu"/);
});

test('a GPU lost mid-session: the step reruns on the CPU with a warning, and decoding goes on unchanged', async (t) => {
  if (!needsAdapter(t)) return;
  const { dir } = await tinyCheckpoint({ arch: 'llama', layers: 2, hidden: 32, heads: 4, kvHeads: 2, intermediate: 40, seed: 21, vocabSize: 70 });
  const warnings: string[] = [];
  const models = await loadBoth(dir, warnings);
  const { gpu } = models;
  try {
    await forwardBoth(models, [1, 2, 3], [-1, 0, 1]);
    commitBoth(models, [0, 1, 2]);
    // The device goes away: its session's runs fail as Dawn reports a lost device (a released session cannot
    // stand in: running one crashes the process).
    const session = (gpu.model as unknown as { session: { run: () => Promise<never> } }).session;
    session.run = () => Promise.reject(new Error('WebGPU device lost: Device was destroyed.'));
    assert.ok((await forwardBoth(models, [4, 5], [-1, 0])) <= 1e-4);
    assert.equal(gpu.info.device, 'cpu');
    assert.ok(warnings.some((w) => /^WEBGPU device failed mid-session \(.*\); continuing on CPU$/.test(w)), warnings.join(' | '));
  } finally {
    await disposeBoth(models);
  }
});

test('an architecture without a device-cache graph (sliding window) runs on WebGPU with the host cache, and says so', async (t) => {
  if (!needsAdapter(t)) return;
  const { dir } = await tinyCheckpoint({ arch: 'mistral', layers: 2, hidden: 32, heads: 4, kvHeads: 2, intermediate: 40, seed: 8, vocabSize: 60 });
  const warnings: string[] = [];
  const models = await loadBoth(dir, warnings);
  const { gpu } = models;
  try {
    assert.equal(gpu.info.device, 'webgpu');
    assert.ok(warnings.some((w) => /device KV cache graph has no sliding-window.*the KV cache stays in host memory on WEBGPU/.test(w)), warnings.join(' | '));
    const prompt = Array.from({ length: 9 }, (_, i) => (i * 5) % 60);
    for (const [tokens, parents] of [[prompt, prompt.map((_, i) => i - 1)], [[3, 4, 5], [-1, 0, 0]]] as const) {
      const err = await forwardBoth(models, tokens, parents);
      assert.ok(err <= 1e-3, `relative error ${err.toExponential(2)}`);
      commitBoth(models, [0]);
    }
  } finally {
    await disposeBoth(models);
  }
});

test('every registered architecture gives the CPU provider\'s logits on WebGPU (prefill, then a tree after a commit)', async (t) => {
  if (!needsAdapter(t)) return;
  for (const arch of SUPPORTED_MODEL_TYPES) {
    const { dir } = await tinyCheckpoint({ arch, layers: 2, hidden: 32, heads: 4, kvHeads: 2, intermediate: 40, seed: 31, vocabSize: 64 });
    const models = await loadBoth(dir);
    try {
      const prompt = Array.from({ length: 7 }, (_, i) => (i * 11) % 64);
      const steps: [readonly number[], readonly number[], number[]][] = [[prompt, prompt.map((_, i) => i - 1), prompt.map((_, i) => i)], [[1, 2, 3, 4], [-1, 0, 0, 2], [0, 2]], [[9], [-1], [0]]];
      for (const [i, [tokens, parents, accepted]] of steps.entries()) {
        const err = await forwardBoth(models, tokens, parents);
        assert.ok(err <= 1e-3, `${arch} step ${i}: relative error ${err.toExponential(2)}`);
        commitBoth(models, accepted);
      }
      assert.equal(models.gpu.info.device, 'webgpu', arch);
    } finally {
      await disposeBoth(models);
    }
  }
});
