// The download against a loopback hub: progress, cancel, resume after a kill (HTTP Range onto the kept .part),
// checksum mismatch (clear error, partial file removed), and the reasons a repo cannot be used.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startHub } from '../testing/loopbackHub';
import { ChecksumMismatch, DownloadCancelled, downloadModel, isDownloaded, isRepoId, ModelChoiceError, modelFolder, probeRepo, wantedFile } from './download';

describe('model download from a Hugging Face layout', () => {
  // Not a constant fill: a resumed file with a gap or a repeat would not hash the same.
  const weights = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 31 + (i >> 8)) & 0xff));
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
    hub = await startHub({
      'acme/tiny-coder': repo, 'acme/no-weights': { 'config.json': Buffer.from('{}') }, 'acme/slow': repo, 'acme/killed': repo, 'acme/corrupt': repo,
      'acme/no-config': { 'model.safetensors': weights },
    }, { slowFile: 'model.safetensors', wrongSha256: ['acme/corrupt/model.safetensors'] });
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

  it('is cancellable mid-file: no finished file or marker, the .part kept, and the next call resumes it with a Range request', async () => {
    const dir = modelFolder(tmp, 'acme/slow');
    const controller = new AbortController();
    const run = downloadModel('acme/slow', dir, {
      hubUrl: hub.url, signal: controller.signal,
      onProgress: (p) => p.file === 'model.safetensors' && p.bytes > 20_000 && controller.abort(),
    });
    await assert.rejects(run, DownloadCancelled);
    assert.equal(isDownloaded(dir), false);
    assert.equal(fs.existsSync(path.join(dir, 'model.safetensors')), false);
    const kept = fs.statSync(path.join(dir, 'model.safetensors.part')).size;
    assert.ok(kept > 0 && kept < weights.length, `kept ${kept}`);
    const progress: number[] = [];
    await downloadModel('acme/slow', dir, { hubUrl: hub.url, onProgress: (p) => p.file === 'model.safetensors' && progress.push(p.bytes) });
    assert.ok(hub.ranges.includes(`model.safetensors bytes=${kept}-`), hub.ranges.join());
    assert.deepEqual(fs.readFileSync(path.join(dir, 'model.safetensors')), weights);
    assert.ok(isDownloaded(dir));
    assert.ok(progress[0]! >= kept, 'progress counts the bytes already there');
  });

  it('resumes after the downloading process was killed: the partial file is kept and continued with HTTP Range', async () => {
    const dir = modelFolder(tmp, 'acme/killed');
    const part = path.join(dir, 'model.safetensors.part');
    const script = `require(${JSON.stringify(path.join(__dirname, 'download.ts'))}).downloadModel('acme/killed', ${JSON.stringify(dir)}, { hubUrl: ${JSON.stringify(hub.url)} });`;
    const child = spawn(process.execPath, ['--import', 'tsx', '-e', script], { stdio: 'ignore' });
    const exited = new Promise<NodeJS.Signals | null>((r) => child.on('exit', (_code, signal) => r(signal)));
    for (let i = 0; i < 600 && !(fs.existsSync(part) && fs.statSync(part).size > 60_000); i++) await new Promise((r) => setTimeout(r, 25));
    child.kill('SIGKILL');
    assert.equal(await exited, 'SIGKILL');
    const kept = fs.statSync(part).size;
    assert.ok(kept > 60_000 && kept < weights.length, `kept ${kept} of ${weights.length}`);
    const before = hub.ranges.length;
    await downloadModel('acme/killed', dir, { hubUrl: hub.url });
    assert.deepEqual(hub.ranges.slice(before), [`model.safetensors bytes=${kept}-`]);
    assert.deepEqual(fs.readFileSync(path.join(dir, 'model.safetensors')), weights);
    assert.equal(fs.existsSync(part), false);
    assert.ok(isDownloaded(dir));
  });

  it('a checksum mismatch is a clear error naming the file, and the partial file is removed', async () => {
    const dir = modelFolder(tmp, 'acme/corrupt');
    await assert.rejects(downloadModel('acme/corrupt', dir, { hubUrl: hub.url }), (err: Error) => {
      assert.ok(err instanceof ChecksumMismatch);
      assert.match(err.message, /checksum mismatch for acme\/corrupt\/model\.safetensors: sha256 [0-9a-f]{64}, the hub says [0-9a-f]{64}; the partial file was removed/);
      return true;
    });
    assert.equal(fs.existsSync(path.join(dir, 'model.safetensors.part')), false);
    assert.equal(fs.existsSync(path.join(dir, 'model.safetensors')), false);
    assert.equal(isDownloaded(dir), false);
    // Small files are checked against their git blob id: the config arrived intact.
    assert.equal(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'), '{"model_type":"llama"}');
  });

  it('says why a repo cannot be used: not found, offline, no safetensors, no config.json', async () => {
    const problem = async (repo: string, hubUrl = hub.url): Promise<string> => {
      try {
        await probeRepo(repo, { hubUrl });
      } catch (err) {
        assert.ok(err instanceof ModelChoiceError, String(err));
        return `${err.problem}: ${err.message}`;
      }
      return 'ok';
    };
    assert.match(await problem('acme/missing'), /^repository not found: repository not found: acme\/missing/);
    assert.match(await problem('acme/no-weights'), /^no safetensors: .*no \.safetensors weights/);
    assert.match(await problem('acme/no-config'), /^no config\.json: /);
    // A port nobody listens on: the machine is "offline" as far as the hub goes.
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', () => r()));
    const port = (closed.address() as { port: number }).port;
    await new Promise<void>((r) => closed.close(() => r()));
    assert.match(await problem('acme/tiny-coder', `http://127.0.0.1:${port}`), /^offline: offline: cannot reach 127\.0\.0\.1:\d+ .*ECONNREFUSED/);
    assert.equal(await problem('acme/tiny-coder'), 'ok');
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
