// Installs the built extension into a code-server extensions folder.
// Default: stage exactly the files `vsce ls` says the .vsix would hold (hard links, so it is fast), into
// <extensions-dir>/<publisher>.<name>-<version>. With `vsix: true`: `vsce package` and `code-server --install-extension`.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

function vsceBin(root) {
  return path.join(root, 'node_modules', '@vscode', 'vsce', 'vsce');
}

/** The files `vsce package` would put in the .vsix (dependencies included, filtered by .vscodeignore). */
export function packagedFiles(root) {
  const out = execFileSync(process.execPath, [vsceBin(root), 'ls'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const files = out.split('\n').map((l) => l.trim()).filter(Boolean);
  if (!files.includes('package.json')) throw new Error(`vsce ls listed no package.json:\n${out}`);
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
export function stageExtension(root, extensionsDir) {
  const { id, version } = extensionId(root);
  const target = path.join(extensionsDir, `${id}-${version}`);
  fs.rmSync(target, { recursive: true, force: true });
  const files = packagedFiles(root);
  for (const rel of files) linkOrCopy(path.join(root, rel), path.join(target, rel));
  const missing = ['dist/extension.js', 'dist/engine.js'].filter((rel) => !files.includes(rel));
  if (missing.length > 0) throw new Error(`the packaged extension lacks ${missing.join(', ')} (run npm run build)`);
  return target;
}

/** Packages a real .vsix with vsce and installs it with code-server's own installer. */
export function installVsix(root, outDir, installWith) {
  const { id, version } = extensionId(root);
  const vsix = path.join(outDir, `${id}-${version}.vsix`);
  const pack = spawnSync(process.execPath, [vsceBin(root), 'package', '--allow-missing-repository', '--readme-path', 'extension/MARKETPLACE.md', '--out', vsix], { cwd: root, encoding: 'utf8' });
  if (pack.status !== 0) throw new Error(`vsce package failed:\n${pack.stdout}${pack.stderr}`);
  installWith(vsix);
  return vsix;
}
