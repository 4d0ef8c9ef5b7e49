import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { CompletionCache, type CachedCompletion } from './completionCache';

describe('completion cache', () => {
  it('serves the rest of a suggestion while its first characters are typed', () => {
    const cache = new CompletionCache();
    cache.add({ uri: 'a.ts', prefix: 'const x = ', suffix: '\n', text: 'compute(1, 2);' });
    assert.equal(cache.lookup('a.ts', 'const x = ', '\n')?.text, 'compute(1, 2);');
    assert.equal(cache.lookup('a.ts', 'const x = comp', '\n')?.text, 'ute(1, 2);');
    assert.equal(cache.lookup('a.ts', 'const x = compx', '\n'), undefined, 'diverged');
    assert.equal(cache.lookup('a.ts', 'const x = compute(1, 2);', '\n'), undefined, 'fully typed: nothing left');
    assert.equal(cache.lookup('b.ts', 'const x = comp', '\n'), undefined, 'other document');
    assert.equal(cache.lookup('a.ts', 'const x = comp', '\n}'), undefined, 'other suffix');
    assert.equal(cache.lookup('a.ts', 'const x =', '\n'), undefined, 'deleted back past the prefix');
  });

  it('prefers the newest entry and respects capacity', () => {
    const cache = new CompletionCache(2);
    cache.add({ uri: 'a', prefix: 'p', suffix: '', text: 'one' });
    cache.add({ uri: 'a', prefix: 'p', suffix: '', text: 'other' });
    assert.equal(cache.size, 1);
    assert.equal(cache.lookup('a', 'p', '')?.text, 'other');
    cache.add({ uri: 'a', prefix: 'q', suffix: '', text: 'x' });
    cache.add({ uri: 'a', prefix: 'r', suffix: '', text: 'y' });
    assert.equal(cache.size, 2);
    assert.equal(cache.lookup('a', 'p', ''), undefined);
    cache.dropDocument('a');
    assert.equal(cache.size, 0);
  });

  it('agrees with a naive oracle', () => {
    const entry = fc.record({ uri: fc.constantFrom('a', 'b'), prefix: fc.string({ maxLength: 4, unit: fc.constantFrom('x', 'y') }), suffix: fc.constantFrom('', ')'), text: fc.string({ maxLength: 4, unit: fc.constantFrom('x', 'y') }) });
    fc.assert(fc.property(fc.array(entry, { maxLength: 8 }), entry, (entries: CachedCompletion[], q) => {
      const cache = new CompletionCache(100);
      for (const e of entries) cache.add(e);
      // Later duplicates (same document, prefix and suffix) replace earlier ones; empty texts are never stored.
      const kept = entries.filter((e, i) => e.text.length > 0 && !entries.slice(i + 1).some((l) => l.text.length > 0 && l.uri === e.uri && l.prefix === e.prefix && l.suffix === e.suffix));
      // Oracle: the newest entry whose prefix plus a proper prefix of its text equals the query's prefix.
      const newest = [...kept].reverse().find((e) => e.uri === q.uri && e.suffix === q.suffix && q.prefix.startsWith(e.prefix) && (() => {
        const typed = q.prefix.slice(e.prefix.length);
        return typed.length < e.text.length && e.text.startsWith(typed);
      })());
      const got = cache.lookup(q.uri, q.prefix, q.suffix)?.text;
      assert.equal(got, newest ? newest.text.slice(q.prefix.length - newest.prefix.length) : undefined);
      assert.ok(got === undefined || got.length > 0);
    }));
  });
});
