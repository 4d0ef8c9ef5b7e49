// The indexer against a real folder through a stand-in workspace API: what reaches the engine. A planted .env and
// id_rsa never do (not as workspace files, not as open editors); .gitignore is respected; restricted mode sends only
// open editors; edits go as incremental changes.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { EventEmitter, fakeDocument, fakeSettings, fakeVscode, installFakeVscode, memoryLog } from '../testing/fakeVscode';

installFakeVscode();

let root: string;
const uriOf = (p: string) => ({
  scheme: 'file', fsPath: p, path: p,
  toString: () => `file://${p}`,
});

const events = {
  open: new EventEmitter<unknown>(), change: new EventEmitter<unknown>(), close: new EventEmitter<unknown>(),
  trust: new EventEmitter<void>(), folders: new EventEmitter<void>(), config: new EventEmitter<unknown>(),
};
const workspace = fakeVscode.workspace as Record<string, unknown>;
const state = { trusted: true, textDocuments: [] as unknown[] };

function walk(dir: string, out: string[] = []): string[] {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) walk(full, out);
    else out.push(full);
  }
  return out;
}

// Getters must stay getters (Object.assign would copy their current values).
Object.defineProperties(workspace, {
  isTrusted: { get: () => state.trusted, configurable: true },
  textDocuments: { get: () => state.textDocuments, configurable: true },
  workspaceFolders: { get: () => [{ uri: uriOf(root), name: 'w', index: 0 }], configurable: true },
});
Object.assign(workspace, {
  onDidCloseTextDocument: events.close.event,
  onDidOpenTextDocument: events.open.event,
  onDidChangeTextDocument: events.change.event,
  onDidGrantWorkspaceTrust: events.trust.event,
  onDidChangeWorkspaceFolders: events.folders.event,
  onDidChangeConfiguration: events.config.event,
  createFileSystemWatcher: () => ({ onDidCreate: () => ({ dispose() {} }), onDidChange: () => ({ dispose() {} }), onDidDelete: () => ({ dispose() {} }), dispose() {} }),
  registerTextDocumentContentProvider: () => ({ dispose() {} }),
  asRelativePath: (u: { fsPath: string } | string) => path.relative(root, typeof u === 'string' ? u : u.fsPath).split(path.sep).join('/'),
  getWorkspaceFolder: (u: { fsPath: string }) => (u.fsPath.startsWith(root + path.sep) ? { uri: uriOf(root) } : undefined),
  findFiles: async (include: string) => {
    const all = walk(root);
    const picked = include === '**/.gitignore' ? all.filter((f) => path.basename(f) === '.gitignore') : all;
    return picked.map(uriOf);
  },
  fs: {
    stat: async (u: { fsPath: string }) => ({ type: fs.statSync(u.fsPath).isDirectory() ? 2 : 1, size: fs.statSync(u.fsPath).size }),
    readFile: async (u: { fsPath: string }) => new Uint8Array(fs.readFileSync(u.fsPath)),
  },
});
Object.assign(fakeVscode, {
  ProgressLocation: { Window: 10, Notification: 15 },
  FileType: { File: 1, Directory: 2 },
  Uri: { joinPath: (u: { fsPath: string }, ...p: string[]) => uriOf(path.join(u.fsPath, ...p)), from: (x: unknown) => x, parse: (s: string) => uriOf(s.replace('file://', '')) },
});
const visible = new EventEmitter<unknown[]>();
const windowState = { visibleTextEditors: [] as unknown[] };
Object.defineProperty(fakeVscode.window, 'visibleTextEditors', { get: () => windowState.visibleTextEditors, configurable: true });
(fakeVscode.window as Record<string, unknown>).onDidChangeVisibleTextEditors = visible.event;
(fakeVscode.window as Record<string, unknown>).withProgress = async (_o: unknown, task: (p: { report(): void }) => Promise<unknown>) => task({ report() {} });

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { Indexer } = require('./indexer') as typeof import('./indexer');

class FakeClient {
  isRunning = true;
  readonly sent: Array<{ method: string; params: Record<string, unknown> }> = [];
  private readonly _start = new EventEmitter<unknown>();
  readonly onDidStart = this._start.event;
  notify(type: { method: string }, params: Record<string, unknown>): void {
    this.sent.push({ method: type.method, params });
  }
  uris(method: string): string[] {
    return this.sent.filter((s) => s.method === method).map((s) => String(s.params.uri).replace(`file://${root}/`, '')).sort();
  }
  texts(): string {
    return this.sent.map((s) => JSON.stringify(s.params)).join('\n');
  }
}

function makeIndexer() {
  const client = new FakeClient();
  const ctx = { client, log: memoryLog() };
  const indexer = new Indexer(ctx as never);
  return { client, indexer };
}

async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((r) => setTimeout(r, 5));
}

describe('workspace indexer', () => {
  before(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'presage-index-'));
    const files: Record<string, string | Buffer> = {
      'src/shapes.ts': 'export const area = (w: number, h: number) => w * h;\n',
      'src/inventory.py': 'def count(items):\n    return len(items)\n',
      '.env': 'API_KEY=PRESAGE_TEST_PLANTED_SECRET\n',
      'config/.env.local': 'TOKEN=PRESAGE_TEST_PLANTED_SECRET\n',
      id_rsa: '-----BEGIN OPENSSH PRIVATE KEY-----\nPRESAGE_TEST_PLANTED_SECRET\n',
      'certs/server.pem': 'PRESAGE_TEST_PLANTED_SECRET',
      '.gitignore': 'build/\n*.log\n',
      'build/out.js': 'var generated = 1;\n',
      'debug.log': 'log line\n',
      'logo.png': Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 13, 0, 0]),
      'big.ts': 'x'.repeat(2000),
    };
    for (const [p, content] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(root, p)), { recursive: true });
      fs.writeFileSync(path.join(root, p), content);
    }
    fakeSettings.set('presage.index.maxFileBytes', 1000);
  });
  after(() => {
    fakeSettings.delete('presage.index.maxFileBytes');
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('sends workspace files but never secrets, ignored, binary or large files', async () => {
    const { client, indexer } = makeIndexer();
    indexer.scanWorkspace();
    await settle();
    assert.deepEqual(client.uris('openDocument'), ['.gitignore', 'src/inventory.py', 'src/shapes.ts']);
    assert.doesNotMatch(client.texts(), /PRESAGE_TEST_PLANTED_SECRET/);
    indexer.dispose();
  });

  it('never sends an open editor of a secret file; sends other editors and their edits incrementally', async () => {
    const { client, indexer } = makeIndexer();
    try {
    const env = fakeDocument(`file://${root}/.env`, 'API_KEY=PRESAGE_TEST_PLANTED_SECRET\n', 'dotenv');
    const key = fakeDocument(`file://${root}/id_rsa`, 'PRESAGE_TEST_PLANTED_SECRET', 'plaintext');
    const ts = fakeDocument(`file://${root}/src/new.ts`, 'let a = 1;\n');
    for (const d of [env, key, ts]) events.open.fire(d);
    events.change.fire({ document: env, contentChanges: [{ rangeOffset: 0, rangeLength: 0, text: 'X' }] });
    events.change.fire({ document: { ...ts, version: 2 }, contentChanges: [{ rangeOffset: 8, rangeLength: 1, text: '2' }] });
    assert.deepEqual(client.uris('openDocument'), ['src/new.ts']);
    assert.deepEqual(client.sent.filter((s) => s.method === 'changeDocument').map((s) => s.params.changes), [[{ rangeOffset: 8, rangeLength: 1, text: '2' }]]);
    assert.doesNotMatch(client.texts(), /PRESAGE_TEST_PLANTED_SECRET/);
    assert.equal(indexer.isAllowed(env as never), false);
    assert.equal(indexer.isAllowed(ts as never), true);
    // Closing an editor that is not a workspace file removes it.
    events.close.fire(ts);
    assert.deepEqual(client.uris('removeDocument'), ['src/new.ts']);
    } finally {
      indexer.dispose();
    }
  });

  it('leaves out documents outside the workspace until they are shown in an editor', async () => {
    const { client, indexer } = makeIndexer();
    try {
      const settings = fakeDocument('file:///home/u/.config/Code/User/settings.json', '{"x": 1}', 'jsonc');
      events.open.fire(settings);
      assert.equal(client.sent.length, 0);
      windowState.visibleTextEditors = [{ document: settings }];
      visible.fire(windowState.visibleTextEditors);
      assert.deepEqual(client.sent.map((s) => s.params.uri), ['file:///home/u/.config/Code/User/settings.json']);
    } finally {
      windowState.visibleTextEditors = [];
      indexer.dispose();
    }
  });

  it('in restricted mode sends open editors only, and the workspace once trust is granted', async () => {
    state.trusted = false;
    const { client, indexer } = makeIndexer();
    try {
      const ts = fakeDocument(`file://${root}/src/shapes.ts`, 'export const area = 1;\n');
      state.textDocuments = [ts];
      indexer.resync();
      await settle();
      assert.deepEqual(client.uris('openDocument'), ['src/shapes.ts']);
      state.trusted = true;
      events.trust.fire();
      await settle();
      assert.deepEqual(client.uris('openDocument'), ['.gitignore', 'src/inventory.py', 'src/shapes.ts']);
    } finally {
      state.trusted = true;
      state.textDocuments = [];
      indexer.dispose();
    }
  });
});
