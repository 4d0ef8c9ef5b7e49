#!/usr/bin/env node
// End-to-end tests in a real VS Code (code-server) driven by chromium through playwright-core. Offline.
// Usage: node test/e2e/run.mjs [--only name,name] [--model DIR] [--vsix [FILE]] [--code-server VERSION] [--keep]
//   --only         run only the scenarios whose name contains one of the given words
//   --model        use this checkpoint instead of the tiny random one (e.g. models/demo, for README screenshots)
//   --vsix [FILE]  install a .vsix with code-server's installer instead of staging the same file set: FILE (e.g.
//                  dist-vsix/presage-linux-x64-0.1.0.vsix from `npm run package -- --target linux-x64`), or
//                  without FILE this platform's package built from the current dist/ (slower)
//   --code-server  a code-server release (npm version, e.g. 4.92.2 = VS Code 1.92), or `minimum`: the release
//                  matching engines.vscode (MINIMUM_CODE_SERVER, 4.90.3 = VS Code 1.90; checked against
//                  package.json); default the newest tested (toolchain.mjs); each is installed once under .cache/e2e
//   --keep         keep the temporary profile under .cache/e2e/run for inspection
// Prints one line per scenario with its duration, then "N passed, N failed, N skipped", then one JSON line.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchBrowser, screenshot } from './lib/browser.mjs';
import { installVsixWith, makeProfile, startCodeServer, writeSettings } from './lib/codeServer.mjs';
import { installVsix, installedExtensionDir, stageExtension } from './lib/extension.mjs';
import { buildTinyModel } from './lib/model.mjs';
import { stopAll } from './lib/processes.mjs';
import { assertMinimumMatches, CODE_SERVER_RANGE, ensureToolchain, findChromium, MINIMUM_CODE_SERVER } from './lib/toolchain.mjs';
import { openWorkbench } from './lib/workbench.mjs';
import { SCENARIOS, SESSIONS, Skip } from './scenarios.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const cacheDir = path.join(root, '.cache', 'e2e');
const artifacts = path.join(root, 'test', 'artifacts');
const argv = process.argv.slice(2);
const flag = (name) => argv.includes(name);
const option = (name) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);
const only = (option('--only') ?? '').split(',').filter(Boolean);
const wantsMinimum = option('--code-server') === 'minimum';
const codeServerVersion = wantsMinimum ? MINIMUM_CODE_SERVER : option('--code-server') ?? CODE_SERVER_RANGE;
/** `--vsix` alone builds the package; `--vsix FILE` installs that file. */
const vsixFile = option('--vsix')?.startsWith('--') ? undefined : option('--vsix');
const log = (message) => console.log(`[e2e] ${message}`);
process.env.ORT_DISABLE_TELEMETRY = '1';

/** What the run tested against, for the JSON line. */
let installed = {};
const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;
const slug = (name) => name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');

/** Starts one workbench: toolchain, model, profile, extension, code-server and chromium. */
async function setUp(sessionName, session) {
  const started = Date.now();
  const toolchain = ensureToolchain(cacheDir, log, codeServerVersion);
  if (wantsMinimum) assertMinimumMatches(toolchain.vscodeVersion, JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).engines.vscode);
  const chromiumPath = findChromium();
  for (const built of ['dist/extension.js', 'dist/engine.js']) {
    if (!fs.existsSync(path.join(root, built))) throw new Error(`${built} is missing: run npm run build first`);
  }
  // One folder per run and session, so runs from the same checkout do not clobber each other.
  const runDir = path.join(cacheDir, 'runs', `${sessionName}-${process.pid}`);
  const profile = makeProfile(runDir, { workspaceSource: path.join(root, 'test', 'e2e', 'fixture-workspace'), settings: {} });
  let model;
  let modelError;
  try {
    const given = option('--model');
    if (given && !fs.existsSync(path.join(given, 'config.json'))) throw new Error(`--model ${given}: no config.json there`);
    model = given ? path.resolve(given) : buildTinyModel(root, path.join(runDir, 'tiny-model'));
  } catch (error) {
    modelError = error.message;
    log(`tiny model: ${modelError}`);
  }
  let extensionDir;
  if (flag('--vsix')) {
    const vsix = installVsix(root, runDir, (file) => installVsixWith(toolchain, profile, file), vsixFile && path.resolve(vsixFile));
    extensionDir = installedExtensionDir(root, profile.extensionsDir);
    log(`installed ${path.relative(root, vsix)} (${(fs.statSync(vsix).size / 1e6).toFixed(1)} MB) into ${path.relative(root, extensionDir)}`);
  } else {
    extensionDir = await stageExtension(root, profile.extensionsDir);
    log(`staged the packaged file set into ${path.relative(root, extensionDir)}`);
  }
  const extra = session?.configure({ root, extensionDir }) ?? {};
  writeSettings(profile, {
    // JSON-RPC traffic goes to the extension's log: scenarios read it as an oracle (e.g. which prefix a request had).
    'presage.trace.server': 'verbose',
    ...(model ? { 'presage.model': model } : {}),
    ...extra.settings,
  });
  if (session) log(`session "${sessionName}": ${session.description}`);
  const server = await startCodeServer(toolchain, profile, { extraEnv: extra.env ?? {} });
  log(`code-server ${toolchain.codeServerVersion} (VS Code ${toolchain.vscodeVersion}, pid ${server.pid}) at ${server.url}`);
  const browser = await launchBrowser(chromiumPath, path.join(runDir, 'chromium'));
  log(`chromium pid ${browser.pid}`);
  await openWorkbench(browser.page, server.url);
  log(`workbench open after ${seconds(Date.now() - started)} of set-up`);
  installed = { codeServer: toolchain.codeServerVersion, vscode: toolchain.vscodeVersion, extension: flag('--vsix') ? 'vsix' : 'staged' };
  return { toolchain, profile, server, browser, model, modelError };
}

/** Runs one scenario; returns its result line. */
async function runScenario(scenario, env, shared) {
  const started = Date.now();
  const shots = [];
  const t = {
    ...env,
    page: env.browser.page,
    root,
    /** State shared across the scenarios of one session (e.g. that the engine never became ready). */
    shared,
    log: (m) => log(`  ${scenario.name}: ${m}`),
    /** One screenshot per surface, kept on success too (README and notes). */
    shot: async (surface) => shots.push(path.relative(root, await screenshot(env.browser.page, artifacts, `e2e-${slug(surface)}`))),
  };
  let outcome;
  let detail = '';
  try {
    await Promise.race([
      scenario.run(t),
      new Promise((_, reject) => setTimeout(() => reject(new Error(`scenario timed out after ${seconds(scenario.timeoutMs)}`)), scenario.timeoutMs).unref()),
    ]);
    outcome = 'passed';
  } catch (error) {
    if (error instanceof Skip) {
      outcome = 'skipped';
      detail = error.message;
    } else {
      outcome = 'failed';
      detail = error?.stack ?? String(error);
      await t.shot(`${scenario.name}-failure`).catch(() => {});
    }
  }
  const ms = Date.now() - started;
  const mark = { passed: 'ok  ', failed: 'FAIL', skipped: 'skip' }[outcome];
  console.log(`${mark} ${scenario.name} (${seconds(ms)})${detail ? `: ${outcome === 'failed' ? '\n' : ''}${detail}` : ''}`);
  for (const file of shots) console.log(`     screenshot ${file}`);
  await Promise.race([
    scenario.cleanUp?.(t),
    new Promise((_, reject) => setTimeout(() => reject(new Error('timed out after 60 s')), 60_000).unref()),
  ]).catch((error) => log(`  ${scenario.name}: clean-up failed: ${error.message}`));
  return { name: scenario.name, outcome, ms, screenshots: shots, detail };
}

/** Removes profiles kept by earlier runs whose process is gone (a kept profile is for one look, not forever). */
function pruneOldRuns() {
  const runs = path.join(cacheDir, 'runs');
  if (!fs.existsSync(runs)) return;
  for (const name of fs.readdirSync(runs)) {
    const pid = Number(/-(\d+)$/.exec(name)?.[1]);
    let alive = false;
    try {
      alive = pid > 0 && process.kill(pid, 0);
    } catch {
      alive = false;
    }
    if (!alive) fs.rmSync(path.join(runs, name), { recursive: true, force: true });
  }
}

async function main() {
  pruneOldRuns();
  const selected = SCENARIOS.filter((s) => only.length === 0 || only.some((word) => s.name.toLowerCase().includes(word.toLowerCase())));
  const sessionNames = [...new Set(selected.map((s) => s.session ?? 'default'))];
  const results = [];
  const profiles = [];
  let setupFailed = false;
  for (const sessionName of sessionNames) {
    const scenarios = selected.filter((s) => (s.session ?? 'default') === sessionName);
    let env;
    try {
      env = await setUp(sessionName, SESSIONS[sessionName]);
      profiles.push(env.profile);
      const shared = {};
      for (const scenario of scenarios) results.push(await runScenario(scenario, env, shared));
    } catch (error) {
      setupFailed = true;
      console.error(`[e2e] set-up of session "${sessionName}" failed: ${error?.stack ?? error}`);
      if (env?.server) console.error(env.server.logs.slice(-30).join('\n'));
      for (const scenario of scenarios.filter((s) => !results.some((r) => r.name === s.name))) {
        results.push({ name: scenario.name, outcome: 'failed', ms: 0, screenshots: [], detail: 'set-up failed' });
      }
    } finally {
      await env?.browser?.stop();
      await env?.server?.stop();
      await stopAll();
    }
  }
  const count = (o) => results.filter((r) => r.outcome === o).length;
  const exitCode = setupFailed || count('failed') > 0 ? 1 : 0;
  // Profiles (server and extension-host logs included) stay for inspection after a failure or with --keep.
  for (const profile of profiles) {
    if (exitCode === 0 && !flag('--keep')) fs.rmSync(profile.dir, { recursive: true, force: true });
    else log(`profile kept at ${path.relative(root, profile.dir)}`);
  }
  console.log(`${count('passed')} passed, ${count('failed')} failed, ${count('skipped')} skipped`);
  console.log(JSON.stringify({
    suite: 'e2e', ...installed, passed: count('passed'), failed: count('failed'), skipped: count('skipped'), setupFailed,
    scenarios: results.map(({ detail, ...r }) => ({ ...r, ...(r.outcome === 'skipped' ? { reason: detail } : {}) })),
  }));
  process.exit(exitCode);
}

await main();
