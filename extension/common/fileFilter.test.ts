import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { expandBraces, FileFilter, looksBinary, plainFolderNames, toMatchPath } from './fileFilter';

describe('file filter', () => {
  it('never lets secrets through, at any depth and from absolute paths', () => {
    const f = new FileFilter();
    for (const p of ['.env', '.env.local', 'config/.env.production', 'id_rsa', 'home/u/.ssh/id_rsa.pub', 'certs/server.pem', 'tls.key', 'store.p12',
      '/home/user/project/.env', 'C:\\work\\proj\\id_rsa', '.env/inner.txt']) {
      assert.equal(f.skipReason(p), 'secret', p);
      assert.equal(f.isSecret(p), true, p);
    }
    for (const p of ['src/env.ts', 'environment.md', 'keyboard.ts', 'src/keys.ts', 'rsa.ts']) assert.equal(f.skipReason(p), undefined, p);
  });

  it('adds user secret patterns, rejecting empty ones', () => {
    const f = new FileFilter({ secretPatterns: ['*.secret', 'credentials/'] });
    assert.equal(f.skipReason('a/b/db.secret'), 'secret');
    assert.equal(f.skipReason('credentials/aws.json'), 'secret');
    assert.equal(f.skipReason('.env'), 'secret', 'defaults stay');
    assert.throws(() => new FileFilter({ secretPatterns: [''] }), /secretPatterns/);
  });

  it('respects .gitignore files at the root and in sub-folders', () => {
    const f = new FileFilter();
    f.addGitignore('', 'dist/\n*.log\n!keep.log\n');
    f.addGitignore('pkg', 'generated.ts\n/local-only\n');
    assert.equal(f.skipReason('dist/engine.js'), 'ignored');
    assert.equal(f.skipReason('dist', undefined, true), 'ignored');
    assert.equal(f.skipReason('out/a.log'), 'ignored');
    assert.equal(f.skipReason('keep.log'), undefined);
    assert.equal(f.skipReason('pkg/generated.ts'), 'ignored');
    assert.equal(f.skipReason('pkg/sub/generated.ts'), 'ignored');
    assert.equal(f.skipReason('generated.ts'), undefined, 'the sub-folder rule does not apply above it');
    assert.equal(f.skipReason('pkg/local-only'), 'ignored');
    assert.equal(f.skipReason('pkg/sub/local-only'), undefined, 'anchored rule');
    assert.equal(f.skipReason('.git/config'), 'ignored');
  });

  it('respects files.exclude globs (with braces) and size caps', () => {
    const f = new FileFilter({ excludes: { '**/node_modules': true, '**/*.{png,jpg}': true, '**/off': false }, maxFileBytes: 100 });
    assert.equal(f.skipReason('node_modules/x/index.js'), 'excluded');
    assert.equal(f.skipReason('a/b/logo.png'), 'excluded');
    assert.equal(f.skipReason('a/b/logo.jpg'), 'excluded');
    assert.equal(f.skipReason('off/a.ts'), undefined);
    assert.equal(f.skipReason('big.ts', 101), 'too-large');
    assert.equal(f.skipReason('small.ts', 100), undefined);
    assert.throws(() => new FileFilter({ maxFileBytes: 0 }), /maxFileBytes/);
  });

  it('plain ignored folders for the search exclude', () => {
    assert.deepEqual(plainFolderNames('dist/\n/build/\n*.log\nout\n!keep/\ncache-*/\r\n.venv/\n'), ['dist', 'build', '.venv']);
  });

  it('helpers', () => {
    assert.deepEqual(expandBraces('a.{x,y}.{1,2}'), ['a.x.1', 'a.x.2', 'a.y.1', 'a.y.2']);
    assert.equal(toMatchPath('./src//a.ts'.replace('//', '/')), 'src/a.ts');
    assert.equal(toMatchPath('D:\\x\\y.ts'), 'x/y.ts');
    assert.equal(toMatchPath('../../home/u/.env'), 'home/u/.env');
    assert.equal(new FileFilter().isSecret('../../home/u/.ssh/id_rsa'), true);
    assert.equal(new FileFilter().skipReason('..'), undefined);
    assert.equal(looksBinary(new TextEncoder().encode('const x = 1;\n\tlet y = "é";\r\n')), false);
    assert.equal(looksBinary(Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 13])), true);
    assert.equal(looksBinary(new Uint8Array(0)), false);
  });
});
