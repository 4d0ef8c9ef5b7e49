// Model selection: empty setting (demo model or none), a local folder, a bad value, and a Hugging Face repo id
// downloaded through a loopback hub with progress, reused afterwards, and cancellable. First use: the status
// sequence a start produces, Select Model keeping the previous model when the choice fails (and why), automatic
// quantization on a CPU, and the first-run picker with presets and estimates.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fakeCtx, FakeEngineClient } from '../testing/fakeEngineClient';
import { CancellationTokenSource, fakeSettings, fakeVscode, installFakeVscode, shownMessages } from '../testing/fakeVscode';
import { startHub } from '../testing/loopbackHub';
import { INITIAL_STATUS, reduceStatus, renderStatus, type StatusEvent } from '../common/statusState';
import http from 'node:http';

installFakeVscode();
const progressReports: Array<{ message?: string }> = [];
let cancelDownload = false;
Object.assign(fakeVscode.workspace, { workspaceFolders: undefined });
(fakeVscode.window as Record<string, unknown>).withProgress = async (_o: unknown, task: (p: { report(r: { message?: string }): void }, t: unknown) => Promise<unknown>) => {
  const cts = new CancellationTokenSource();
  return task({ report: (r) => {
    progressReports.push(r);
    if (cancelDownload) cts.cancel();
  } }, cts.token);
};
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { ModelSetup, demoModelPath, CHOSEN_KEY, checkpointParamsB } = require('./setup') as typeof import('./setup');
const quickPicks: Array<{ items: Array<{ label: string; description?: string; detail?: string; repoId?: string; id: string }>; title?: string }> = [];
let pickAnswer: (items: Array<{ id: string; repoId?: string }>) => unknown = () => undefined;
(fakeVscode.window as Record<string, unknown>).showQuickPick = async (items: never[], options: { title?: string }) => {
  quickPicks.push({ items, ...(options?.title ? { title: options.title } : {}) });
  return pickAnswer(items);
};
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { DownloadCancelled } = require('./download') as typeof import('./download');

describe('model setup', () => {
  let tmp: string;
  let hub: Awaited<ReturnType<typeof startHub>>;
  const make = (extensionPath: string) => {
    const client = new FakeEngineClient();
    client.isRunning = false;
    const ctx = fakeCtx(client, { extensionPath, globalStorageUri: { fsPath: path.join(tmp, 'storage') } });
    return new ModelSetup(ctx);
  };

  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'presage-models-'));
    hub = await startHub({ 'acme/no-weights': { 'config.json': Buffer.from('{}') }, 'acme/coder': { 'config.json': Buffer.from('{}'), 'model.safetensors': Buffer.alloc(200_000, 1), 'tokenizer.json': Buffer.from('{}') } }, { slowFile: 'model.safetensors' });
    process.env.HF_ENDPOINT = hub.url;
  });
  after(() => {
    delete process.env.HF_ENDPOINT;
    fakeSettings.delete('presage.model');
    hub.server.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('empty setting: the demo model when the extension has one, else no model', async () => {
    fakeSettings.set('presage.model', '');
    const bare = path.join(tmp, 'ext-bare');
    fs.mkdirSync(bare, { recursive: true });
    assert.equal(await make(bare).resolve(), undefined);
    const withDemo = path.join(tmp, 'ext-demo');
    fs.mkdirSync(path.join(withDemo, 'models', 'demo'), { recursive: true });
    fs.writeFileSync(path.join(withDemo, 'models', 'demo', 'config.json'), '{}');
    assert.deepEqual(await make(withDemo).resolve(), { path: path.join(withDemo, 'models', 'demo'), label: 'demo model', demo: true });
    assert.equal(demoModelPath(bare), undefined);
  });

  it('the demo model set as a folder in presage.model (as npm start does) is still labelled a demo', async () => {
    const folder = path.join(tmp, 'copied-demo');
    fs.mkdirSync(folder, { recursive: true });
    fs.copyFileSync(path.join(__dirname, '..', '..', 'models', 'demo', 'config.json'), path.join(folder, 'config.json'));
    fakeSettings.set('presage.model', folder);
    try {
      assert.deepEqual(await make(path.join(tmp, 'ext-bare')).resolve(), { path: folder, label: 'demo model', demo: true });
      const plain = path.join(tmp, 'plain-model');
      fs.mkdirSync(plain, { recursive: true });
      fs.writeFileSync(path.join(plain, 'config.json'), JSON.stringify({ model_type: 'llama' }));
      fakeSettings.set('presage.model', plain);
      assert.deepEqual(await make(path.join(tmp, 'ext-bare')).resolve(), { path: plain, label: 'plain-model' });
    } finally {
      fakeSettings.set('presage.model', '');
    }
  });

  it('a local folder is used as is; a value that is neither folder nor repo id is a clear error', async () => {
    const folder = path.join(tmp, 'my-model');
    fs.mkdirSync(folder, { recursive: true });
    fakeSettings.set('presage.model', folder);
    assert.deepEqual(await make(tmp).resolve(), { path: folder, label: 'my-model' });
    fakeSettings.set('presage.model', 'not a model');
    await assert.rejects(make(tmp).resolve(), /neither an existing folder nor a Hugging Face repo id/);
  });

  it('a repo id is downloaded once into global storage, with progress', async () => {
    fakeSettings.set('presage.model', 'acme/coder');
    const before = hub.requests.length;
    const m = await make(tmp).resolve();
    assert.equal(m?.label, 'acme/coder');
    assert.ok(m!.path.startsWith(path.join(tmp, 'storage')));
    assert.equal(fs.statSync(path.join(m!.path, 'model.safetensors')).size, 200_000);
    assert.ok(progressReports.some((r) => /model\.safetensors/.test(r.message ?? '')));
    const used = hub.requests.length;
    assert.ok(used > before);
    await make(tmp).resolve();
    assert.equal(hub.requests.length, used, 'no second download');
  });

  it('cancelling the progress notification cancels the download', async () => {
    fakeSettings.set('presage.model', 'acme/coder');
    cancelDownload = true;
    try {
      const fresh = path.join(tmp, 'other-storage');
      const setup = make(tmp);
      (setup as unknown as { _ctx: { extensionContext: { globalStorageUri: { fsPath: string } } } })._ctx.extensionContext.globalStorageUri.fsPath = fresh;
      await assert.rejects(setup.resolve(), DownloadCancelled);
    } finally {
      cancelDownload = false;
    }
  });

  /** A running engine that answers loadModel; `globalState` as a Map-backed memento. */
  const running = (extensionPath: string, answer: (p: Record<string, unknown>) => unknown = () => ({ model: 'm', architecture: 'llama', device: 'cpu', vocabSize: 1, maxContext: 1, fimTemplate: 'generic', loadMs: 1, warnings: [] })) => {
    const client = new FakeEngineClient();
    const loads: Array<Record<string, unknown>> = [];
    client.handlers.set('loadModel', (p: Record<string, unknown>) => {
      loads.push(p);
      return answer(p);
    });
    const memento = new Map<string, unknown>();
    const globalState = { get: (k: string) => memento.get(k), update: (k: string, v: unknown) => Promise.resolve(void memento.set(k, v)), keys: () => [...memento.keys()] };
    const ctx = fakeCtx(client, { extensionPath, globalStorageUri: { fsPath: path.join(tmp, 'storage') }, globalState });
    const setup = new ModelSetup(ctx);
    const events: StatusEvent[] = [];
    setup.onStatus((e) => events.push(e));
    return { client, setup, loads, memento, events, ctx };
  };
  const withDemo = (): string => {
    const dir = path.join(tmp, 'ext-demo');
    fs.mkdirSync(path.join(dir, 'models', 'demo'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'models', 'demo', 'config.json'), '{}');
    return dir;
  };

  it('a start reads starting, then loading, then ready with the demo model labelled: never "no model"', async () => {
    fakeSettings.set('presage.model', '');
    const { setup, events, memento } = running(withDemo());
    memento.set(CHOSEN_KEY, true); // no first-run picker here
    // The engine's own first word after initialize is "no-model": the extension's setup must outweigh it.
    let m = reduceStatus(reduceStatus(INITIAL_STATUS, { type: 'phase', phase: 'running' }), { type: 'status', params: { state: 'no-model' } });
    const texts = [renderStatus(m).text];
    setup.onStatus((e) => {
      m = reduceStatus(m, e);
      texts.push(renderStatus(m).text);
      // What the engine says while it loads.
      if (e.type === 'setup' && e.phase === 'loading') {
        m = reduceStatus(reduceStatus(m, { type: 'status', params: { state: 'no-model', backend: 'local' } }), { type: 'status', params: { state: 'loading' } });
        texts.push(renderStatus(m).text);
      }
    });
    await setup.load();
    m = reduceStatus(m, { type: 'status', params: { state: 'ready', backend: 'local' } });
    texts.push(renderStatus(m).text);
    assert.ok(texts.every((t) => !/no model/.test(t)), texts.join(' | '));
    assert.deepEqual(events.filter((e) => e.type === 'setup').map((e) => (e as { phase: string }).phase), ['resolving', 'loading', 'loaded']);
    assert.deepEqual(events.find((e) => e.type === 'model'), { type: 'model', model: 'demo model', demo: true, device: { name: 'cpu', reason: 'chosen by auto' } });
    assert.match(texts.at(-1)!, /ready · demo/);
    assert.match(renderStatus(m).tooltip, /Model: demo model \(demo\)/);
    assert.match(renderStatus(m).tooltip, /Device: cpu — chosen by auto/);
  });

  it('a model that fails to load leaves "model not loaded" with the reason, and no loaded model in the tooltip', async () => {
    const folder = path.join(tmp, 'broken-model');
    fs.mkdirSync(folder, { recursive: true });
    fakeSettings.set('presage.model', folder);
    const { setup, events } = running(tmp, () => {
      throw new Error('config.json: hidden_size missing');
    });
    await setup.load();
    const m = events.reduce(reduceStatus, reduceStatus(INITIAL_STATUS, { type: 'status', params: { state: 'no-model' } }));
    assert.match(renderStatus(m).text, /model not loaded/);
    assert.match(renderStatus(m).tooltip, /hidden_size missing/);
    assert.doesNotMatch(renderStatus(m).tooltip, /Model: /);
    assert.equal(setup.current, undefined);
  });

  it('Select Model keeps the previous model and says why: repository not found, no safetensors, offline', async () => {
    const previous = path.join(tmp, 'my-model');
    fs.mkdirSync(previous, { recursive: true });
    fakeSettings.set('presage.model', previous);
    const { setup } = running(tmp);
    const errors = (): string[] => shownMessages.filter((x) => x.level === 'error').map((x) => x.message);
    const before = errors().length;
    assert.equal(await setup.chooseRepo('acme/missing'), undefined);
    assert.equal(await setup.chooseRepo('acme/no-weights'), undefined);
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', () => r()));
    const port = (closed.address() as { port: number }).port;
    await new Promise<void>((r) => closed.close(() => r()));
    process.env.HF_ENDPOINT = `http://127.0.0.1:${port}`;
    try {
      assert.equal(await setup.chooseRepo('acme/coder'), undefined);
    } finally {
      process.env.HF_ENDPOINT = hub.url;
    }
    assert.equal(fakeSettings.get('presage.model'), previous, 'the previous model stays');
    const shown = errors().slice(before);
    assert.equal(shown.length, 3);
    assert.match(shown[0]!, new RegExp(`^Presage kept ${previous}: repository not found`));
    assert.match(shown[1]!, /no \.safetensors weights/);
    assert.match(shown[2]!, /offline: cannot reach 127\.0\.0\.1/);
    // A preset picked in the quick pick goes through the same check (the loopback hub has no Qwen).
    pickAnswer = (items) => items.find((i) => i.repoId === 'Qwen/Qwen2.5-Coder-0.5B-Instruct');
    assert.equal(await setup.select(), undefined);
    assert.equal(fakeSettings.get('presage.model'), previous);
    assert.match(errors().at(-1)!, /repository not found: Qwen\/Qwen2\.5-Coder-0\.5B-Instruct/);
    // A good repo id is downloaded, then saved.
    assert.equal(await setup.chooseRepo('acme/coder'), 'acme/coder');
    assert.equal(fakeSettings.get('presage.model'), 'acme/coder');
    pickAnswer = () => undefined;
  });

  it('on a CPU, int8 or int4 is picked for a model above 1 B unless presage.quantization is set', async () => {
    const big = path.join(tmp, 'big-model');
    fs.mkdirSync(big, { recursive: true });
    fs.writeFileSync(path.join(big, 'config.json'), '{}');
    const header = Buffer.from(JSON.stringify({ 'model.embed_tokens.weight': { dtype: 'BF16', shape: [1, 1], data_offsets: [0, 2] } }));
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(header.length));
    const file = path.join(big, 'model.safetensors');
    fs.writeFileSync(file, Buffer.concat([len, header]));
    fs.truncateSync(file, 3_100_000_000); // sparse: 1.55 B bf16 parameters as far as sizes go
    assert.ok(Math.abs(checkpointParamsB(big)! - 1.55) < 0.01);
    fakeSettings.set('presage.model', big);
    fakeSettings.set('presage.device', 'cpu');
    const { setup, loads, memento } = running(tmp);
    memento.set(CHOSEN_KEY, true);
    await setup.load();
    assert.equal(loads.at(-1)!.quantization, 'int8');
    assert.equal(setup.current?.label, 'big-model (int8)');
    fakeSettings.set('presage.quantization', 'none');
    await setup.load();
    assert.equal(loads.at(-1)!.quantization, 'none', 'the user setting wins');
    fakeSettings.delete('presage.quantization');
    fakeSettings.set('presage.device', 'cuda');
    await setup.load();
    assert.equal(loads.at(-1)!.quantization, 'none', 'not on a GPU');
    fakeSettings.delete('presage.device');
    fs.rmSync(big, { recursive: true, force: true });
  });

  it('first run: with no model ever chosen the picker opens once, with presets, estimates and a recommendation', async () => {
    fakeSettings.set('presage.model', '');
    const { setup, memento } = running(withDemo());
    quickPicks.length = 0;
    await setup.load();
    await new Promise((r) => setTimeout(r, 10));
    assert.equal(quickPicks.length, 1);
    const { items, title } = quickPicks[0]!;
    assert.match(title ?? '', /choose a model/);
    for (const size of ['0.5B', '1.5B', '3B', '7B']) assert.ok(items.some((i) => i.repoId === `Qwen/Qwen2.5-Coder-${size}-Instruct`));
    assert.equal(items.filter((i) => /recommended/.test(i.description ?? '')).length, 1);
    for (const i of items.filter((x) => x.id === 'preset')) assert.match(i.detail ?? '', /[GM]B download · needs ≈ [\d.]+ GB RAM.*tok\/s estimated/);
    assert.match(items.find((i) => i.id === 'demo')!.detail ?? '', /mechanics only/);
    assert.equal(memento.get(CHOSEN_KEY), true);
    await setup.load();
    assert.equal(quickPicks.length, 1, 'offered once');
  });

  it('first run of a package without the demo model: the picker opens at once, and the status says no model', async () => {
    fakeSettings.set('presage.model', '');
    const bare = path.join(tmp, 'ext-bare-first-run');
    fs.mkdirSync(bare, { recursive: true });
    const { setup, memento } = running(bare);
    const events: StatusEvent[] = [];
    setup.onStatus((e) => events.push(e));
    quickPicks.length = 0;
    await setup.load();
    await new Promise((r) => setTimeout(r, 10));
    assert.equal(quickPicks.length, 1);
    assert.ok(!quickPicks[0]!.items.some((i) => i.id === 'demo'), 'no demo entry where none is installed');
    assert.equal(memento.get(CHOSEN_KEY), true);
    assert.deepEqual(events.filter((e) => e.type === 'setup').map((e) => (e as { phase: string }).phase).at(-1), 'none');
  });
});
