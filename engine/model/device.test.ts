// The device plan: what `auto` and an explicit device choose for what detection finds (the detection itself runs
// for real in webgpu.test.ts), and how a Linux machine's GPUs are named from /sys/class/drm.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { describeAdapter, planDevices, type Detection, type Provider } from './device';
import type { ExecutionDevice } from '../protocol';

function providers(found: Partial<Record<ExecutionDevice, Detection>>): Record<ExecutionDevice, Provider> {
  const make = (device: ExecutionDevice): Provider => ({
    device,
    gpu: device !== 'cpu',
    executionProviders: [device],
    detect: async () => found[device] ?? { available: false, reason: `no ${device} here` },
  });
  return { cpu: make('cpu'), webgpu: make('webgpu'), cuda: make('cuda') };
}

const gpu: Detection = { available: true, adapter: 'Vulkan: NVIDIA GPU (PCI 10de:2684)' };

test('auto picks a hardware GPU when there is one, CUDA first, and always keeps the CPU as the fallback', async () => {
  assert.deepEqual(await planDevices('auto', providers({ webgpu: gpu })), [{ device: 'webgpu', adapter: gpu.adapter }, { device: 'cpu' }]);
  assert.deepEqual(await planDevices('auto', providers({ webgpu: gpu, cuda: { available: true, adapter: 'CUDA' } })), [{ device: 'cuda', adapter: 'CUDA' }, { device: 'cpu' }]);
  // A software adapter (lavapipe) is slower than the CPU provider: auto runs on the CPU.
  assert.deepEqual(await planDevices('auto', providers({ webgpu: { available: true, adapter: 'lavapipe', software: true } })), [{ device: 'cpu' }]);
  assert.deepEqual(await planDevices('auto', providers({})), [{ device: 'cpu' }]);
});

test('an explicit device: webgpu without an adapter is an error, a missing cuda falls back with a warning, cpu is cpu', async () => {
  await assert.rejects(planDevices('webgpu', providers({})), /--device webgpu: no webgpu here.*Vulkan driver/);
  // Asked for explicitly, even a software adapter is used.
  assert.deepEqual(await planDevices('webgpu', providers({ webgpu: { available: true, adapter: 'lavapipe', software: true } })), [{ device: 'webgpu', adapter: 'lavapipe' }, { device: 'cpu' }]);
  const warnings: string[] = [];
  assert.deepEqual(await planDevices('cuda', providers({}), (w) => warnings.push(w)), [{ device: 'cpu' }]);
  assert.match(warnings[0] ?? '', /CUDA execution provider is not available \(no cuda here\); running on CPU/);
  assert.deepEqual(await planDevices('cpu', providers({ webgpu: gpu })), [{ device: 'cpu' }]);
  await assert.rejects(planDevices('tpu' as never, providers({})), /device/);
});

test('adapter names on Linux come from the PCI ids of the DRM cards; none means a software adapter', { skip: process.platform !== 'linux' }, () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'presage-drm-'));
  try {
    assert.deepEqual(describeAdapter(root), { name: 'Vulkan: software adapter (lavapipe)', software: true });
    fs.mkdirSync(path.join(root, 'card0', 'device'), { recursive: true });
    fs.writeFileSync(path.join(root, 'card0', 'device', 'vendor'), '0x10de\n');
    fs.writeFileSync(path.join(root, 'card0', 'device', 'device'), '0x2684\n');
    fs.mkdirSync(path.join(root, 'card0-DP-1')); // a connector, not a card
    const found = describeAdapter(root);
    assert.equal(found.software, false);
    assert.match(found.name, /PCI 10de:2684/);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
