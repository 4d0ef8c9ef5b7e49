// The provider table: which ONNX Runtime execution provider runs each device, how to tell whether it can run
// here, and the order `auto` tries them in (cuda, then webgpu, then cpu). A GPU that fails at load or is lost
// mid-session falls back to the CPU (session.ts); an explicit `webgpu` with no adapter is an error.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { onnx } from 'onnx-proto';
import type { InferenceSession } from 'onnxruntime-node';
import { DEVICES, type Device, type ExecutionDevice } from '../protocol';

export type { Device, ExecutionDevice } from '../protocol';
export { DEVICES } from '../protocol';

/** A device named on a command line or over RPC; undefined stays undefined, anything else unknown is an error. */
export function parseDevice(value: unknown, what = '--device'): Device | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string' && (DEVICES as readonly string[]).includes(value)) return value as Device;
  throw new Error(`${what} must be one of ${DEVICES.join(', ')}, got ${JSON.stringify(value)}`);
}

/** What detection found: the adapter's name when a GPU is there, or why the device cannot run here. */
export type Detection =
  | { available: true; adapter?: string; /** a CPU emulation of a GPU (lavapipe): `auto` skips it */ software?: boolean }
  | { available: false; reason: string };

export interface Provider {
  readonly device: ExecutionDevice;
  readonly gpu: boolean;
  /** ORT execution providers of a session on this device; ORT adds the CPU provider for nodes they do not take. */
  readonly executionProviders: readonly InferenceSession.ExecutionProviderConfig[];
  /** Whether the device can be tried here; cached per process (a probe can take a second). */
  detect(): Promise<Detection>;
}

/** The order `auto` tries. */
export const AUTO_ORDER: readonly ExecutionDevice[] = ['cuda', 'webgpu', 'cpu'];

type Ort = typeof import('onnxruntime-node');

function bundledBackends(ort: Ort): Map<string, boolean> {
  const list = (ort as { listSupportedBackends?: () => { name: string; bundled: boolean }[] }).listSupportedBackends?.() ?? [];
  return new Map(list.map((b) => [b.name, b.bundled]));
}

/** A one-node graph (b = a + a) that every provider runs: the probe's workload. */
export function probeModel(): Uint8Array {
  const FLOAT = onnx.TensorProto.DataType.FLOAT;
  const vi = (name: string): onnx.IValueInfoProto => ({ name, type: { tensorType: { elemType: FLOAT, shape: { dim: [{ dimValue: 4 }] } } } });
  return onnx.ModelProto.encode(
    onnx.ModelProto.create({ irVersion: 8, opsetImport: [{ domain: '', version: 17 }], graph: { name: 'probe', node: [{ opType: 'Add', input: ['a', 'a'], output: ['b'] }], input: [vi('a')], output: [vi('b')] } }),
  ).finish();
}

const PROBE_TIMEOUT_MS = 30_000;

/**
 * Runs the probe graph on WebGPU in a child process, since a bad driver can crash or hang the process that asks.
 * Resolves to undefined when it ran and gave the right numbers, else to the reason.
 */
export function probeWebGpuInChild(env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  const ortPath = require.resolve('onnxruntime-node');
  const script = `
const ort = require(${JSON.stringify(ortPath)});
const model = Buffer.from(${JSON.stringify(Buffer.from(probeModel()).toString('base64'))}, 'base64');
ort.InferenceSession.create(model, { executionProviders: ['webgpu'], logSeverityLevel: 3 })
  .then((s) => s.run({ a: new ort.Tensor('float32', Float32Array.of(1, 2, 3, 4), [4]) }))
  .then((out) => { process.stdout.write(JSON.stringify({ ok: Array.from(out.b.data).join(',') === '2,4,6,8' })); process.exit(0); })
  .catch((err) => { process.stdout.write(JSON.stringify({ ok: false, error: String(err && err.message || err).split('\\n')[0] })); process.exit(0); });
`;
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['-e', script], { env: { ...env, ORT_DISABLE_TELEMETRY: '1', ELECTRON_RUN_AS_NODE: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), PROBE_TIMEOUT_MS);
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve(`the WebGPU probe could not start (${e.message})`);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (signal) return resolve(signal === 'SIGKILL' ? `the WebGPU probe hung (killed after ${PROBE_TIMEOUT_MS / 1000} s)` : `the WebGPU probe crashed (${signal})`);
      try {
        const r = JSON.parse(out) as { ok: boolean; error?: string };
        if (r.ok) return resolve(undefined);
        // ORT's message carries its source location first; the adapter's own words come last.
        const why = r.error?.match(/Failed to get a WebGPU adapter: (.*)$/)?.[1] ?? r.error;
        resolve(why ? `no usable WebGPU adapter (${why})` : 'the WebGPU probe computed wrong numbers');
      } catch {
        const last = err.trim().split('\n').pop() ?? '';
        resolve(`the WebGPU probe exited with code ${code}${last ? `: ${last}` : ''}`);
      }
    });
  });
}

const PCI_VENDORS: Record<string, string> = { '0x10de': 'NVIDIA', '0x1002': 'AMD', '0x8086': 'Intel', '0x5143': 'Qualcomm', '0x13b5': 'ARM' };

/**
 * The adapter's name as far as the OS tells it (ORT's node binding does not expose Dawn's adapter info):
 * on Linux the GPUs behind /sys/class/drm, or a software Vulkan adapter (lavapipe) when there are none.
 */
export function describeAdapter(drmRoot = '/sys/class/drm'): { name: string; software: boolean } {
  if (process.platform === 'darwin') return { name: 'Metal', software: false };
  if (process.platform === 'win32') return { name: 'D3D12', software: false };
  const gpus = new Set<string>();
  try {
    for (const card of fs.readdirSync(drmRoot)) {
      if (!/^card\d+$/.test(card)) continue;
      try {
        const vendor = fs.readFileSync(path.join(drmRoot, card, 'device', 'vendor'), 'utf8').trim();
        const device = fs.readFileSync(path.join(drmRoot, card, 'device', 'device'), 'utf8').trim();
        gpus.add(`${PCI_VENDORS[vendor] ?? `vendor ${vendor}`} GPU (PCI ${vendor.slice(2)}:${device.slice(2)})`);
      } catch {
        // a card without PCI ids (a virtual display): not a GPU Dawn would pick
      }
    }
  } catch {
    // no DRM at all
  }
  if (gpus.size > 0) return { name: `Vulkan: ${[...gpus].join(', ')}`, software: false };
  return { name: 'Vulkan: software adapter (lavapipe)', software: true };
}

/** `npm ci --onnxruntime-node-install=cuda12` puts the CUDA provider library beside the binding. */
function cudaProviderInstalled(): boolean {
  try {
    const bin = path.join(path.dirname(require.resolve('onnxruntime-node')), '..', 'bin', 'napi-v6', process.platform, process.arch);
    return fs.readdirSync(bin).some((f) => /onnxruntime_providers_cuda\.(so|dll)$/.test(f));
  } catch {
    return false;
  }
}

function cached(detect: () => Promise<Detection>): () => Promise<Detection> {
  let result: Promise<Detection> | undefined;
  return () => (result ??= detect());
}

export function makeProviders(loadOrt: () => Promise<Ort>, env: NodeJS.ProcessEnv = process.env): Record<ExecutionDevice, Provider> {
  return {
    cpu: { device: 'cpu', gpu: false, executionProviders: ['cpu'], detect: async () => ({ available: true }) },
    cuda: {
      device: 'cuda',
      gpu: true,
      executionProviders: ['cuda'],
      detect: cached(async () =>
        bundledBackends(await loadOrt()).get('cuda') || cudaProviderInstalled()
          ? { available: true, adapter: 'CUDA' }
          : { available: false, reason: 'this onnxruntime-node build has no CUDA provider (npm ci --onnxruntime-node-install=cuda12 installs it)' },
      ),
    },
    webgpu: {
      device: 'webgpu',
      gpu: true,
      executionProviders: ['webgpu'],
      detect: cached(async () => {
        if (!bundledBackends(await loadOrt()).get('webgpu')) return { available: false, reason: 'this onnxruntime-node build has no WebGPU provider' };
        const problem = await probeWebGpuInChild(env);
        if (problem) return { available: false, reason: problem };
        const adapter = describeAdapter();
        return { available: true, adapter: adapter.name, software: adapter.software };
      }),
    },
  };
}

/** One device to try, with the adapter detection reported. */
export interface DeviceChoice {
  device: ExecutionDevice;
  adapter?: string;
}

/**
 * The devices to try for a request, best first, always ending with the CPU. `auto` takes the first GPU whose
 * detection passes (a software adapter is skipped: it is slower than the CPU provider); an explicit `webgpu`
 * without an adapter throws; an explicit `cuda` that is missing falls back with a warning.
 */
export async function planDevices(requested: Device, providers: Record<ExecutionDevice, Provider>, onWarning?: (message: string) => void): Promise<DeviceChoice[]> {
  parseDevice(requested, 'device');
  const cpu: DeviceChoice = { device: 'cpu' };
  if (requested === 'cpu') return [cpu];
  if (requested === 'auto') {
    for (const device of AUTO_ORDER) {
      if (device === 'cpu') break;
      const found = await providers[device].detect();
      if (found.available && !found.software) return [{ device, ...(found.adapter ? { adapter: found.adapter } : {}) }, cpu];
    }
    return [cpu];
  }
  const found = await providers[requested].detect();
  if (found.available) return [{ device: requested, ...(found.adapter ? { adapter: found.adapter } : {}) }, cpu];
  if (requested === 'webgpu') throw new Error(`--device webgpu: ${found.reason}. On Linux WebGPU needs a Vulkan driver that Dawn accepts (Mesa >= 24, or the GPU vendor's); use --device cpu or auto to run on the CPU`);
  onWarning?.(`${requested.toUpperCase()} execution provider is not available (${found.reason}); running on CPU`);
  return [cpu];
}
