// The package check (scripts/packaging.mjs): a package that lacks a file the extension loads, holds another
// platform's binaries or the demo model, or exceeds its budget fails; the per-target allowlist covers every
// required file. The real linux-x64 package is built and checked by `npm run package` in the e2e route (.ci/run).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  BUDGET_BYTES, STATIC_RUNTIME_FILES, TARGETS, bareSpecifiers, checkPackage, demoModelFiles, grammarFiles, ignoreFileFor,
  moduleFiles, ortNativeFiles, requiredFiles,
} from '../../scripts/packaging.mjs';
import { GRAMMAR_BY_LANGUAGE } from '../../engine/syntax/wasmPaths';

const root = path.resolve(__dirname, '..', '..');
const entriesOf = (paths: readonly string[], compressedBytes = 1000) => paths.map((p) => ({ path: p, compressedBytes }));
const binding = 'node_modules/onnxruntime-node/bin/napi-v6/linux/x64/onnxruntime_binding.node';

test('a complete linux-x64 file list within budget passes', () => {
  const required = requiredFiles(root, 'linux-x64');
  const result = checkPackage({ target: 'linux-x64', entries: entriesOf([...required, 'LICENSE.txt', 'readme.md']), vsixBytes: 20e6, required });
  assert.deepEqual(result.problems, []);
  assert.equal(result.ok, true);
});

test('a package without the ONNX Runtime binding fails and names it', () => {
  const required = requiredFiles(root, 'linux-x64');
  assert.ok(required.includes(binding));
  const result = checkPackage({ target: 'linux-x64', entries: entriesOf(required.filter((p) => p !== binding)), vsixBytes: 20e6, required });
  assert.equal(result.ok, false);
  assert.deepEqual(result.missing, [binding]);
  assert.match(result.problems[0], /onnxruntime_binding\.node/);
});

test('a package without a grammar, the tree-sitter runtime or a webview asset fails', () => {
  const required = requiredFiles(root, 'win32-x64');
  for (const gone of [grammarFiles()[0], 'node_modules/web-tree-sitter/web-tree-sitter.wasm', 'dist/media/chat.js', 'media/chat.css', 'dist/engine.js']) {
    const result = checkPackage({ target: 'win32-x64', entries: entriesOf(required.filter((p) => p !== gone)), vsixBytes: 30e6, required });
    assert.deepEqual(result.missing, [gone], gone);
    assert.equal(result.ok, false);
  }
});

test('over budget fails; the offline variant is measured without the demo model', () => {
  const required = requiredFiles(root, 'linux-x64');
  const over = checkPackage({ target: 'linux-x64', entries: entriesOf(required), vsixBytes: BUDGET_BYTES + 1, required });
  assert.equal(over.ok, false);
  assert.match(over.problems.join('\n'), /exceeds the 60 MB budget/);
  assert.equal(checkPackage({ target: 'linux-x64', entries: entriesOf(required), vsixBytes: BUDGET_BYTES, required }).ok, true);

  const offlineRequired = requiredFiles(root, 'linux-x64', { offline: true });
  const demo = demoModelFiles();
  const entries = [...entriesOf(offlineRequired.filter((p) => !demo.includes(p))), ...entriesOf(demo, 13e6)];
  const demoBytes = demo.length * 13e6;
  const fits = checkPackage({ target: 'linux-x64', entries, vsixBytes: BUDGET_BYTES + demoBytes, required: offlineRequired, offline: true });
  assert.deepEqual(fits.problems, []);
  assert.equal(fits.bytesWithoutDemo, BUDGET_BYTES);
  assert.equal(checkPackage({ target: 'linux-x64', entries, vsixBytes: BUDGET_BYTES + demoBytes + 1, required: offlineRequired, offline: true }).ok, false);
});

test('another platform\'s binaries or the demo model in a default package fail', () => {
  const required = requiredFiles(root, 'linux-arm64');
  const foreign = checkPackage({ target: 'linux-arm64', entries: entriesOf([...required, binding]), vsixBytes: 10e6, required });
  assert.deepEqual(foreign.foreign, [binding]);
  assert.equal(foreign.ok, false);
  const withDemo = checkPackage({ target: 'linux-arm64', entries: entriesOf([...required, ...demoModelFiles()]), vsixBytes: 10e6, required });
  assert.equal(withDemo.ok, false);
  assert.match(withDemo.problems.join('\n'), /demo model/);
});

test('property: the check reports exactly the removed files and fails iff something is missing or over budget', () => {
  const required = requiredFiles(root, 'darwin-arm64');
  fc.assert(fc.property(
    fc.subarray(required),
    fc.array(fc.stringMatching(/^[a-z]{1,8}(\/[a-z]{1,8}){0,2}\.(js|txt|md)$/), { maxLength: 5 }),
    fc.integer({ min: 1, max: 2 * BUDGET_BYTES }),
    (removed, extras, vsixBytes) => {
      const kept = required.filter((p) => !removed.includes(p));
      const result = checkPackage({ target: 'darwin-arm64', entries: entriesOf([...kept, ...extras]), vsixBytes, required });
      // Naive oracle: what is required and not in the list.
      const expectedMissing = required.filter((p) => !kept.includes(p) && !extras.includes(p));
      assert.deepEqual(result.missing, expectedMissing);
      assert.equal(result.ok, expectedMissing.length === 0 && vsixBytes <= BUDGET_BYTES);
    },
  ), { numRuns: 200 });
});

test('required files: the binding and its libraries per platform, every grammar the engine maps, the bundles\' modules', () => {
  assert.deepEqual(ortNativeFiles('win32-arm64').map((p) => path.basename(p)), ['onnxruntime_binding.node', 'onnxruntime.dll', 'dxil.dll', 'dxcompiler.dll']);
  assert.deepEqual(ortNativeFiles('darwin-arm64').map((p) => path.basename(p)), ['onnxruntime_binding.node', 'libonnxruntime.1.dylib']);
  for (const grammar of new Set(Object.values(GRAMMAR_BY_LANGUAGE))) {
    assert.ok(grammarFiles().includes(`node_modules/@vscode/tree-sitter-wasm/wasm/tree-sitter-${grammar}.wasm`), grammar);
  }
  const modules = moduleFiles(root);
  // The engine loads onnxruntime-node; its CommonJS build of onnxruntime-common needs the "type" marker file.
  for (const file of ['node_modules/onnxruntime-node/dist/index.js', 'node_modules/onnxruntime-node/dist/binding.js',
    'node_modules/onnxruntime-common/dist/cjs/index.js', 'node_modules/onnxruntime-common/dist/cjs/package.json']) {
    assert.ok(modules.includes(file), file);
  }
  for (const target of TARGETS) {
    const own = new Set(ortNativeFiles(target));
    for (const file of requiredFiles(root, target)) {
      // onnxruntime-node may not ship a platform (1.30 has no darwin-x64): the package script then fails on it.
      if (!own.has(file)) assert.ok(fs.existsSync(path.join(root, file)), `${target}: ${file} does not exist`);
    }
  }
  for (const file of requiredFiles(root, 'linux-x64')) assert.ok(fs.existsSync(path.join(root, file)), file);
});

test('every target\'s allowlist names every required file and no other platform\'s binaries', () => {
  for (const target of TARGETS) {
    for (const offline of [false, true]) {
      const allowed = ignoreFileFor(root, target, { offline }).split('\n').filter((l) => l.startsWith('!')).map((l) => l.slice(1));
      const exact = new Set(allowed);
      for (const file of requiredFiles(root, target, { offline })) {
        assert.ok(exact.has(file) || (offline && file.startsWith('models/demo/') && exact.has('models/demo/**')), `${target}: ${file} is not allowlisted`);
      }
      const own = path.posix.dirname(ortNativeFiles(target)[0]);
      assert.deepEqual(allowed.filter((p) => p.includes('/bin/napi-v') && path.posix.dirname(p) !== own), []);
      assert.equal(allowed.some((p) => p.startsWith('models/')), offline);
    }
  }
  for (const file of STATIC_RUNTIME_FILES) assert.ok(fs.readFileSync(path.join(root, '.vscodeignore'), 'utf8').includes(`!${file}`), file);
});

test('bare specifiers: externals only, not builtins, vscode or requires quoted in comments', () => {
  const bundle = [
    'var fs = require("node:fs"), os = require("os"), vscode = require("vscode");',
    '/**',
    ' *   .tlds(require(\'tlds\'))       // a doc comment, not a dependency',
    ' */',
    '// require("commented-out")',
    'const ort = await import("onnxruntime-node"); const dir = require.resolve("onnxruntime-node");',
    'const a = require("@scope/pkg/sub/file.js"); const rel = require("./local");',
  ].join('\n');
  assert.deepEqual(bareSpecifiers(bundle), ['@scope/pkg', 'onnxruntime-node']);
});
