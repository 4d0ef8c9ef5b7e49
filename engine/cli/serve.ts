// `serve --port N [--host 127.0.0.1] [--token T] --model DIR`: the OpenAI-compatible HTTP server.
// A host beyond loopback needs --allow-remote and a token given by the caller (--token or PRESAGE_TOKEN):
// the API is plain HTTP, so anyone on the network who learns the token can use the model.
import crypto from 'node:crypto';
import path from 'node:path';
import { Engine } from '../server/engine';
import { createHttpServer } from '../server/http';
import { boolFlag, flag, numberFlag, parseArgs, requireFlag } from './args';
import type { Device } from '../protocol';

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, ['allow-remote']);
  const model = requireFlag(args, 'model');
  const port = numberFlag(args, 'port', 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be an integer in [0, 65535], got ${port}`);
  const host = flag(args, 'host') ?? '127.0.0.1';
  const given = flag(args, 'token') ?? process.env.PRESAGE_TOKEN;
  if (!LOOPBACK.has(host)) {
    if (!boolFlag(args, 'allow-remote')) throw new Error(`--host ${host} is reachable beyond this machine over plain HTTP; add --allow-remote (and --token) to mean it, or use 127.0.0.1`);
    if (!given || given === 'true' || given.length < 16) throw new Error(`--host ${host} with --allow-remote needs a token of at least 16 characters (--token or PRESAGE_TOKEN)`);
    process.stderr.write(
      `presage: ********************************************************************\n` +
      `presage: WARNING: listening on ${host}: every machine that can reach it can send\n` +
      `presage: requests, over plain HTTP (unencrypted). Only the bearer token stops them.\n` +
      `presage: ********************************************************************\n`,
    );
  }
  const token = given && given !== 'true' ? given : crypto.randomBytes(24).toString('base64url');
  const log = (m: string): void => void process.stderr.write(`presage: ${m}\n`);
  const engine = new Engine(
    { status: () => undefined, log: (level, m) => log(`${level}: ${m}`), loadProgress: () => undefined, partial: () => undefined },
    { drafter: flag(args, 'drafter') ?? 'hybrid' },
  );
  const storageDir = flag(args, 'storage-dir');
  engine.initialize({ clientName: 'serve', clientVersion: '0', ...(storageDir ? { storageDir } : {}) });
  const device = flag(args, 'device') as Device | undefined;
  const quantization = flag(args, 'quantization') as 'none' | 'int8' | 'int4' | undefined;
  const cacheDir = flag(args, 'cache-dir');
  const loaded = await engine.loadModel({ model, ...(device ? { device } : {}), ...(quantization ? { quantization } : {}), ...(cacheDir ? { cacheDir } : {}) });
  const server = createHttpServer({ engine, token, modelName: path.basename(path.resolve(model)), log });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  const address = server.address();
  const actualPort = typeof address === 'object' && address ? address.port : port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${actualPort}/v1`;
  // One JSON line on stdout for scripts; the token is printed only when it was generated here.
  process.stdout.write(JSON.stringify({ url, ...(given ? {} : { token }), model: loaded.model, load_ms: Math.round(loaded.loadMs) }) + '\n');
  const stop = (): void => {
    server.close();
    void engine.shutdown().finally(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  await new Promise<void>((resolve) => server.once('close', resolve));
  return 0;
}
