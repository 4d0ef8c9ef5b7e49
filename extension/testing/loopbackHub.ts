// A minimal Hugging Face hub on 127.0.0.1 for tests: the tree API and `resolve` with byte ranges.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export function startHub(repos: Record<string, Record<string, Buffer>>, opts: { slowFile?: string } = {}): Promise<{ url: string; server: http.Server; requests: string[] }> {
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

