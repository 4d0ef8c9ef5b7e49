// The inline-completion path end to end on the demo model: the `complete` CLI (the same Engine.completeDetailed the
// JSON-RPC method runs) heals a prompt that ends in a space, and the position/context rules match the extension's.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { completeFile, fimContext, offsetAt } from '../../engine/cli/complete';
import { extractFimContext } from '../../extension/common/fimContext';

const demo = path.resolve(__dirname, '../../models/demo');

test('complete CLI: after `for (let i = 0; ` the demo model does not repeat `0;`, and the text is one healed line', { timeout: 120_000 }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'presage-complete-'));
  try {
    const file = path.join(dir, 'shapes.ts');
    const source = fs.readFileSync(path.resolve(__dirname, '../e2e/fixture-workspace/src/shapes.ts'), 'utf8').split('\n').slice(0, 18).join('\n');
    fs.writeFileSync(file, `${source}\n  for (let i = 0; \n  return total;\n}\n`);
    const at = { model: demo, file, line: 18, character: 18, timeBudgetMs: 0 };
    const healed = await completeFile(at);
    assert.equal(healed.healed, ' ');
    assert.ok(!healed.text.trimStart().startsWith('0;'), `healed: ${JSON.stringify(healed.text)}`);
    assert.match(healed.text, /^i < points\.length/);
    assert.ok(!healed.text.includes('\n'), 'a single line: the cursor line has code before it');
    assert.ok(healed.prompt_ids.length > 0 && healed.ms > 0);
    const plain = await completeFile({ ...at, healing: false });
    // Without healing the prompt keeps its trailing space token and nothing is backed up.
    assert.ok(!plain.healed, `unhealed run reports healing: ${JSON.stringify(plain.healed)}`);
    assert.notDeepEqual(plain.prompt_ids, healed.prompt_ids);
    await assert.rejects(completeFile({ ...at, line: 99 }), /past the end of the file/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('complete CLI: positions are 0-based UTF-16 like VS Code, and the context cut equals the extension\'s', () => {
  assert.equal(offsetAt('ab\ncd\n', 1, 1), 4);
  assert.equal(offsetAt('ab\r\ncd', 0, 2), 2);
  assert.throws(() => offsetAt('ab\ncd', 0, 3), /past the end of line 0/);
  fc.assert(fc.property(fc.string({ unit: fc.constantFrom('a', '\n', ' ', 'é'), maxLength: 200 }), fc.nat(), fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 40 }), (text, at, maxPrefix, maxSuffix) => {
    const offset = at % (text.length + 1);
    const ours = fimContext(text, offset, maxPrefix, maxSuffix);
    const theirs = extractFimContext(text, offset, { maxPrefixChars: maxPrefix, maxSuffixChars: maxSuffix });
    assert.deepEqual(ours, { prefix: theirs.prefix, suffix: theirs.suffix });
  }), { numRuns: 500 });
});
