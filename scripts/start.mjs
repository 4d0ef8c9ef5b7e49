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
import { makeProfile, startCodeServer } from '../test/e2e/lib/codeServer.mjs';
import { stageExtension } from '../test/e2e/lib/extension.mjs';
import { buildTinyModel, demoModel } from '../test/e2e/lib/model.mjs';
import { isStopping, stopAll } from '../test/e2e/lib/processes.mjs';
import { ensureToolchain, findChromium } from '../test/e2e/lib/toolchain.mjs';
import { ghostText, openFile, openWorkbench, presageStatus, waitFor } from '../test/e2e/lib/workbench.mjs';

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

const TOKENS_PER_S = /(\d+(?:\.\d+)?)\s*tok(?:en)?s?\s*\/\s*s/i;

/** Opens a headless window so the extension host and engine start, waits for "ready", and triggers one completion. */
async function probe(url) {
  const browser = await launchBrowser(findChromium(), path.join(startDir, 'probe-chromium'));
  try {
    await openWorkbench(browser.page, url);
    let entry;
    let lastLine = '';
    await waitFor('the Presage status bar to say ready', async () => {
      entry = await presageStatus(browser.page);
      const line = entry ? `${entry.text} | ${entry.label}`.replace(/\s*\n\s*/g, ' · ') : '';
      if (line && line !== lastLine) log(`status: ${line}`);
      lastLine = line;
      return entry && /\bready\b/i.test(line);
    }, { timeoutMs: 120_000, intervalMs: 500 });
    await openFile(browser.page, 'src/scratch.ts');
    await browser.page.keyboard.press('Control+End');
    await browser.page.keyboard.type('export function centroid(', { delay: 20 });
    const started = Date.now();
    const ghost = await waitFor('a first inline completion', async () => (await ghostText(browser.page)) || undefined, { timeoutMs: 30_000 }).catch(() => '');
    log(ghost ? `first inline completion after ${Date.now() - started} ms: ${JSON.stringify(ghost.slice(0, 60))}` : 'no inline completion within 30 s');
    await browser.page.waitForTimeout(500);
    entry = await presageStatus(browser.page);
    const speed = TOKENS_PER_S.exec(`${entry?.text} ${entry?.label}`);
    log(`engine ready; tokens/s: ${speed ? speed[1] : 'not reported yet'}`);
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
  });
  stageExtension(root, profile.extensionsDir);
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
