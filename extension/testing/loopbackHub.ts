// A minimal Hugging Face hub on 127.0.0.1 for tests: the tree API (LFS metadata with the sha256 for *.safetensors,
// git blob ids for the rest, as the real hub gives) and `resolve` with byte ranges (`bytes=s-e` and `bytes=s-`).
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface HubOptions {
  /** Trickle this file (1 KiB every 5 ms) so a cancellation or a kill lands mid-file. */
  slowFile?: string;
  /** "owner/name/path": the tree claims a different sha256 than the bytes served (a corrupted transfer). */
  wrongSha256?: string[];
}

export interface LoopbackHub {
  url: string;
  server: http.Server;
  /** "METHOD /path" of every request. */
  requests: string[];
  /** "path range-header" of every resolve request that carried a Range header. */
  ranges: string[];
}

const sha256 = (b: Buffer): string => crypto.createHash('sha256').update(b).digest('hex');
const gitOid = (b: Buffer): string => crypto.createHash('sha1').update(`blob ${b.length}\0`).update(b).digest('hex');

export function startHub(repos: Record<string, Record<string, Buffer>>, opts: HubOptions = {}): Promise<LoopbackHub> {
  const requests: string[] = [];
  const ranges: string[] = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    requests.push(`${req.method} ${url.pathname}`);
    const tree = /^\/api\/models\/([^/]+\/[^/]+)\/tree\/main$/.exec(url.pathname);
    if (tree) {
      const files = repos[tree[1]!];
      if (!files) return void res.writeHead(404, { 'X-Error-Code': 'RepoNotFound' }).end('{"error":"Repository not found"}');
      res.writeHead(200, { 'Content-Type': 'application/json' });
      return void res.end(JSON.stringify(Object.entries(files).map(([p, b]) => {
        if (!p.endsWith('.safetensors')) return { type: 'file', path: p, size: b.length, oid: gitOid(b) };
        const oid = opts.wrongSha256?.includes(`${tree[1]}/${p}`) ? sha256(Buffer.concat([b, Buffer.from('x')])) : sha256(b);
        return { type: 'file', path: p, size: b.length, oid: gitOid(Buffer.from(`pointer ${oid}`)), lfs: { oid, size: b.length, pointerSize: 134 } };
      })));
    }
    const resolve = /^\/([^/]+\/[^/]+)\/resolve\/main\/(.+)$/.exec(url.pathname);
    const body = resolve ? repos[resolve[1]!]?.[decodeURIComponent(resolve[2]!)] : undefined;
    if (!body) return void res.writeHead(404, { 'X-Error-Code': 'EntryNotFound' }).end('not found');
    let from = 0;
    const range = /^bytes=(\d+)-(\d*)$/.exec(String(req.headers.range ?? ''));
    if (range) {
      ranges.push(`${resolve![2]} ${req.headers.range}`);
      const [s, e] = [Number(range[1]), range[2] ? Math.min(Number(range[2]), body.length - 1) : body.length - 1];
      if (s >= body.length) return void res.writeHead(416, { 'Content-Range': `bytes */${body.length}` }).end();
      res.writeHead(206, { 'Content-Range': `bytes ${s}-${e}/${body.length}`, ETag: `"${body.length}"`, 'Content-Length': e - s + 1 });
      if (!(opts.slowFile && resolve![2] === opts.slowFile)) return void res.end(body.subarray(s, e + 1));
      from = s;
    } else {
      res.writeHead(200, { ETag: `"${body.length}"`, 'Content-Length': body.length });
    }
    if (opts.slowFile && resolve![2] === opts.slowFile) {
      let i = from;
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
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, requests, ranges })));
}
