// What one platform's .vsix holds (the ignore file handed to `vsce package --ignoreFile`) and the check that a
// built package holds every file the extension loads at run time, only its own platform's native binaries, and
// fits the size budget. The required list is derived independently of the ignore file (from the bundles'
// requires, the engine's grammar table and the binding's native libraries), so a wrong ignore rule is caught.
// Runs under tsx (`node --import tsx`): the grammar table is read from the engine's own TypeScript source.
import fs from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import { GRAMMAR_BY_LANGUAGE } from '../engine/syntax/wasmPaths.ts';

/** `vsce package --target` values the Marketplace and Open VSX accept for a Node extension with native parts. */
export const TARGETS = ['linux-x64', 'linux-arm64', 'darwin-arm64', 'darwin-x64', 'win32-x64', 'win32-arm64'];

/** Budget for a .vsix without the demo model (decimal MB: what the Marketplace page shows). */
export const BUDGET_BYTES = 60_000_000;

export const DEMO_MODEL_DIR = 'models/demo';
/** Files the engine reads from a checkpoint folder; the offline variant must carry them. */
const DEMO_MODEL_FILES = ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json'];

const ORT_BIN = 'node_modules/onnxruntime-node/bin/napi-v6';

/**
 * The native files onnxruntime-node's binding loads, per platform. Linux and macOS: the binding links
 * libonnxruntime by soname / @rpath (macOS also ships a byte-identical libonnxruntime.1.30.0.dylib, left out).
 * Windows: onnxruntime.dll is an import of the binding; dxil.dll and dxcompiler.dll are loaded by the WebGPU
 * provider (Dawn compiles shaders with DXC); DirectML.dll is delay-loaded by the DirectML provider only, which
 * Presage never asks for (its devices are cpu, webgpu and cuda), so it is left out (18 MB).
 */
const ORT_NATIVE_FILES = {
  linux: ['onnxruntime_binding.node', 'libonnxruntime.so.1'],
  darwin: ['onnxruntime_binding.node', 'libonnxruntime.1.dylib'],
  win32: ['onnxruntime_binding.node', 'onnxruntime.dll', 'dxil.dll', 'dxcompiler.dll'],
};

/** Files the extension loads by path (manifest, bundles, webview assets, view icon, tree-sitter runtime). */
export const STATIC_RUNTIME_FILES = [
  'package.json',
  'dist/extension.js',
  'dist/engine.js',
  'dist/media/chat.js',
  'media/chat.css',
  'media/presage.svg',
  'node_modules/web-tree-sitter/web-tree-sitter.wasm',
];

/** Bundles whose bare requires must resolve inside the package. */
const BUNDLES = ['dist/extension.js', 'dist/engine.js'];
/** Provided by the host, not the package. */
const HOST_MODULES = new Set(['vscode', ...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);

export function assertTarget(target) {
  if (!TARGETS.includes(target)) throw new Error(`--target ${target ?? '(none)'}: expected one of ${TARGETS.join(', ')}`);
  const [platform, arch] = target.split('-');
  return { platform, arch };
}

/** Native ONNX Runtime files (package-relative paths) the target's package must hold. */
export function ortNativeFiles(target) {
  const { platform, arch } = assertTarget(target);
  return ORT_NATIVE_FILES[platform].map((file) => `${ORT_BIN}/${platform}/${arch}/${file}`);
}

/** Grammar wasm files the engine asks for (engine/syntax/wasmPaths.ts), package-relative. */
export function grammarFiles() {
  return [...new Set(Object.values(GRAMMAR_BY_LANGUAGE))].sort().map((g) => `node_modules/@vscode/tree-sitter-wasm/wasm/tree-sitter-${g}.wasm`);
}

export function demoModelFiles() {
  return DEMO_MODEL_FILES.map((f) => `${DEMO_MODEL_DIR}/${f}`);
}

const posix = (p) => p.split(path.sep).join('/');

/**
 * Bare module names a bundle loads: require("x"), require.resolve("x"), import("x"). Comment lines are skipped
 * (esbuild keeps comments on lines of their own, and minified bundles have none): a doc comment's
 * `require('tlds')` is not a dependency.
 */
export function bareSpecifiers(source) {
  const out = new Set();
  const code = source.split('\n').filter((line) => !/^\s*(\/\/|\/\*|\*)/.test(line)).join('\n');
  for (const m of code.matchAll(/\b(?:require(?:\.resolve)?|import)\(\s*["']([^"'./][^"']*)["']\s*\)/g)) {
    const name = m[1].startsWith('@') ? m[1].split('/').slice(0, 2).join('/') : m[1].split('/')[0];
    if (!HOST_MODULES.has(name) && !HOST_MODULES.has(m[1])) out.add(name);
  }
  return [...out].sort();
}

function packageEntry(root, name) {
  const dir = path.join(root, 'node_modules', name);
  const manifestPath = path.join(dir, 'package.json');
  if (!fs.existsSync(manifestPath)) throw new Error(`the bundles require ${name}, but node_modules/${name} is not installed`);
  const manifest = JSON.parse(fs.readFileSync(manifestPath, 'utf8'));
  const exp = manifest.exports;
  // The bundles are CommonJS: Node takes the "require" condition, else "main".
  const viaExports = typeof exp === 'string' ? exp : exp?.require ?? exp?.['.']?.require ?? exp?.['.']?.default ?? exp?.default;
  return path.join(dir, typeof viaExports === 'string' ? viaExports : manifest.main ?? 'index.js');
}

function resolveFile(candidate) {
  for (const p of [candidate, `${candidate}.js`, path.join(candidate, 'index.js')]) {
    if (fs.existsSync(p) && fs.statSync(p).isFile()) return p;
  }
  return undefined;
}

/** package.json files Node reads to load `file` ("type" decides CommonJS or ESM), up to its package's root. */
function manifestsOf(root, file) {
  const out = [];
  const modules = path.join(root, 'node_modules');
  for (let dir = path.dirname(file); dir.startsWith(modules + path.sep); dir = path.dirname(dir)) {
    const manifest = path.join(dir, 'package.json');
    if (fs.existsSync(manifest)) out.push(manifest);
    const depth = path.relative(modules, dir).split(path.sep);
    if (depth.length === 1 || (depth.length === 2 && depth[0].startsWith('@'))) break;
  }
  return out;
}

/**
 * JavaScript and package.json files the bundles load from node_modules, following string-literal requires from
 * each package's entry. Template-literal requires (the ONNX Runtime binding's per-platform path) are not
 * followed: ortNativeFiles names those.
 */
export function moduleFiles(root) {
  const seen = new Set();
  const visit = (file) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const m of manifestsOf(root, file)) seen.add(m);
    const source = fs.readFileSync(file, 'utf8');
    for (const match of source.matchAll(/\brequire\(\s*["']([^"']+)["']\s*\)/g)) {
      const spec = match[1];
      if (spec.startsWith('.')) {
        const resolved = resolveFile(path.resolve(path.dirname(file), spec));
        if (!resolved) throw new Error(`${posix(path.relative(root, file))} requires ${spec}, which does not exist`);
        if (!resolved.endsWith('.node')) visit(resolved);
      } else if (!HOST_MODULES.has(spec)) {
        visit(packageEntry(root, spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]));
      }
    }
  };
  for (const bundle of BUNDLES) {
    const bundlePath = path.join(root, bundle);
    if (!fs.existsSync(bundlePath)) throw new Error(`${bundle} is missing: run npm run build -- --production first`);
    for (const name of bareSpecifiers(fs.readFileSync(bundlePath, 'utf8'))) visit(packageEntry(root, name));
  }
  return [...seen].map((f) => posix(path.relative(root, f))).sort();
}

/** Every file the target's package must hold for the extension to run. */
export function requiredFiles(root, target, { offline = false } = {}) {
  return [...new Set([...STATIC_RUNTIME_FILES, ...moduleFiles(root), ...grammarFiles(), ...ortNativeFiles(target), ...(offline ? demoModelFiles() : [])])].sort();
}

/** The .vscodeignore for one target: `**`, then the shared allowlist of .vscodeignore, then this target's files. */
export function ignoreFileFor(root, target, { offline = false } = {}) {
  const shared = fs.readFileSync(path.join(root, '.vscodeignore'), 'utf8').trimEnd();
  const allow = [...moduleFiles(root), ...grammarFiles(), ...ortNativeFiles(target), ...(offline ? [`${DEMO_MODEL_DIR}/**`] : [])];
  return `${shared}\n# ${target}${offline ? ' (offline: with the demo model)' : ''}, written by scripts/package.mjs\n${allow.map((p) => `!${p}`).join('\n')}\n`;
}

/**
 * Checks a built package. `entries` are the package's files ({ path, compressedBytes }), paths relative to the
 * extension folder; `vsixBytes` the .vsix size. Returns { ok, problems, missing, foreign, vsixBytes, bytesWithoutDemo }.
 */
export function checkPackage({ target, entries, vsixBytes, required, offline = false, budgetBytes = BUDGET_BYTES }) {
  const { platform, arch } = assertTarget(target);
  const have = new Set(entries.map((e) => e.path));
  const missing = required.filter((p) => !have.has(p));
  const ownBin = `${ORT_BIN}/${platform}/${arch}/`;
  const foreign = entries.map((e) => e.path).filter((p) => p.startsWith(`${ORT_BIN}/`) && !p.startsWith(ownBin));
  const demo = entries.filter((e) => e.path.startsWith(`${DEMO_MODEL_DIR}/`));
  const demoBytes = demo.reduce((sum, e) => sum + e.compressedBytes, 0);
  const bytesWithoutDemo = vsixBytes - demoBytes;
  const problems = [];
  if (missing.length > 0) problems.push(`missing ${missing.length} file(s) the extension loads at run time: ${missing.join(', ')}`);
  if (foreign.length > 0) problems.push(`holds another platform's ONNX Runtime binaries: ${foreign.join(', ')}`);
  if (!offline && demo.length > 0) problems.push(`holds the demo model (${demo.length} file(s)); only the offline variant may`);
  if (bytesWithoutDemo > budgetBytes) {
    problems.push(`${(bytesWithoutDemo / 1e6).toFixed(1)} MB without the demo model exceeds the ${(budgetBytes / 1e6).toFixed(0)} MB budget`);
  }
  return { ok: problems.length === 0, problems, missing, foreign, vsixBytes, bytesWithoutDemo };
}
