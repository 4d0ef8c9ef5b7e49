// Model selection: empty setting (demo model or none), a local folder, a bad value, and a Hugging Face repo id
// downloaded through a loopback hub with progress, reused afterwards, and cancellable.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fakeCtx, FakeEngineClient } from '../testing/fakeEngineClient';
import { CancellationTokenSource, fakeSettings, fakeVscode, installFakeVscode } from '../testing/fakeVscode';
import { startHub } from '../testing/loopbackHub';

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
const { ModelSetup, demoModelPath } = require('./setup') as typeof import('./setup');
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
    hub = await startHub({ 'acme/coder': { 'config.json': Buffer.from('{}'), 'model.safetensors': Buffer.alloc(200_000, 1), 'tokenizer.json': Buffer.from('{}') } }, { slowFile: 'model.safetensors' });
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
    assert.deepEqual(await make(withDemo).resolve(), { path: path.join(withDemo, 'models', 'demo'), label: 'demo model' });
    assert.equal(demoModelPath(bare), undefined);
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
});
