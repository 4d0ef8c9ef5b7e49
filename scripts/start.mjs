#!/usr/bin/env node
// `npm start`: Presage in a real VS Code (code-server) on loopback, with a sample workspace and the demo model.
// Usage: node scripts/start.mjs [--port N] [--no-probe] [--model DIR]
//   --port      loopback port (default: PRESAGE_PORT, else a free one)
//   --no-probe  do not open a headless window to wait for the engine and report its state
//   --model     checkpoint folder (default: models/demo; a tiny random model is built when it is absent)
// Serves until Ctrl-C / SIGTERM, then stops every process it started.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchBrowser, screenshot } from '../test/e2e/lib/browser.mjs';
import { makeProfile, PRODUCT_SETTINGS, startCodeServer } from '../test/e2e/lib/codeServer.mjs';
import { stageExtension } from '../test/e2e/lib/extension.mjs';
import { buildTinyModel, demoModel } from '../test/e2e/lib/model.mjs';
import { isStopping, stopAll } from '../test/e2e/lib/processes.mjs';
import { ensureToolchain, findChromium } from '../test/e2e/lib/toolchain.mjs';
import { dirtyTabs, probeWorkspace } from '../test/e2e/lib/probe.mjs';
import { openWorkbench } from '../test/e2e/lib/workbench.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cacheDir = path.join(root, '.cache');
const startDir = path.join(cacheDir, 'start');
const argv = process.argv.slice(2);
const option = (name) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const log = (message) => console.log(`[start] ${message}`);
process.env.ORT_DISABLE_TELEMETRY = '1';

function fail(message) {
  console.error(`[start] ${message}`);
  return stopAll().then(() => process.exit(1));
}

function chooseModel() {
  const explicit = option('--model');
  if (explicit) {
    if (!fs.existsSync(path.join(explicit, 'config.json'))) throw new Error(`--model ${explicit}: no config.json there`);
    return { dir: path.resolve(explicit), kind: 'given' };
  }
  const demo = demoModel(root);
  if (demo) return { dir: demo, kind: 'demo' };
  log('models/demo is not in this checkout: building a tiny random model instead (its suggestions are noise)');
  try {
    return { dir: buildTinyModel(root, path.join(startDir, 'tiny-model')), kind: 'tiny random' };
  } catch (error) {
    log(`${error.message}\n[start] serving without a model: the status bar will say so`);
    return undefined;
  }
}

/** Opens a headless window so the extension host and engine start, waits for "ready", and triggers one completion. */
async function probe(url) {
  const browser = await launchBrowser(findChromium(), path.join(startDir, 'probe-chromium'));
  try {
    await openWorkbench(browser.page, url);
    const result = await probeWorkspace(browser.page, { log });
    log(result.ghost ? `first inline completion after ${result.firstGhostMs} ms: ${JSON.stringify(result.ghost.slice(0, 60))}` : 'no inline completion within 30 s');
    log(`engine ready; tokens/s: ${result.tokensPerS ?? 'not reported yet'}`);
    const dirty = await dirtyTabs(browser.page);
    if (dirty.length > 0) log(`warning: the probe left unsaved editors: ${dirty.join(', ')}`);
    const shot = await screenshot(browser.page, path.join(root, 'test', 'artifacts'), 'start-ready');
    log(`screenshot ${path.relative(root, shot)}`);
  } finally {
    await browser.stop();
  }
}

async function main() {
  const build = spawnSync(process.execPath, [path.join(root, 'scripts', 'build.mjs'), '--quiet'], { cwd: root, stdio: 'inherit' });
  if (build.status !== 0) return fail('the build failed');
  const toolchain = ensureToolchain(path.join(cacheDir, 'e2e'), log);
  const model = chooseModel();
  const profile = makeProfile(path.join(startDir, 'profile'), {
    workspaceSource: path.join(root, 'test', 'e2e', 'fixture-workspace'),
    settings: model ? { 'presage.model': model.dir } : {},
    // A normal VS Code: the e2e profile's switches (no auto-closing, hover, quick suggestions) stay in the tests.
    baseSettings: PRODUCT_SETTINGS,
  });
  await stageExtension(root, profile.extensionsDir);
  const portText = option('--port') ?? process.env.PRESAGE_PORT;
  const port = portText === undefined ? undefined : Number(portText);
  if (port !== undefined && !(Number.isInteger(port) && port > 0 && port < 65536)) return fail(`bad port: ${portText}`);
  const server = await startCodeServer(toolchain, profile, { port });
  log(`model: ${model ? `${model.dir} (${model.kind})` : 'none'}`);
  log(`workspace: ${profile.workspace}`);
  console.log(`\nPresage is running in VS Code at ${server.url}\nOpen it in a browser on this machine. Ctrl-C stops everything.\n`);
  if (!argv.includes('--no-probe')) {
    await probe(server.url).catch((error) => isStopping() || log(`the engine did not report ready: ${error.message.split('\n')[0]}`));
    if (!isStopping()) log(`still serving at ${server.url}`);
  }
  await new Promise(() => {}); // serve until a signal; processes.mjs stops the children
}

main().catch((error) => fail(error?.stack ?? String(error)));
