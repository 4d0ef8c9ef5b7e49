// Every contributed setting declares what a change to it triggers, and one change event maps to the right reactions.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fakeSettings, installFakeVscode } from './testing/fakeVscode';

installFakeVscode();
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { config, SETTING_TRIGGERS, triggersFor } = require('./config') as typeof import('./config');

test('every presage.* setting in package.json has a declared trigger, and no trigger names an unknown setting', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as { contributes: { configuration: { properties: Record<string, unknown> } } };
  const contributed = Object.keys(pkg.contributes.configuration.properties).sort();
  const declared = Object.keys(SETTING_TRIGGERS).filter((s) => s.startsWith('presage.')).sort();
  assert.deepEqual(declared, contributed);
});

test('a change maps to its reactions; an engine restart covers a model reload and a re-index', () => {
  const affects = (...changed: string[]) => (section: string) => changed.some((c) => c === section || c.startsWith(`${section}.`));
  assert.deepEqual([...triggersFor(affects('presage.device'))], ['reload-model']);
  assert.deepEqual([...triggersFor(affects('presage.index.secretPatterns', 'files.exclude'))], ['reindex']);
  assert.deepEqual([...triggersFor(affects('presage.inlineCompletions.maxTokens'))], []);
  assert.deepEqual([...triggersFor(affects('presage.enginePath', 'presage.model', 'presage.index.maxFileBytes'))], ['restart-engine']);
  assert.deepEqual([...triggersFor(affects('editor.fontSize'))], []);
});

test('bad values fall back to the defaults', () => {
  fakeSettings.set('presage.device', 'tpu');
  fakeSettings.set('presage.inlineCompletions.maxTokens', -3);
  fakeSettings.set('presage.index.secretPatterns', ['*.secret', '', 7]);
  try {
    assert.equal(config.device(), 'auto');
    assert.equal(config.maxTokens(), 128);
    assert.deepEqual(config.secretPatterns(), ['*.secret']);
  } finally {
    fakeSettings.clear();
  }
});
