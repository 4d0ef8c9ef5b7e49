// The indexer against a real folder through the fake workspace API: what reaches the engine. Every planted secret
// (engine/protocol/secretFixtures.ts: keys, keystores, credentials, .env, nested .git, tokens under harmless names,
// symbolic links) never does, not as workspace files and not as open editors; .gitignore is respected; restricted
// mode sends only open editors; edits go as incremental changes.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { HARMLESS_FILES, PLANTED_SECRETS } from '../../engine/protocol/secretFixtures';
import { fakeCtx, FakeEngineClient } from '../testing/fakeEngineClient';
import { closedDocuments, EventEmitter, fakeDocument, fakeSettings, fakeVscode, installFakeVscode, opened, Uri } from '../testing/fakeVscode';

installFakeVscode();

let root: string;
/** A folder outside the workspace that a planted link points into. */
let outside: string;
const uriOf = (p: string) => Uri.file(p);

const events = { change: new EventEmitter<unknown>(), trust: new EventEmitter<void>(), folders: new EventEmitter<void>() };
const workspace = fakeVscode.workspace as Record<string, unknown>;
const state = { trusted: true, textDocuments: [] as unknown[] };

function walk(dir: string, out: string[] = []): string[] {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, e.name);
    // Like VS Code's search: links are followed, .git folders listed too (the indexer must leave them out itself).
    if (e.isDirectory() || (e.isSymbolicLink() && fs.statSync(full).isDirectory())) walk(full, out);
    else out.push(full);
  }
  return out;
}

// The workspace is a real folder: getters stay getters (Object.assign would copy their current values).
Object.defineProperties(workspace, {
  isTrusted: { get: () => state.trusted, configurable: true },
  textDocuments: { get: () => state.textDocuments, configurable: true },
  workspaceFolders: { get: () => [{ uri: uriOf(root), name: 'w', index: 0 }], configurable: true },
});
Object.assign(workspace, {
  onDidChangeTextDocument: events.change.event,
  onDidGrantWorkspaceTrust: events.trust.event,
  onDidChangeWorkspaceFolders: events.folders.event,
  asRelativePath: (u: { fsPath: string } | string) => path.relative(root, typeof u === 'string' ? u : u.fsPath).split(path.sep).join('/'),
  getWorkspaceFolder: (u: { fsPath: string }) => (u.fsPath.startsWith(root + path.sep) ? { uri: uriOf(root) } : undefined),
  findFiles: async (include: string) => {
    const all = walk(root);
    const picked = include === '**/.gitignore' ? all.filter((f) => path.basename(f) === '.gitignore') : all;
    return picked.map(uriOf);
  },
  fs: {
    stat: async (u: { fsPath: string }) => {
      const st = fs.statSync(u.fsPath);
      return { type: (st.isDirectory() ? 2 : 1) | (fs.lstatSync(u.fsPath).isSymbolicLink() ? 64 : 0), size: st.size };
    },
    readFile: async (u: { fsPath: string }) => new Uint8Array(fs.readFileSync(u.fsPath)),
  },
});
const visible = new EventEmitter<unknown[]>();
const windowState = { visibleTextEditors: [] as unknown[] };
Object.defineProperty(fakeVscode.window, 'visibleTextEditors', { get: () => windowState.visibleTextEditors, configurable: true });
(fakeVscode.window as Record<string, unknown>).onDidChangeVisibleTextEditors = visible.event;

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { Indexer } = require('./indexer') as typeof import('./indexer');

const rel = (uri: string): string => uri.replace(`file://${root}/`, '');

function makeIndexer() {
  const client = new FakeEngineClient();
  const ctx = fakeCtx(client);
  const indexer = new Indexer(ctx);
  const uris = (method: string): string[] => client.sent(method).map((p) => rel(String(p.uri))).sort();
  const texts = (): string => client.notifications.map((n) => JSON.stringify(n.params)).join('\n');
  return { client, indexer, ctx, uris, texts };
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

  it('a planted workspace with every kind of secret: none reaches the engine, the look-alikes do', async () => {
    const planted = fs.mkdtempSync(path.join(os.tmpdir(), 'presage-secrets-'));
    outside = fs.mkdtempSync(path.join(os.tmpdir(), 'presage-outside-'));
    const saved = root;
    root = planted;
    try {
      for (const f of [...PLANTED_SECRETS, ...HARMLESS_FILES]) {
        fs.mkdirSync(path.dirname(path.join(root, f.path)), { recursive: true });
        fs.writeFileSync(path.join(root, f.path), f.text);
      }
      // Links: a harmless name that points at a secret, and links that leave the workspace.
      fs.writeFileSync(path.join(outside, 'notes.md'), 'PRESAGE_TEST_OUTSIDE_FILE\n');
      fs.symlinkSync(path.join(root, '.env'), path.join(root, 'src/settings.txt'));
      fs.symlinkSync(path.join(outside, 'notes.md'), path.join(root, 'src/linked-notes.md'));
      fs.symlinkSync(outside, path.join(root, 'linked-folder'));
      fakeSettings.set('presage.index.secretPatterns', ['*.secret']);
      fs.writeFileSync(path.join(root, 'src/db.secret'), 'PRESAGE_TEST_USER_PATTERN\n');
      const { indexer, uris, texts, client } = makeIndexer();
      try {
        indexer.scanWorkspace();
        await settle();
        assert.deepEqual(uris('openDocument'), HARMLESS_FILES.map((f) => f.path).sort());
        const traffic = texts();
        for (const secret of PLANTED_SECRETS) assert.ok(!traffic.includes(JSON.stringify(secret.text).slice(1, -1)), `${secret.path} reached the engine`);
        assert.doesNotMatch(traffic, /PRESAGE_TEST_OUTSIDE_FILE|PRESAGE_TEST_USER_PATTERN/);
        // Open editors of the same files: none is sent either.
        for (const secret of PLANTED_SECRETS) opened.fire(fakeDocument(`file://${root}/${secret.path}`, secret.text, 'plaintext'));
        opened.fire(fakeDocument(`file://${root}/src/settings.txt`, fs.readFileSync(path.join(root, '.env'), 'utf8'), 'plaintext'));
        assert.deepEqual(uris('openDocument'), HARMLESS_FILES.map((f) => f.path).sort());
        // Show Indexed Files lists what it left out as "skipped: secret".
        client.handlers.set('indexedDocuments', () => ({ uris: client.sent('openDocument').map((p) => p.uri) }));
        const listing = await indexer.showIndex();
        for (const f of HARMLESS_FILES) assert.match(listing, new RegExp(`^${f.path.replace(/\./g, '\\.')}$`, 'm'));
        for (const secret of PLANTED_SECRETS.filter((x) => x.by !== 'vcs')) assert.ok(listing.includes(`skipped: secret  ${secret.path}`), `${secret.path} not listed as skipped`);
        assert.ok(listing.includes('skipped: secret  src/settings.txt'), 'the link to .env');
      } finally {
        indexer.dispose();
      }
    } finally {
      fakeSettings.delete('presage.index.secretPatterns');
      root = saved;
      fs.rmSync(planted, { recursive: true, force: true });
      fs.rmSync(outside, { recursive: true, force: true });
    }
  });

  it('sends workspace files but never secrets, ignored, binary or large files', async () => {
    const { indexer, uris, texts } = makeIndexer();
    indexer.scanWorkspace();
    await settle();
    assert.deepEqual(uris('openDocument'), ['.gitignore', 'src/inventory.py', 'src/shapes.ts']);
    assert.doesNotMatch(texts(), /PRESAGE_TEST_PLANTED_SECRET/);
    indexer.dispose();
  });

  it('reports indexing progress in files, ending with done equal to total', async () => {
    const { indexer, uris } = makeIndexer();
    const progress: Array<{ done: number; total: number }> = [];
    indexer.onProgress((p) => progress.push(p));
    indexer.scanWorkspace();
    assert.deepEqual(progress[0], { done: 0, total: 1 }, 'indexing 0% while the files are listed');
    await settle();
    const last = progress.at(-1)!;
    assert.ok(last.total >= uris('openDocument').length && last.total > 0, JSON.stringify(progress));
    assert.equal(last.done, last.total);
    assert.ok(progress.every((p, i) => i < 2 || p.done >= progress[i - 1]!.done), 'done never goes back within a scan');
    indexer.dispose();
  });

  it('never sends an open editor of a secret file; sends other editors and their edits incrementally', async () => {
    const { client, indexer, uris, texts } = makeIndexer();
    try {
    const env = fakeDocument(`file://${root}/.env`, 'API_KEY=PRESAGE_TEST_PLANTED_SECRET\n', 'dotenv');
    const key = fakeDocument(`file://${root}/id_rsa`, 'PRESAGE_TEST_PLANTED_SECRET', 'plaintext');
    const ts = fakeDocument(`file://${root}/src/new.ts`, 'let a = 1;\n');
    for (const d of [env, key, ts]) opened.fire(d);
    events.change.fire({ document: env, contentChanges: [{ rangeOffset: 0, rangeLength: 0, text: 'X' }] });
    ts.version = 2;
    events.change.fire({ document: ts, contentChanges: [{ rangeOffset: 8, rangeLength: 1, text: '2' }] });
    assert.deepEqual(uris('openDocument'), ['src/new.ts']);
    assert.deepEqual(client.sent('changeDocument').map((p) => p.changes), [[{ rangeOffset: 8, rangeLength: 1, text: '2' }]]);
    assert.doesNotMatch(texts(), /PRESAGE_TEST_PLANTED_SECRET/);
    assert.equal(indexer.isAllowed(env as never), false);
    assert.equal(indexer.isAllowed(ts as never), true);
    // Pasting a token into an open editor removes the document instead of sending the edit.
    const token = 'gh' + 'p_' + 'Q7'.repeat(18);
    ts.text = `let a = 2;\nconst t = '${token}';\n`;
    ts.version = 3;
    events.change.fire({ document: ts, contentChanges: [{ rangeOffset: 11, rangeLength: 0, text: `const t = '${token}';\n` }] });
    assert.deepEqual(uris('removeDocument'), ['src/new.ts']);
    assert.equal(indexer.isAllowed(ts as never), false);
    assert.ok(!texts().includes(token));
    // Closing an editor that is not a workspace file removes it.
    const other = fakeDocument(`file://${root}/src/other.ts`, 'let b = 1;\n');
    opened.fire(other);
    closedDocuments.fire(other);
    assert.deepEqual(uris('removeDocument'), ['src/new.ts', 'src/other.ts']);
    } finally {
      indexer.dispose();
    }
  });

  it('leaves out documents outside the workspace until they are shown in an editor', async () => {
    const { client, indexer } = makeIndexer();
    try {
      const settings = fakeDocument('file:///home/u/.config/Code/User/settings.json', '{"x": 1}', 'jsonc');
      opened.fire(settings);
      assert.equal(client.notifications.length, 0);
      windowState.visibleTextEditors = [{ document: settings }];
      visible.fire(windowState.visibleTextEditors);
      assert.deepEqual(client.notifications.map((n) => n.params.uri), ['file:///home/u/.config/Code/User/settings.json']);
    } finally {
      windowState.visibleTextEditors = [];
      indexer.dispose();
    }
  });

  it('in restricted mode sends open editors only, and the workspace once trust is granted', async () => {
    state.trusted = false;
    const { indexer, uris } = makeIndexer();
    try {
      const ts = fakeDocument(`file://${root}/src/shapes.ts`, 'export const area = 1;\n');
      state.textDocuments = [ts];
      indexer.resync();
      await settle();
      assert.deepEqual(uris('openDocument'), ['src/shapes.ts']);
      state.trusted = true;
      events.trust.fire();
      await settle();
      assert.deepEqual(uris('openDocument'), ['.gitignore', 'src/inventory.py', 'src/shapes.ts']);
    } finally {
      state.trusted = true;
      state.textDocuments = [];
      indexer.dispose();
    }
  });
});
