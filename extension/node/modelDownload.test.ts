import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DownloadCancelled, downloadModel, isDownloaded, isRepoId, modelFolder, wantedFile } from './modelDownload';

/** A minimal hub on 127.0.0.1 in the Hugging Face layout: the tree API and `resolve` with byte ranges. */
function startHub(repos: Record<string, Record<string, Buffer>>, opts: { slowFile?: string } = {}): Promise<{ url: string; server: http.Server; requests: string[] }> {
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    requests.push(`${req.method} ${url.pathname}`);
    const tree = /^\/api\/models\/([^/]+\/[^/]+)\/tree\/main$/.exec(url.pathname);
    if (tree) {
      const files = repos[tree[1]!];
      if (!files) return void res.writeHead(404, { 'X-Error-Code': 'RepoNotFound' }).end('{"error":"Repository not found"}');
      res.writeHead(200, { 'Content-Type': 'application/json' });
      return void res.end(JSON.stringify(Object.entries(files).map(([p, b]) => ({ type: 'file', path: p, size: b.length, oid: String(b.length) }))));
    }
    const resolve = /^\/([^/]+\/[^/]+)\/resolve\/main\/(.+)$/.exec(url.pathname);
    const body = resolve ? repos[resolve[1]!]?.[decodeURIComponent(resolve[2]!)] : undefined;
    if (!body) return void res.writeHead(404, { 'X-Error-Code': 'EntryNotFound' }).end('not found');
    const range = /^bytes=(\d+)-(\d+)$/.exec(String(req.headers.range ?? ''));
    if (range) {
      const [s, e] = [Number(range[1]), Math.min(Number(range[2]), body.length - 1)];
      res.writeHead(206, { 'Content-Range': `bytes ${s}-${e}/${body.length}`, ETag: `"${body.length}"`, 'Content-Length': e - s + 1 });
      return void res.end(body.subarray(s, e + 1));
    }
    res.writeHead(200, { ETag: `"${body.length}"`, 'Content-Length': body.length });
    if (opts.slowFile && resolve![2] === opts.slowFile) {
      // Trickle the body so a cancellation lands mid-file.
      let i = 0;
      const timer = setInterval(() => {
        if (res.destroyed || i >= body.length) {
          clearInterval(timer);
          if (!res.destroyed) res.end();
          return;
        }
        res.write(body.subarray(i, i + 1024));
        i += 1024;
      }, 5);
      return;
    }
    res.end(body);
  });
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, requests })));
}

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
