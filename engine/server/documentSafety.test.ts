// The engine's own secret filter: whatever a client sends, a secret never enters the document store (and so never
// reaches the drafter's index or chat retrieval).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { HARMLESS_FILES, PLANTED_SECRETS } from '../protocol/secretFixtures';
import { editedRanges } from '../protocol/fileSafety';
import { applyChanges, DocumentStore } from './documents';
import { Engine } from './engine';

const uriOf = (rel: string): string => `file:///home/u/ws/${rel.split('/').map(encodeURIComponent).join('/')}`;

describe('engine document filter', () => {
  it('refuses every planted secret sent as a workspace file or an editor, and keeps the harmless files', () => {
    const logs: string[] = [];
    const engine = new Engine({ status: () => undefined, log: (_level: string, message: string) => logs.push(message), loadProgress: () => undefined, partial: () => undefined });
    engine.initialize({ clientName: 'test', clientVersion: '0' });
    for (const [i, s] of PLANTED_SECRETS.entries()) {
      engine.openDocument({ uri: uriOf(s.path), text: s.text, version: 1, source: i % 2 ? 'editor' : 'workspace' });
    }
    for (const f of HARMLESS_FILES) engine.openDocument({ uri: uriOf(f.path), text: f.text, version: 1, source: 'workspace' });
    const indexed = engine.indexedDocuments().uris;
    assert.deepEqual(indexed, HARMLESS_FILES.map((f) => uriOf(f.path)).sort());
    // The log names the rule, never the secret itself.
    assert.ok(logs.some((l) => /refused/.test(l)));
    for (const s of PLANTED_SECRETS.filter((x) => x.by === 'content')) assert.ok(!logs.some((l) => l.includes(s.text.trim())), s.path);
  });

  it('drops a document once an edit types or pastes a secret into it', () => {
    const store = new DocumentStore(1_000_000);
    assert.equal(store.open('file:///ws/src/a.ts', 'const a = 1;\n', 1, 'editor'), undefined);
    const key = 'gh' + 'p_' + 'Z9'.repeat(20);
    // Typed in two halves: the second edit completes the token.
    assert.equal(store.change('file:///ws/src/a.ts', 2, [{ rangeOffset: 13, rangeLength: 0, text: `const k = '${key.slice(0, 10)}` }]), undefined);
    assert.match(store.change('file:///ws/src/a.ts', 3, [{ rangeOffset: 33, rangeLength: 0, text: `${key.slice(10)}';\n` }])!, /refused.*github-token/);
    assert.equal(store.get('file:///ws/src/a.ts'), undefined);
    assert.deepEqual(store.takeChanges().removed, ['file:///ws/src/a.ts']);
  });

  it('applies the user patterns the client passes at initialize', () => {
    const engine = new Engine({ status: () => undefined, log: () => undefined, loadProgress: () => undefined, partial: () => undefined });
    engine.initialize({ clientName: 'test', clientVersion: '0', secretPatterns: ['*.secret'] });
    engine.openDocument({ uri: uriOf('conf/db.secret'), text: 'password', version: 1, source: 'workspace' });
    engine.openDocument({ uri: uriOf('conf/db.yaml'), text: 'host: db', version: 1, source: 'workspace' });
    assert.deepEqual(engine.indexedDocuments().uris, [uriOf('conf/db.yaml')]);
  });

  it('editedRanges covers every inserted character, like a character-tagging oracle', () => {
    fc.assert(fc.property(fc.string({ maxLength: 40 }), fc.array(fc.tuple(fc.nat(), fc.nat({ max: 6 }), fc.string({ maxLength: 5 })), { maxLength: 6 }), (base, raw) => {
      // Oracle: tag each character as old or new while applying the changes one by one.
      let tagged = [...base].map((ch) => ({ ch, isNew: false }));
      const changes = raw.map(([at, len, text]) => {
        const rangeOffset = at % (tagged.length + 1);
        const rangeLength = Math.min(len, tagged.length - rangeOffset);
        tagged = [...tagged.slice(0, rangeOffset), ...[...text].map((ch) => ({ ch, isNew: true })), ...tagged.slice(rangeOffset + rangeLength)];
        return { rangeOffset, rangeLength, text };
      });
      const finalText = applyChanges(base, changes);
      assert.equal(finalText, tagged.map((t) => t.ch).join(''));
      const ranges = editedRanges(changes);
      tagged.forEach((t, i) => {
        if (t.isNew) assert.ok(ranges.some((r) => r.start <= i && i < r.end), `new character at ${i} is outside every range`);
      });
    }), { numRuns: 300 });
  });
});
