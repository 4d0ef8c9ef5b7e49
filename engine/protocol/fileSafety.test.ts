import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { FileSafety, isVcsPath, SECRET_SCAN_MARGIN, toMatchPath, uriPath } from './fileSafety';
import { HARMLESS_FILES, PLANTED_SECRETS } from './secretFixtures';

const ghp = (n: number): string => 'gh' + 'p_' + 'x'.repeat(n);

describe('file safety policy', () => {
  const policy = new FileSafety();

  for (const secret of PLANTED_SECRETS) {
    it(`keeps out ${secret.path} (by ${secret.by})`, () => {
      const verdict = policy.check(secret.path, secret.text);
      assert.ok(verdict, `${secret.path} was let through`);
      assert.equal(verdict.by, secret.by);
      // Wherever the workspace sits, and however the path is spelled.
      assert.ok(policy.check(`/home/u/proj/${secret.path}`, secret.text));
      assert.ok(policy.check(`C:\\work\\proj\\${secret.path.replace(/\//g, '\\')}`, secret.text));
    });
  }

  it('lets look-alike files through', () => {
    for (const f of HARMLESS_FILES) assert.equal(policy.check(f.path, f.text), undefined, f.path);
    assert.equal(policy.check('src/github.ts', `const t = '${ghp(10)}';`), undefined, 'too short to be a token');
  });

  it('a secret by content stays a secret under any name', () => {
    const contentSecrets = PLANTED_SECRETS.filter((s) => s.by === 'content' && !s.path.endsWith('.npmrc'));
    fc.assert(fc.property(fc.constantFrom(...contentSecrets), fc.stringMatching(/^[a-z][a-z0-9_]{0,12}\.(ts|py|md|txt|json)$/), (secret, name) => {
      assert.ok(policy.check(`src/${name}`, secret.text));
    }));
  });

  it('name rules hold at any depth: a harmless folder prefix never hides a secret', () => {
    const byName = PLANTED_SECRETS.filter((s) => s.by === 'name');
    fc.assert(fc.property(fc.constantFrom(...byName), fc.array(fc.stringMatching(/^[a-z][a-z0-9-]{0,8}$/), { maxLength: 4 }), (secret, folders) => {
      assert.ok(policy.secretName([...folders, secret.path].join('/')), secret.path);
    }));
  });

  it('.git is excluded at any depth, also as a bare folder', () => {
    for (const p of ['.git/config', 'a/b/.git/config', 'vendor/.git', '/abs/ws/.hg/hgrc', 'x\\.svn\\entries']) assert.equal(isVcsPath(p), true, p);
    for (const p of ['src/git.ts', '.github/workflows/ci.yml', '.gitignore', 'a/.gitattributes']) assert.equal(isVcsPath(p), false, p);
  });

  it('adds user patterns and reports unusable ones without failing', () => {
    const withUser = new FileSafety(['*.secret', 'private/', '', 42]);
    assert.deepEqual(withUser.rejectedPatterns, ['""', '42']);
    assert.ok(withUser.secretName('conf/db.secret'));
    assert.ok(withUser.secretName('a/private/notes.md'));
    assert.ok(withUser.secretName('.env'), 'the defaults stay');
    assert.equal(policy.secretName('conf/db.secret'), undefined);
  });

  it('.npmrc is judged by content', () => {
    const token = 'npm' + 'rc-token-value';
    assert.equal(policy.check('.npmrc', `//registry.npmjs.org/:_authToken=${token}\n`)?.rule, 'npmrc-auth');
    assert.equal(policy.check('.npmrc', '_auth = dXNlcjpwYXNz\n')?.rule, 'npmrc-auth');
    assert.equal(policy.check('.npmrc', 'registry=https://example.com/\n'), undefined);
    assert.equal(policy.check('notes.md', `//registry.npmjs.org/:_authToken=${token}\n`), undefined, 'the npmrc rule is for .npmrc only');
  });

  it('secretInEdits finds a secret typed or pasted anywhere, as a full scan does (oracle)', () => {
    const texts = fc.stringMatching(/^[a-z \n(){};=]{0,3000}$/);
    const secrets = fc.constantFrom(...PLANTED_SECRETS.filter((s) => s.by === 'content' && !s.path.endsWith('.npmrc')).map((s) => s.text));
    fc.assert(fc.property(texts, secrets, fc.nat(), fc.nat({ max: 40 }), (base, secret, at, cut) => {
      const offset = at % (base.length + 1);
      // The secret lands in two edits: its head earlier, its tail now (the last edit completes it).
      const split = Math.min(cut, secret.length);
      const text = base.slice(0, offset) + secret + base.slice(offset);
      const tailStart = offset + split;
      const found = policy.secretInEdits('src/a.ts', text, [{ start: tailStart, end: offset + secret.length }]);
      assert.equal(Boolean(found), Boolean(policy.secretContent(text)));
      assert.ok(found);
    }));
    // Soundness: edits to harmless text find nothing.
    fc.assert(fc.property(texts, fc.nat(), (text, at) => {
      const o = at % (text.length + 1);
      assert.equal(policy.secretInEdits('src/a.ts', text, [{ start: o, end: o }]), undefined);
    }));
    // Far from the edit, a secret is the full scan's business (done when the document is opened).
    const far = `${'x'.repeat(SECRET_SCAN_MARGIN * 3)}`;
    const text = `${ghp(40)}\n${far}`;
    assert.equal(policy.secretInEdits('a.ts', text, [{ start: text.length, end: text.length }]), undefined);
  });

  it('paths and uris', () => {
    assert.equal(toMatchPath('./src//a.ts'), 'src/a.ts');
    assert.equal(toMatchPath('D:\\x\\y.ts'), 'x/y.ts');
    assert.equal(toMatchPath('../../home/u/.env'), 'home/u/.env');
    assert.equal(toMatchPath('..'), '');
    assert.equal(uriPath('file:///ws/my%20dir/.env'), '/ws/my dir/.env');
    assert.equal(uriPath('vscode-remote://ssh-remote%2Bhost/home/u/.ssh/id_ed25519'), '/home/u/.ssh/id_ed25519');
    assert.equal(uriPath('untitled:Untitled-1'), 'Untitled-1');
    assert.deepEqual(policy.check(uriPath('file:///home/u/proj/.aws/credentials')), policy.check('.aws/credentials'));
    assert.equal(policy.check('', ''), undefined);
  });
});
