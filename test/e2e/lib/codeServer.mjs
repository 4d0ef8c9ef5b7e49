// A throw-away code-server profile (user data, extensions, XDG dirs, workspace copy) and the server itself,
// bound to a free loopback port with auth, telemetry and update checks off.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { startProcess, stopProcess } from './processes.mjs';

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = /** @type {net.AddressInfo} */ (server.address());
      server.close(() => resolve(port));
    });
  });
}

/** Settings every e2e profile gets: no welcome page, tips, telemetry, updates or trust prompt. */
export const BASE_SETTINGS = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoUpdate': false,
  'extensions.autoCheckUpdates': false,
  'extensions.ignoreRecommendations': true,
  'security.workspace.trust.enabled': false,
  'chat.disableAIFeatures': true,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'editor.inlineSuggest.enabled': true,
  'editor.quickSuggestions': { other: false, comments: false, strings: false },
  'editor.suggestOnTriggerCharacters': false,
  'editor.wordBasedSuggestions': 'off',
  'editor.parameterHints.enabled': false,
  'editor.hover.enabled': false,
  'editor.autoClosingBrackets': 'never',
  'editor.autoClosingQuotes': 'never',
  'files.autoSave': 'off',
  'git.enabled': false,
};

/**
 * What `npm start` adds to a default VS Code profile: only housekeeping (no welcome page, telemetry or update
 * checks, no trust prompt). The editor keeps its defaults: bracket auto-closing, hover, quick suggestions.
 */
export const PRODUCT_SETTINGS = {
  'workbench.startupEditor': 'none',
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoUpdate': false,
  'extensions.autoCheckUpdates': false,
  'security.workspace.trust.enabled': false,
  'chat.disableAIFeatures': true,
};

/**
 * Creates `<dir>/{user-data,extensions,home,xdg/*,workspace}`; copies `workspaceSource` (dotfiles included)
 * into `workspace` and writes the user settings (`baseSettings`: the test profile unless given).
 */
export function makeProfile(dir, { workspaceSource, settings, baseSettings = BASE_SETTINGS }) {
  fs.rmSync(dir, { recursive: true, force: true });
  const profile = {
    dir,
    userDataDir: path.join(dir, 'user-data'),
    extensionsDir: path.join(dir, 'extensions'),
    home: path.join(dir, 'home'),
    workspace: path.join(dir, 'workspace'),
    xdg: {
      XDG_CONFIG_HOME: path.join(dir, 'xdg', 'config'),
      XDG_DATA_HOME: path.join(dir, 'xdg', 'data'),
      XDG_CACHE_HOME: path.join(dir, 'xdg', 'cache'),
      XDG_STATE_HOME: path.join(dir, 'xdg', 'state'),
      XDG_RUNTIME_DIR: path.join(dir, 'xdg', 'runtime'),
    },
  };
  for (const d of [profile.userDataDir, profile.extensionsDir, profile.home, ...Object.values(profile.xdg)]) fs.mkdirSync(d, { recursive: true, mode: 0o700 });
  fs.cpSync(workspaceSource, profile.workspace, { recursive: true });
  writeSettings(profile, settings, baseSettings);
  return profile;
}

/**
 * Writes BASE_SETTINGS plus `settings` as user and as remote-machine settings: the extension host runs on the
 * server, and `machine-overridable` settings (presage.model) are then read from the machine file from its first moment.
 */
export function writeSettings(profile, settings, baseSettings = BASE_SETTINGS) {
  for (const scope of ['User', 'Machine']) {
    fs.mkdirSync(path.join(profile.userDataDir, scope), { recursive: true });
    fs.writeFileSync(path.join(profile.userDataDir, scope, 'settings.json'), JSON.stringify({ ...baseSettings, ...settings }, null, 2));
  }
}

async function waitHealthy(url, child, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`code-server exited early (code ${child.exitCode})`);
    try {
      const response = await fetch(new URL('healthz', url), { signal: AbortSignal.timeout(2000) });
      if (response.ok) return;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`code-server did not answer ${url}healthz within ${timeoutMs} ms`);
}

/**
 * Starts code-server for `profile` and waits until it answers. Returns { url, pid, logs, stop() }.
 * `extraEnv` reaches the extension host (and so the engine it spawns).
 */
export async function startCodeServer(toolchain, profile, { port, extraEnv = {}, onLine } = {}) {
  const chosenPort = port ?? (await freePort());
  const logs = [];
  const env = {
    ...process.env,
    ...profile.xdg,
    HOME: profile.home,
    ORT_DISABLE_TELEMETRY: '1',
    PATH: `${path.dirname(toolchain.node)}${path.delimiter}${process.env.PATH ?? ''}`,
    ...extraEnv,
  };
  delete env.VSCODE_IPC_HOOK_CLI;
  const args = [
    toolchain.codeServerEntry,
    '--bind-addr', `127.0.0.1:${chosenPort}`,
    '--auth', 'none',
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-workspace-trust',
    '--disable-getting-started-override',
    '--user-data-dir', profile.userDataDir,
    '--extensions-dir', profile.extensionsDir,
    profile.workspace,
  ];
  const child = startProcess('code-server', toolchain.node, args, {
    cwd: profile.dir,
    env,
    onLine: (line) => {
      logs.push(line);
      if (logs.length > 2000) logs.shift();
      onLine?.(line);
    },
  });
  const url = `http://127.0.0.1:${chosenPort}/`;
  try {
    await waitHealthy(url, child, 60_000);
  } catch (error) {
    await stopProcess(child.pid);
    throw new Error(`${error.message}\n${logs.slice(-40).join('\n')}`);
  }
  return { url: `${url}?folder=${encodeURIComponent(profile.workspace)}`, pid: child.pid, logs, stop: () => stopProcess(child.pid) };
}

/** Installs a .vsix into the profile with code-server's own CLI (no server needed). */
export function installVsixWith(toolchain, profile, vsix) {
  const result = spawnSync(toolchain.node, [toolchain.codeServerEntry, '--user-data-dir', profile.userDataDir, '--extensions-dir', profile.extensionsDir, '--install-extension', vsix], {
    env: { ...process.env, ...profile.xdg, HOME: profile.home },
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`code-server --install-extension failed:\n${result.stdout}${result.stderr}`);
}
