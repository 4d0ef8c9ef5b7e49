import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { RequestQueue } from '../decode/queue';
import { TextStream } from '../decode/textStream';
import { indentBlockEndRule } from '../complete/indentBlockEnd';
import { applyChanges, DocumentStore } from './documents';
import { decodeHistory, encodeHistory, loadHistory, saveHistory } from './history';
import { retrieveSnippets } from './retrieval';
import { percentile } from './stats';
import { sharedPath } from '../sharedPaths';

test('incremental changes match a naive splice oracle', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 60 }), fc.array(fc.tuple(fc.nat(), fc.nat(), fc.string({ maxLength: 8 })), { maxLength: 8 }), (text, edits) => {
      let naive = text;
      const changes = edits.map(([a, b, t]) => {
        const off = a % (naive.length + 1);
        const len = b % (naive.length - off + 1);
        naive = naive.slice(0, off) + t + naive.slice(off + len);
        return { rangeOffset: off, rangeLength: len, text: t };
      });
      assert.equal(applyChanges(text, changes), naive);
    }),
    { numRuns: 300 },
  );
  assert.throws(() => applyChanges('abc', [{ rangeOffset: 2, rangeLength: 5, text: '' }]), /outside the document/);
});

test('document store: size cap, stale versions, removal and re-indexing', () => {
  const store = new DocumentStore(10);
  assert.match(store.open('a', 'x'.repeat(11), 1, 'workspace')!, /over the 10 cap/);
  assert.equal(store.open('b', 'hello', 1, 'editor'), undefined);
  assert.match(store.change('b', 1, [{ rangeOffset: 0, rangeLength: 1, text: 'j' }])!, /not newer/);
  assert.equal(store.change('b', 2, [{ rangeOffset: 0, rangeLength: 1, text: 'j' }]), undefined);
  assert.equal(store.get('b')!.text, 'jello');
  assert.match(store.change('b', 3, [{ rangeOffset: 0, rangeLength: 0, text: 'long text!!' }])!, /removed from the index/);
  assert.equal(store.get('b'), undefined);
  assert.match(store.change('zz', 1, [])!, /not open/);
  store.open('c', 'abc', 1, 'editor');
  const first = store.takeChanges();
  assert.deepEqual(first.dirty.map((d) => d.uri), ['c']);
  assert.deepEqual(first.removed, ['b']);
  assert.deepEqual(store.takeChanges(), { dirty: [], removed: [] });
});

test('history file: round trip, corrupt and foreign files are rejected with clear errors', () => {
  const payload = new Uint8Array([1, 2, 3, 4, 5]);
  const data = encodeHistory('tok:abc', payload);
  assert.deepEqual(decodeHistory(data, 'tok:abc'), payload);
  assert.throws(() => decodeHistory(data, 'tok:other'), /another tokenizer/);
  assert.throws(() => decodeHistory(data.slice(0, data.length - 1), 'tok:abc'), /payload is 4 bytes, header says 5/);
  assert.throws(() => decodeHistory(new Uint8Array([1, 2, 3]), 'tok:abc'), /bad magic/);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'presage-hist-'));
  try {
    saveHistory(dir, 'tok:abc', payload);
    const warnings: string[] = [];
    assert.deepEqual(loadHistory(dir, 'tok:abc', (w) => warnings.push(w)), payload);
    fs.writeFileSync(path.join(dir, 'history.bin'), 'garbage!garbage!garbage!');
    assert.equal(loadHistory(dir, 'tok:abc', (w) => warnings.push(w)), undefined);
    assert.match(warnings[0]!, /discarding .*bad magic/);
    assert.ok(!fs.existsSync(path.join(dir, 'history.bin')));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('retrieval ranks windows by shared identifiers and skips excluded files', () => {
  const docs = [
    { uri: 'a.ts', text: 'export function parseConfig(path: string) {\n  return readJson(path);\n}\n' },
    { uri: 'b.ts', text: 'const unrelated = 1;\n' },
    { uri: 'c.ts', text: 'import { parseConfig } from "./a";\nparseConfig("x");\n' },
  ];
  const hits = retrieveSnippets(docs, 'Where is parseConfig reading JSON with readJson?');
  assert.deepEqual(hits.map((h) => h.uri), ['a.ts', 'c.ts']);
  assert.equal(hits[0]!.startLine, 0);
  assert.deepEqual(retrieveSnippets(docs, 'parseConfig', { exclude: new Set(['a.ts']) }).map((h) => h.uri), ['c.ts']);
  assert.deepEqual(retrieveSnippets(docs, 'the and for'), []);
});

test('indentation block-end rule cuts before the first dedented line', () => {
  const rule = indentBlockEndRule('def f(x):\n    ');
  assert.equal(rule('y = x + 1\n    return y\n'), -1);
  const text = 'y = x + 1\n    return y\n\ndef g():\n';
  assert.equal(rule(text), text.indexOf('\n\ndef g') + 1);
  assert.equal(indentBlockEndRule('if (a) {\n  ')('b();\n  c();\n}\nnext();\n'), 'b();\n  c();'.length);
});

test('text stream: deltas always add up to the final text, stop strings never leak', () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 40 }), fc.integer({ min: 1, max: 6 }), fc.constantFrom('', 'cd', 'ee', 'bca'), (tokens, chunk, stop) => {
      const decode = (ids: readonly number[]): string => ids.map((t) => 'abcdef'[t]).join('');
      const stream = new TextStream({ decode, ...(stop ? { stop: [stop] } : {}) });
      let out = '';
      for (let i = 0; i < tokens.length && !stream.stopped; i += chunk) out += stream.push(tokens.slice(i, i + chunk));
      out += stream.finish();
      const full = decode(tokens);
      const cut = stop ? full.indexOf(stop) : -1;
      assert.equal(stream.text, cut >= 0 ? full.slice(0, cut) : full);
      assert.equal(out, stream.text);
    }),
    { numRuns: 300 },
  );
});

test('request queue: serialized in order, stale requests of a group cancelled, caller signals honoured', async () => {
  const q = new RequestQueue();
  const log: string[] = [];
  const job = (name: string, ms: number) => async (signal: AbortSignal): Promise<string> => {
    log.push(`start ${name}`);
    const t0 = Date.now();
    while (Date.now() - t0 < ms && !signal.aborted) await new Promise((r) => setTimeout(r, 1));
    log.push(`end ${name}`);
    return signal.aborted ? `${name} cancelled` : `${name} done`;
  };
  const a = q.enqueue({ run: job('a', 30), group: 'complete' });
  const b = q.enqueue({ run: job('b', 5), group: 'chat' });
  const c = q.enqueue({ run: job('c', 5), group: 'complete', cancelStale: true });
  const controller = new AbortController();
  const d = q.enqueue({ run: job('d', 50), signal: controller.signal });
  controller.abort();
  assert.deepEqual(await Promise.all([a, b, c, d]), ['a cancelled', 'b done', 'c done', 'd cancelled']);
  assert.deepEqual(log, ['start a', 'end a', 'start b', 'end b', 'start c', 'end c', 'start d', 'end d']);
  assert.equal(q.size, 0);
});

test('percentile', () => {
  assert.equal(percentile([], 0.5), 0);
  assert.equal(percentile([5, 1, 3], 0.5), 3);
  assert.equal(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.95), 10);
});

test('incremental decoding equals a full decode on real tokenizers (multi-byte text, odd chunking)', async () => {
  const { loadTokenizer } = await import('../tokenizer');
  const samples = ['def f(x):\n    return x  # ünïcödé ✓ 漢字 🙂\n', '    const y = `${a}` + "b";\n\tindent\n', ' leading space, then , punctuation ; ok\n'];
  for (const dir of [sharedPath('tokenizers/gpt2'), sharedPath('tokenizers/cl100k')]) {
    const tok = loadTokenizer(dir);
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...samples), { minLength: 1, maxLength: 12 }), fc.integer({ min: 1, max: 7 }), (parts, chunk) => {
        const ids = tok.encode(parts.join(''));
        const stream = new TextStream({ decode: (x) => tok.decode(x) });
        let out = '';
        for (let i = 0; i < ids.length; i += chunk) out += stream.push(ids.slice(i, i + chunk));
        out += stream.finish();
        assert.equal(stream.text, tok.decode(ids));
        assert.equal(out, stream.text);
      }),
      { numRuns: 40 },
    );
  }
});
