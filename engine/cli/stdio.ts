// `stdio`: the JSON-RPC engine over stdin/stdout (the VS Code extension spawns this).
// Optional: --model DIR loads a model at startup; --drafter NAME; --max-document-chars N.
import { startRpcServer } from '../server/rpc';
import { flag, numberFlag, parseArgs } from './args';

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv);
  // stdout carries the protocol: anything else printed there would corrupt it.
  console.log = (...a: unknown[]) => process.stderr.write(a.map(String).join(' ') + '\n');
  const server = startRpcServer(process.stdin, process.stdout, {
    drafter: flag(args, 'drafter') ?? 'hybrid',
    maxDocumentChars: numberFlag(args, 'max-document-chars', 1_000_000),
  });
  const storageDir = flag(args, 'storage-dir');
  if (storageDir) server.engine.initialize({ clientName: 'cli', clientVersion: '0', storageDir });
  const model = flag(args, 'model');
  if (model) {
    server.engine.loadModel({ model }).catch((err: unknown) => process.stderr.write(`presage: loading ${model} failed: ${(err as Error).message}\n`));
  }
  await server.closed;
  server.connection.dispose();
  // Give stdout a moment to flush the last reply, then leave even if a native handle lingers.
  setTimeout(() => process.exit(0), 100);
  return 0;
}
