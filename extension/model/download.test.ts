import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startHub } from '../testing/loopbackHub';
import { DownloadCancelled, downloadModel, isDownloaded, isRepoId, modelFolder, wantedFile } from './download';

describe('model download from a Hugging Face layout', () => {
  const weights = Buffer.alloc(300_000, 7);
  const repo = {
    'config.json': Buffer.from('{"model_type":"llama"}'),
    'tokenizer.json': Buffer.from('{"model":{}}'),
    'model.safetensors': weights,
    'pytorch_model.bin': Buffer.alloc(10, 1),
    'README.md': Buffer.from('# tiny'),
  };
  let hub: Awaited<ReturnType<typeof startHub>>;
  let tmp: string;
  before(async () => {
    hub = await startHub({ 'acme/tiny-coder': repo, 'acme/no-weights': { 'config.json': Buffer.from('{}') }, 'acme/slow': repo }, { slowFile: 'model.safetensors' });
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'presage-dl-'));
  });
  after(() => {
    hub.server.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('downloads the checkpoint files with progress, and reuses a finished download', async () => {
    const dir = modelFolder(tmp, 'acme/tiny-coder');
    const progress: number[] = [];
    await downloadModel('acme/tiny-coder', dir, { hubUrl: hub.url, onProgress: (p) => progress.push(p.bytes / p.totalBytes) });
    assert.deepEqual(fs.readdirSync(dir).filter((f) => !f.startsWith('.')).sort(), ['config.json', 'model.safetensors', 'tokenizer.json']);
    assert.deepEqual(fs.readFileSync(path.join(dir, 'model.safetensors')), weights);
    assert.ok(isDownloaded(dir));
    assert.ok(progress.length >= 2 && progress.at(-1) === 1, `progress ${progress}`);
    assert.ok(progress.every((p, i) => i === 0 || p >= progress[i - 1]!));
    const before = hub.requests.length;
    await downloadModel('acme/tiny-coder', dir, { hubUrl: hub.url });
    assert.equal(hub.requests.length, before, 'no request for a finished download');
  });

  it('is cancellable mid-file and leaves no partial files or marker', async () => {
    const dir = modelFolder(tmp, 'acme/slow');
    const controller = new AbortController();
    const run = downloadModel('acme/slow', dir, {
      hubUrl: hub.url, signal: controller.signal,
      onProgress: (p) => p.file === 'model.safetensors' && p.bytes > 20_000 && controller.abort(),
    });
    await assert.rejects(run, DownloadCancelled);
    assert.equal(isDownloaded(dir), false);
    assert.deepEqual(fs.readdirSync(dir).filter((f) => f.endsWith('.part') || f === 'model.safetensors'), []);
  });

  it('reports clear errors for a missing repo or a repo without weights', async () => {
    await assert.rejects(downloadModel('acme/missing', path.join(tmp, 'm'), { hubUrl: hub.url }), /listing acme\/missing failed/);
    await assert.rejects(downloadModel('acme/no-weights', path.join(tmp, 'n'), { hubUrl: hub.url }), /no \.safetensors weights/);
    await assert.rejects(downloadModel('not a repo', path.join(tmp, 'o'), { hubUrl: hub.url }), /not a Hugging Face repo id/);
  });

  it('tells repo ids from folders and picks checkpoint files', () => {
    assert.equal(isRepoId('Qwen/Qwen2.5-Coder-0.5B'), true);
    assert.equal(isRepoId('/abs/path'), false);
    assert.equal(isRepoId('../x/y'), false);
    assert.equal(isRepoId(os.tmpdir().replace(/^\//, '') + '/..'), false);
    assert.deepEqual(['config.json', 'model-00001-of-00002.safetensors', 'model.safetensors.index.json', 'merges.txt', 'pytorch_model.bin', 'onnx/model.onnx', 'README.md'].filter(wantedFile),
      ['config.json', 'model-00001-of-00002.safetensors', 'model.safetensors.index.json', 'merges.txt']);
  });
});
