// Installs the built extension into a code-server extensions folder.
// Default: stage exactly the files this platform's package holds (the per-target allowlist of
// scripts/packaging.mjs; hard links, so it is fast), into <extensions-dir>/<publisher>.<name>-<version>.
// With a .vsix: `code-server --install-extension`, either a given file or one built by `npm run package`.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { tsImport } from 'tsx/esm/api';

/** The `vsce package --target` value of this machine. */
export function hostTarget() {
  return `${process.platform}-${process.arch}`;
}

/**
 * The files `vsce package --target <host>` puts in the .vsix. The target's ignore file (scripts/packaging.mjs) is
 * `**` plus exact `!path` lines, and vsce lets every `!` line win, so the package holds exactly the listed paths
 * that exist (and the Marketplace readme). Read here instead of `vsce ls`, which globs the whole checkout
 * (.cache/ included) and takes minutes on a busy machine; the --vsix route runs the real vsce and its check.
 */
export async function packagedFiles(root, target = hostTarget()) {
  const packaging = await tsImport(pathToFileURL(path.join(root, 'scripts', 'packaging.mjs')).href, import.meta.url);
  const allowed = packaging.ignoreFileFor(root, target).split('\n').filter((l) => l.startsWith('!')).map((l) => l.slice(1));
  const globbed = allowed.filter((p) => /[*?[{]/.test(p));
  if (globbed.length > 0) throw new Error(`the ${target} allowlist has patterns, not paths: ${globbed.join(', ')}`);
  const files = allowed.filter((p) => fs.existsSync(path.join(root, p)) && fs.statSync(path.join(root, p)).isFile());
  if (!files.includes('package.json')) throw new Error('the package allowlist lacks package.json');
  return files;
}

export function extensionId(root) {
  const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  return { id: `${manifest.publisher}.${manifest.name}`, version: manifest.version };
}

function linkOrCopy(from, to) {
  fs.mkdirSync(path.dirname(to), { recursive: true });
  try {
    fs.linkSync(from, to);
  } catch {
    fs.copyFileSync(from, to);
  }
}

/** Stages the packaged file set into `extensionsDir`; returns the extension folder. */
export async function stageExtension(root, extensionsDir) {
  const { id, version } = extensionId(root);
  const target = path.join(extensionsDir, `${id}-${version}`);
  fs.rmSync(target, { recursive: true, force: true });
  const files = await packagedFiles(root);
  for (const rel of files) linkOrCopy(path.join(root, rel), path.join(target, rel));
  const missing = ['dist/extension.js', 'dist/engine.js'].filter((rel) => !files.includes(rel));
  if (missing.length > 0) throw new Error(`the packaged extension lacks ${missing.join(', ')} (run npm run build)`);
  return target;
}

/**
 * Installs a .vsix with code-server's own installer: `vsix` when given, else this platform's package built by
 * `npm run package` (the same script and check a release uses) from the current dist/. Returns the .vsix path.
 */
export function installVsix(root, outDir, installWith, vsix) {
  if (!vsix) {
    const pack = spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'scripts', 'package.mjs'), '--target', hostTarget(), '--no-build', '--out', outDir], { cwd: root, encoding: 'utf8' });
    const report = pack.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l)).at(-1);
    if (pack.status !== 0 || !report?.ok) throw new Error(`npm run package -- --target ${hostTarget()} failed:\n${pack.stdout}${pack.stderr}`);
    vsix = path.join(root, report.file);
  }
  if (!fs.existsSync(vsix) || !vsix.endsWith('.vsix')) throw new Error(`--vsix ${vsix}: no such .vsix file`);
  installWith(vsix);
  return vsix;
}

/** The folder code-server installed the extension into (a platform package's folder ends in its target). */
export function installedExtensionDir(root, extensionsDir) {
  const { id, version } = extensionId(root);
  const found = fs.readdirSync(extensionsDir).filter((name) => name === `${id}-${version}` || name.startsWith(`${id}-${version}-`));
  if (found.length !== 1) throw new Error(`expected one ${id}-${version}* folder in ${extensionsDir}, found: ${found.join(', ') || 'none'}`);
  return path.join(extensionsDir, found[0]);
}
