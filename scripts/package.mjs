#!/usr/bin/env node
// Makes one platform's .vsix: `npm run package -- --target linux-x64 [--offline] [--out DIR] [--no-build]`.
//   --target   one of TARGETS in scripts/packaging.mjs, or `all` for every target
//   --offline  the variant that carries the demo model (models/demo) for machines without network
//   --out      folder for the .vsix files (default: dist-vsix/)
//   --no-build reuse the current dist/ (the e2e route builds once)
// Builds the production bundles, writes the target's ignore file under .cache/package/, runs
// `vsce package --target T --ignoreFile …`, then reads the .vsix back and fails (exit 1) when it lacks a file the
// extension loads at run time, holds another platform's binaries, or exceeds the size budget. Prints one JSON
// line per package: { target, variant, file, vsixBytes, bytesWithoutDemo, budgetBytes, files, ok, problems }.
// Runs under tsx (the npm script passes --import tsx): the engine's grammar table is TypeScript.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import yauzl from 'yauzl';
import { BUDGET_BYTES, TARGETS, assertTarget, checkPackage, ignoreFileFor, requiredFiles } from './packaging.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Files in a .vsix, relative to the installed extension folder (vsce stores them under extension/). */
export function vsixEntries(vsix) {
  return new Promise((resolve, reject) => {
    yauzl.open(vsix, { lazyEntries: true }, (error, zip) => {
      if (error) return reject(error);
      const entries = [];
      zip.on('entry', (entry) => {
        if (entry.fileName.startsWith('extension/') && !entry.fileName.endsWith('/')) {
          entries.push({ path: entry.fileName.slice('extension/'.length), compressedBytes: entry.compressedSize, bytes: entry.uncompressedSize });
        }
        zip.readEntry();
      });
      zip.on('end', () => resolve(entries));
      zip.on('error', reject);
      zip.readEntry();
    });
  });
}

function run(command, args, what) {
  const result = spawnSync(command, args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (result.status !== 0) throw new Error(`${what} failed (exit ${result.status}):\n${result.stdout}${result.stderr}`.trim());
  return result.stdout;
}

/** Packages and checks one target; returns the JSON report (ok false when the check failed). */
export async function packageTarget(target, { offline = false, outDir = path.join(root, 'dist-vsix') } = {}) {
  assertTarget(target);
  const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  const variant = offline ? 'offline' : 'default';
  const ignoreDir = path.join(root, '.cache', 'package');
  fs.mkdirSync(ignoreDir, { recursive: true });
  fs.mkdirSync(outDir, { recursive: true });
  const ignoreFile = path.join(ignoreDir, `${target}${offline ? '-offline' : ''}.vscodeignore`);
  fs.writeFileSync(ignoreFile, ignoreFileFor(root, target, { offline }));
  const vsix = path.join(outDir, `${manifest.name}-${target}${offline ? '-offline' : ''}-${manifest.version}.vsix`);
  fs.rmSync(vsix, { force: true });
  const vsce = path.join(root, 'node_modules', '@vscode', 'vsce', 'vsce');
  run(process.execPath, [vsce, 'package', '--target', target, '--ignoreFile', path.relative(root, ignoreFile),
    '--allow-missing-repository', '--readme-path', 'extension/MARKETPLACE.md', '--out', vsix], `vsce package --target ${target}`);
  const entries = await vsixEntries(vsix);
  const result = checkPackage({ target, entries, vsixBytes: fs.statSync(vsix).size, required: requiredFiles(root, target, { offline }), offline });
  // A package that failed its check is not left where a release or CI step could pick it up.
  if (!result.ok) fs.rmSync(vsix, { force: true });
  return {
    target, variant, file: path.relative(root, vsix), vsixBytes: result.vsixBytes, bytesWithoutDemo: result.bytesWithoutDemo,
    budgetBytes: BUDGET_BYTES, installedBytes: entries.reduce((s, e) => s + e.bytes, 0), files: entries.length, ok: result.ok, problems: result.problems,
  };
}

async function main() {
  const argv = process.argv.slice(2);
  const option = (name) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);
  const target = option('--target');
  if (!target) throw new Error(`--target is required: one of ${TARGETS.join(', ')}, or all`);
  const targets = target === 'all' ? TARGETS : [target];
  for (const t of targets) assertTarget(t);
  const outDir = path.resolve(root, option('--out') ?? 'dist-vsix');
  if (!argv.includes('--no-build')) run(process.execPath, [path.join(root, 'scripts', 'build.mjs'), '--production', '--quiet'], 'build --production');
  let failed = 0;
  for (const t of targets) {
    let report;
    try {
      report = await packageTarget(t, { offline: argv.includes('--offline'), outDir });
    } catch (error) {
      report = { target: t, ok: false, problems: [error.message] };
    }
    console.log(JSON.stringify(report));
    if (!report.ok) {
      failed++;
      console.error(`package ${t}: ${report.problems.join('; ')}`);
    }
  }
  process.exit(failed > 0 ? 1 : 0);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
