// The scenarios, in order. Each asserts on what a user sees in the workbench, and restores what it changed.
import fs from 'node:fs';
import path from 'node:path';
import net from 'node:net';
import { enginePids } from './lib/procfs.mjs';
import { startProcess, stopProcess } from './lib/processes.mjs';
import { PRODUCT_SETTINGS } from './lib/codeServer.mjs';
import { dirtyTabs, PROBE_FILE, probeWorkspace } from './lib/probe.mjs';
import { presageLogFile, readExchanges } from './lib/traceLog.mjs';
import {
  activeTab, closeQuickInput, codeLenses, decorationCount, ghostText, goToLine, normalizeInserted, openFile,
  paletteCommands, presageStatus, runCommand, saveActiveEditor, statusBarEntries, visibleText, waitFor,
} from './lib/workbench.mjs';

/** Thrown to skip a scenario with a printed reason (a surface that has not landed), never to hide a failure. */
export class Skip extends Error {}

/** Surfaces not in this build yet: their scenarios stay written and report skipped with this reason. */
export const PENDING = {};

function pending(surface) {
  if (PENDING[surface]) throw new Skip(PENDING[surface]);
}

const READY = /\bready\b/i;
const statusLine = (entry) => (entry ? `${entry.text} | ${entry.label}` : '(no Presage status bar entry)');
const isReady = (entry) => Boolean(entry) && READY.test(`${entry.text} ${entry.label}`);

function workspaceFile(t, relativePath) {
  return fs.readFileSync(path.join(t.profile.workspace, relativePath), 'utf8');
}

/** Discards unsaved edits, closes every editor and puts the fixture's files back on disk. */
async function resetWorkspace(t) {
  await closeQuickInput(t.page);
  await t.page.keyboard.press('Escape');
  await runCommand(t.page, 'View: Revert and Close Editor').catch(() => {});
  await runCommand(t.page, 'View: Close All Editors').catch(() => {});
  fs.cpSync(path.join(t.root, 'test', 'e2e', 'fixture-workspace', 'src'), path.join(t.profile.workspace, 'src'), { recursive: true });
  await t.page.waitForTimeout(300);
}

async function waitReady(t, timeoutMs) {
  if (t.shared.neverReady) throw new Error(`the engine never reached ready (see Activation): ${t.shared.neverReady}`);
  let last;
  try {
    await waitFor('the Presage status bar to say ready', async () => isReady((last = await presageStatus(t.page))), { timeoutMs, intervalMs: 250 });
  } catch (error) {
    t.shared.neverReady ??= `last seen: ${statusLine(last)}`;
    throw new Error(`${error.message}; last seen: ${statusLine(last)}`);
  }
  return last;
}

/** Waits for non-empty ghost text at the cursor; returns it. */
async function waitGhost(t, what, timeoutMs = 20_000) {
  return waitFor(what, async () => (await ghostText(t.page)) || undefined, { timeoutMs, intervalMs: 100 });
}

/**
 * Accepts the shown ghost text with Tab and checks, on disk, that exactly that text was inserted at the cursor
 * (the cursor is at the end of the file). Returns the inserted text.
 */
async function acceptAndCheck(t, file, ghost) {
  await saveActiveEditor(t.page);
  const before = workspaceFile(t, file);
  await t.page.keyboard.press('Tab');
  await saveActiveEditor(t.page);
  const after = await waitFor(`${file} to change on disk after Tab`, async () => {
    const text = workspaceFile(t, file);
    return text !== before ? text : undefined;
  }, { timeoutMs: 5000 });
  if (!after.startsWith(before)) throw new Error(`Tab changed text before the cursor:\n--- before\n${before}\n--- after\n${after}`);
  const inserted = after.slice(before.length);
  if (normalizeInserted(inserted) !== normalizeInserted(ghost)) {
    throw new Error(`Tab inserted ${JSON.stringify(inserted)} but the ghost text read ${JSON.stringify(ghost)}`);
  }
  return inserted;
}

/** A character that does not continue `ghost` (so typing it makes that suggestion stale). */
function divergingChar(ghost) {
  return ['q', 'z', 'x', '7'].find((c) => !ghost.startsWith(c));
}

/** Collects the page's JavaScript dialogs (alert, confirm, prompt) while `body` runs; each is dismissed. */
async function withDialogWatch(t, body) {
  const dialogs = [];
  const onDialog = (dialog) => {
    dialogs.push(dialog.message());
    dialog.dismiss().catch(() => {});
  };
  t.page.on('dialog', onDialog);
  try {
    await body(dialogs);
  } finally {
    t.page.off('dialog', onDialog);
  }
}

/**
 * Opens the chat panel, asks `question` and follows the turn until it settles. The answer streams when its
 * text is seen while the turn is still "streaming". Returns the turn's locators, final text and what was seen.
 */
async function askChat(t, question) {
  await runCommand(t.page, 'Presage: Open Chat');
  const webview = t.page.frameLocator('iframe.webview.ready').frameLocator('iframe#active-frame');
  const input = webview.locator('#presage-chat-input');
  await input.waitFor({ state: 'visible', timeout: 20_000 });
  const body = webview.locator('body');
  const turns = await webview.locator('.presage-assistant').count();
  // A mutation observer inside the webview records every painted answer length while the turn streams
  // (polling from outside would miss a fast answer).
  // (The count lives in a window variable: writing it to the DOM would feed the observer its own mutations.)
  await body.evaluate((b, index) => {
    const seen = new Set();
    window.__presageE2eStreamed = seen;
    new MutationObserver(() => {
      const turn = b.querySelectorAll('.presage-assistant')[index];
      const length = turn?.querySelector('.presage-answer')?.textContent?.length ?? 0;
      if (turn?.getAttribute('data-state') === 'streaming' && length > 0) seen.add(length);
    }).observe(b, { subtree: true, childList: true, characterData: true, attributes: true });
  }, turns);
  await input.fill(question);
  await input.press('Enter');
  const assistant = webview.locator('.presage-assistant').nth(turns);
  const answer = assistant.locator('.presage-answer');
  await waitFor('the answer to finish', async () => {
    const state = await assistant.getAttribute('data-state', { timeout: 200 }).catch(() => null);
    return state !== null && state !== 'streaming';
  }, { timeoutMs: 90_000, intervalMs: 100 });
  const state = await assistant.getAttribute('data-state');
  const text = await answer.innerText();
  const streamedLengths = await body.evaluate(() => window.__presageE2eStreamed?.size ?? 0);
  t.log(`answer ${state}: ${text.length} chars, painted at ${streamedLengths} lengths while streaming`);
  if (state !== 'done') throw new Error(`the answer ended in state ${state}: ${text.slice(0, 200)}`);
  return { webview, assistant, body, text, streamedLengths };
}

/** Nothing the conversation carried was parsed as HTML or ran: no dialog, no marker, no handler, script, frame or javascript: link. */
async function assertNothingRan(body, dialogs) {
  const found = await body.evaluate((b) => ({
    pwned: b.dataset.pwned ?? null,
    handlers: b.querySelectorAll('[onerror], [onload], [onclick]').length,
    scripts: [...b.querySelectorAll('script')].filter((n) => (n.textContent ?? '').includes('pwned')).length,
    frames: b.querySelectorAll('iframe, object, embed').length,
    jsLinks: [...b.querySelectorAll('a[href]')].filter((a) => /^\s*javascript:/i.test(a.getAttribute('href') ?? '')).length,
  }));
  if (found.pwned !== null || found.handlers + found.scripts + found.frames + found.jsLinks > 0 || dialogs.length > 0) {
    throw new Error(`markup ran or was parsed in the chat webview: ${JSON.stringify({ ...found, dialogs })}`);
  }
}

/**
 * Extra workbench sessions, each with its own code-server and profile. "hostile": presage.enginePath is a relay
 * in front of the real engine that starts every chat answer with markup that would run script.
 */
export const SESSIONS = {
  remote: {
    description: 'presage.backend = remote, presage.remote.url = a loopback relay in front of presage serve',
    configure: () => ({ settings: { 'presage.backend': 'remote', 'presage.remote.url': startRemoteRelay() } }),
  },
  hostile: {
    description: 'presage.enginePath = hostile-engine.cjs, a relay that prefixes chat answers with hostile markup',
    configure: ({ root, extensionDir }) => ({
      settings: { 'presage.enginePath': path.join(root, 'test', 'e2e', 'hostile-engine.cjs') },
      env: { PRESAGE_E2E_REAL_ENGINE: path.join(extensionDir, 'dist', 'engine.js') },
    }),
  },
};


/**
 * The "remote" session's loopback relay, listening before the workbench starts (its URL is in the settings from
 * the first moment); the scenario points it at `presage serve` once serve runs. It records the request line of
 * every connection, so the scenario sees which endpoints the extension's engine called.
 */
const remoteRelay = { port: 40_000 + (process.pid % 20_000), upstreamPort: 0, requests: [], server: undefined, error: undefined };

function startRemoteRelay() {
  remoteRelay.server = net.createServer((client) => {
    if (!remoteRelay.upstreamPort) return client.destroy();
    const upstream = net.connect(remoteRelay.upstreamPort, '127.0.0.1');
    client.once('data', (first) => remoteRelay.requests.push(first.toString('latin1').split('\r\n')[0]));
    client.pipe(upstream);
    upstream.pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
  });
  remoteRelay.server.on('error', (error) => (remoteRelay.error = error));
  remoteRelay.server.listen(remoteRelay.port, '127.0.0.1');
  return `http://127.0.0.1:${remoteRelay.port}/v1`;
}

/** `presage serve` with the tiny model on a loopback port, behind the relay. */
async function startServe(t, token) {
  if (remoteRelay.error) throw new Error(`the loopback relay could not listen on ${remoteRelay.port}: ${remoteRelay.error.message}`);
  let resolveUrl;
  const urlLine = new Promise((resolve) => (resolveUrl = resolve));
  const child = startProcess('presage serve', process.execPath, [path.join(t.root, 'dist', 'engine.js'), 'serve', '--port', '0', '--model', t.model, '--token', token], {
    env: { ...process.env, ORT_DISABLE_TELEMETRY: '1' },
    onLine: (line) => {
      if (line.startsWith('{') && line.includes('"url"')) resolveUrl(JSON.parse(line).url);
    },
  });
  t.shared.servePid = child.pid;
  const url = await Promise.race([urlLine, new Promise((_, reject) => setTimeout(() => reject(new Error('presage serve did not print its URL within 60 s')), 60_000))]);
  remoteRelay.upstreamPort = Number(new URL(url).port);
}

async function stopServe(t) {
  if (t.shared.servePid) await stopProcess(t.shared.servePid);
  t.shared.servePid = undefined;
  await new Promise((resolve) => (remoteRelay.server ? remoteRelay.server.close(resolve) : resolve()));
}

export const SCENARIOS = [
  {
    name: 'Workbench',
    timeoutMs: 30_000,
    async run(t) {
      // The palette lists contributed commands once the extension host has scanned the installed extensions.
      let rows = [];
      await waitFor("the extension's commands in the palette", async () => {
        rows = await paletteCommands(t.page, 'Presage:');
        return rows.some((r) => r.startsWith('Presage: Restart Engine'));
      }, { timeoutMs: 20_000, intervalMs: 1000 }).catch(() => {
        throw new Error(`the command palette does not list the extension's commands (is it installed?): ${JSON.stringify(rows)}`);
      });
      t.log(`palette: ${rows.length} Presage commands`);
      await t.shot('workbench');
    },
  },
  {
    name: 'Activation',
    timeoutMs: 120_000,
    async run(t) {
      pending('activation');
      if (!t.model) throw new Error(`no tiny model to point presage.model at: ${t.modelError}`);
      const entry = await waitReady(t, 90_000);
      t.log(`status bar: ${statusLine(entry)}; engine pids ${enginePids(t.server.pid).join(',') || 'none'}`);
      await t.shot('activation-status-bar');
    },
  },
  {
    name: 'npm start probe leaves the workspace clean',
    timeoutMs: 150_000,
    async run(t) {
      if (!t.model) throw new Error(`no tiny model to point presage.model at: ${t.modelError}`);
      const before = workspaceFile(t, PROBE_FILE);
      const result = await probeWorkspace(t.page, { log: t.log, readyTimeoutMs: 90_000 });
      t.log(`probe: ghost ${JSON.stringify(result.ghost.slice(0, 40))} after ${result.firstGhostMs ?? '-'} ms`);
      const dirty = await dirtyTabs(t.page);
      if (dirty.length > 0) throw new Error(`the probe left unsaved editors: ${dirty.join(', ')}`);
      if (workspaceFile(t, PROBE_FILE) !== before) throw new Error(`the probe changed ${PROBE_FILE} on disk`);
      if (!result.ghost) t.log('the probe saw no ghost text within 30 s (the revert is what this scenario checks)');
      // npm start's profile is a default VS Code: no editor feature switched off.
      const touched = Object.keys(PRODUCT_SETTINGS).filter((k) => k.startsWith('editor.'));
      if (touched.length > 0) throw new Error(`npm start's profile changes editor settings: ${touched.join(', ')}`);
    },
  },
  {
    name: 'Inline completion',
    timeoutMs: 120_000,
    async run(t) {
      pending('inline');
      const file = 'src/scratch.ts';
      await waitReady(t, 30_000);
      await openFile(t.page, file);
      await t.page.keyboard.press('Control+End');

      // 1. Type, see ghost text, Tab inserts exactly it.
      await t.page.keyboard.type('export function centroid(a: { x: number; y: number }, b: { x: number; y: number }) {\n  return ', { delay: 15 });
      const shown = Date.now();
      const first = await waitGhost(t, 'ghost text after typing');
      t.log(`ghost text after ${Date.now() - shown} ms: ${JSON.stringify(first.slice(0, 60))}`);
      await t.shot('inline-completion');
      const inserted = await acceptAndCheck(t, file, first);
      t.log(`Tab inserted ${inserted.length} chars`);

      // 2. Typing on past a suggestion: the stale one must disappear, a fresh one must come for the new text.
      await t.page.keyboard.type('\n', { delay: 15 });
      await t.page.keyboard.type('const label = ', { delay: 15 });
      const second = await waitGhost(t, 'ghost text at the new position');
      const c = divergingChar(second);
      await t.page.keyboard.type(c);
      // From the moment the typed character is on screen, the old suggestion must not be.
      await waitFor(`"${c}" rendered in the editor`, async () => (await t.page.locator('.editor-instance .monaco-editor.focused .view-lines').innerText()).replace(/\u00a0/g, ' ').includes(`label = ${c}`), { intervalMs: 20 });
      const staleSeen = [];
      const until = Date.now() + 1500;
      while (Date.now() < until) {
        const now = await ghostText(t.page);
        if (now && (now === second || now === second.slice(1))) staleSeen.push(now);
        await t.page.waitForTimeout(50);
      }
      const third = await waitGhost(t, `a fresh suggestion after typing ${JSON.stringify(c)}`);
      // The oracle is the JSON-RPC trace: a suggestion is fresh when it came from a request made for the new text.
      const fresh = readExchanges(t.profile.userDataDir, 'complete').filter((e) => e.params?.prefix?.endsWith(`const label = ${c}`));
      const cameFromFreshRequest = (shown) => fresh.some((e) => typeof e.result?.text === 'string' && normalizeInserted(e.result.text).startsWith(normalizeInserted(shown)));
      if (fresh.length === 0) throw new Error(`no completion request was made for the text typed after the suggestion (${JSON.stringify(c)})`);
      const stale = staleSeen.filter((shown) => !cameFromFreshRequest(shown));
      if (stale.length > 0) throw new Error(`after typing ${JSON.stringify(c)} the stale suggestion ${JSON.stringify(stale[0])} was still shown`);
      if (!cameFromFreshRequest(third)) throw new Error(`the suggestion shown after typing ${JSON.stringify(c)} matches no request made for that text: ${JSON.stringify(third)}`);
      await acceptAndCheck(t, file, third);
      t.log(`second suggestion ${JSON.stringify(second.slice(0, 30))} dropped after typing ${JSON.stringify(c)}; fresh one accepted`);
    },
    cleanUp: resetWorkspace,
  },
  {
    name: 'Rewrite selection',
    timeoutMs: 150_000,
    async run(t) {
      pending('rewrite');
      const file = 'src/shapes.ts';
      const original = workspaceFile(t, file);
      const lines = original.split('\n');
      const start = lines.findIndex((l) => l.startsWith('export function distance')) + 1;
      const end = start + lines.slice(start - 1).findIndex((l) => l === '}');
      const outside = (text) => {
        const l = text.split('\n');
        return [l.slice(0, start - 1).join('\n'), l.slice(l.length - (lines.length - end)).join('\n')];
      };
      await waitReady(t, 30_000);

      const lensLink = (title) => t.page.locator('.editor-instance .monaco-editor .codelens-decoration a', { hasText: title }).first();
      const rewrite = async (instruction) => {
        await openFile(t.page, file);
        await goToLine(t.page, start, 1);
        for (let i = start; i <= end; i++) await t.page.keyboard.press('Shift+ArrowDown');
        const wanted = new RegExp(`^Ln ${end + 1}, Col 1 \\(\\d+ selected\\)`);
        const selection = await waitFor(`lines ${start}-${end} selected (status bar)`, async () => (await statusBarEntries(t.page)).find((e) => wanted.test(e.text))?.text);
        await t.page.waitForTimeout(300); // the extension host learns selections asynchronously
        const before = await decorationCount(t.page);
        await runCommand(t.page, 'Presage: Rewrite Selection');
        await waitFor('the instruction box', async () => /rewrite/i.test(await t.page.locator('.quick-input-widget .quick-input-title').innerText().catch(() => '')), { timeoutMs: 10_000 });
        await t.page.keyboard.type(instruction, { delay: 10 });
        await t.page.keyboard.press('Enter');
        // While it runs the lens says "Rewriting… | Cancel"; a finished proposal offers "Accept | Reject".
        await waitFor('the proposal with Accept/Reject', async () => (await codeLenses(t.page)).some((l) => /\bAccept\b/.test(l)), { timeoutMs: 90_000, intervalMs: 250 });
        const decorations = await decorationCount(t.page);
        t.log(`"${instruction}" on ${selection}: decorations ${before} -> ${decorations}; code lenses ${JSON.stringify(await codeLenses(t.page))}`);
        if (decorations <= before) throw new Error('the proposal shows no diff decorations');
      };
      const settle = () => waitFor('the Accept/Reject lenses to go', async () => !(await codeLenses(t.page)).some((l) => /\bAccept\b/.test(l)), { timeoutMs: 10_000 });

      // Reject first (on the pristine file): the file is exactly the original again.
      await rewrite('Wrap the body of distance in try/catch');
      await t.shot('rewrite-diff');
      await lensLink('Reject').click();
      await settle();
      await saveActiveEditor(t.page);
      const rejected = workspaceFile(t, file);
      if (rejected !== original) throw new Error(`Reject did not restore the original:\n${rejected}`);

      // Accept: the function changes, the rest of the file does not.
      await rewrite('Log when distance is called');
      await lensLink('Accept').click();
      await settle();
      await saveActiveEditor(t.page);
      const accepted = workspaceFile(t, file);
      if (accepted === original) throw new Error('Accept left the file unchanged');
      if (JSON.stringify(outside(accepted)) !== JSON.stringify(outside(original))) throw new Error(`Accept changed text outside the selection:\n${accepted}`);
    },
    cleanUp: resetWorkspace,
  },
  {
    name: 'Chat panel',
    timeoutMs: 150_000,
    async run(t) {
      pending('chat');
      await waitReady(t, 30_000);
      // The question carries markup that must render as text, never run.
      const payload = '<img src=x onerror="document.body.dataset.pwned=1"><script>document.body.dataset.pwned=2</script>';
      await withDialogWatch(t, async (dialogs) => {
        const turn = await askChat(t, `What does perimeter in shapes.ts do? ${payload}`);
        if (turn.streamedLengths < 2) throw new Error(`the answer did not stream: painted at ${turn.streamedLengths} length(s) before it was done`);
        const cited = turn.assistant.locator('.presage-citation').filter({ hasText: 'shapes.ts' }).first();
        if ((await cited.count()) === 0) throw new Error(`no citation of shapes.ts: ${JSON.stringify(await turn.assistant.locator('.presage-citation').allInnerTexts())}`);
        await t.shot('chat-panel');
        await assertNothingRan(turn.body, dialogs);
        await cited.click();
        await waitFor('the cited file to open', async () => (await activeTab(t.page)).startsWith('shapes.ts'), { timeoutMs: 10_000 });
      });
    },
    cleanUp: resetWorkspace,
  },
  {
    name: 'Secrets',
    timeoutMs: 90_000,
    async run(t) {
      pending('secrets');
      await waitReady(t, 30_000);
      // Planted while the extension runs, so the file watcher sees them: a nested repository's config (a token in
      // its remote URL), a harmless-named link to .env, and a link that leaves the workspace.
      const ws = t.profile.workspace;
      fs.mkdirSync(path.join(ws, 'vendor', 'lib', '.git'), { recursive: true });
      fs.writeFileSync(path.join(ws, 'vendor', 'lib', '.git', 'config'), '[remote "origin"]\n\turl = https://bot:PRESAGE_E2E_PLANTED_GIT@example.com/r.git\n');
      fs.writeFileSync(path.join(t.profile.dir, 'outside.md'), 'PRESAGE_E2E_PLANTED_OUTSIDE\n');
      fs.rmSync(path.join(ws, 'docs', 'env-link.txt'), { force: true });
      fs.rmSync(path.join(ws, 'docs', 'outside-link.md'), { force: true });
      fs.symlinkSync(path.join(ws, '.env'), path.join(ws, 'docs', 'env-link.txt'));
      fs.symlinkSync(path.join(t.profile.dir, 'outside.md'), path.join(ws, 'docs', 'outside-link.md'));
      // The same file changed again (a watcher change event, not only a create).
      await t.page.waitForTimeout(1500);
      fs.appendFileSync(path.join(ws, 'vendor', 'lib', '.git', 'config'), '[branch "main"]\n');
      await t.page.waitForTimeout(2500);
      await runCommand(t.page, 'Presage: Show Indexed Files');
      const text = await waitFor('the indexed files to be listed', async () => {
        const all = await visibleText(t.page);
        return all.includes('shapes.ts') && all.includes('skipped: secret') ? all : undefined;
      }, { timeoutMs: 20_000 });
      await t.shot('secrets-indexed-files');
      // The listing has two parts: what the engine holds, then what was left out as a secret.
      const [indexedPart, skippedPart = ''] = text.split(/Not indexed: \d+/);
      const leaked = ['.env', 'id_rsa', 'id_ed25519', 'credentials', '.npmrc', 'secrets.json', 'prod.tfvars', 'notes.md', 'env-link', 'outside-link', '.git/', 'PRESAGE_E2E_PLANTED']
        .filter((s) => indexedPart.includes(s));
      if (leaked.length > 0) throw new Error(`secret files are indexed: ${leaked.join(', ')}`);
      if (!indexedPart.includes('inventory.py')) throw new Error('the Python file is missing from the index listing');
      const unlisted = ['.env', 'id_rsa', 'keys/id_ed25519', '.aws/credentials', '.npmrc', 'config/secrets.json', 'infra/prod.tfvars', 'docs/notes.md']
        .filter((p) => !skippedPart.includes(`skipped: secret  ${p}`));
      if (unlisted.length > 0) throw new Error(`secrets not listed as "skipped: secret": ${unlisted.join(', ')}`);
      // Nor did they ever travel to the engine: the JSON-RPC trace holds every message the extension sent.
      const logFile = presageLogFile(t.profile.userDataDir);
      if (!logFile) throw new Error('no extension log to check the traffic in');
      const traffic = fs.readFileSync(logFile, 'utf8');
      if (!traffic.includes('src/shapes.ts')) throw new Error('the trace holds no document traffic at all (is presage.trace.server on?)');
      const sent = ['/.env"', '/id_rsa"', '/id_ed25519"', '/.aws/credentials"', '/.npmrc"', '/secrets.json"', '/prod.tfvars"', '/notes.md"', '/.git/config"', 'env-link.txt"', 'outside-link.md"',
        'PRESAGE_E2E_PLANTED', 'PRESAGEe2ePLANTED'].filter((s) => traffic.includes(s));
      if (sent.length > 0) throw new Error(`secret files reached the engine: ${sent.join(', ')}`);
    },
    async cleanUp(t) {
      fs.rmSync(path.join(t.profile.workspace, 'vendor'), { recursive: true, force: true });
      fs.rmSync(path.join(t.profile.workspace, 'docs', 'env-link.txt'), { force: true });
      fs.rmSync(path.join(t.profile.workspace, 'docs', 'outside-link.md'), { force: true });
      await resetWorkspace(t);
    },
  },
  {
    name: 'Engine crash',
    timeoutMs: 120_000,
    async run(t) {
      pending('crash');
      await waitReady(t, 30_000);
      const [pid] = enginePids(t.server.pid);
      if (!pid) throw new Error('no engine process (engine.js) found under code-server');
      process.kill(pid, 'SIGKILL');
      const killedAt = Date.now();
      const seen = [];
      await waitFor('the status bar to show the restart and come back ready', async () => {
        const entry = await presageStatus(t.page);
        const line = statusLine(entry);
        if (seen.at(-1) !== line) seen.push(line);
        return seen.some((s) => !READY.test(s)) && isReady(entry);
      }, { timeoutMs: 30_000, intervalMs: 50 });
      const readyAfter = Date.now() - killedAt;
      const [newPid] = enginePids(t.server.pid);
      if (!newPid || newPid === pid) throw new Error(`no new engine process after killing ${pid}`);
      t.log(`killed ${pid}; status went ${JSON.stringify(seen)}; ready again after ${readyAfter} ms with pid ${newPid}`);

      await openFile(t.page, 'src/scratch.ts');
      await t.page.keyboard.press('Control+End');
      await t.page.keyboard.type('export const origin = ', { delay: 15 });
      const ghost = await waitGhost(t, 'a completion after the restart', 15_000);
      t.log(`completion ${Date.now() - killedAt} ms after the kill: ${JSON.stringify(ghost.slice(0, 40))}`);
      await t.shot('engine-restart');
    },
    cleanUp: resetWorkspace,
  },
  {
    name: 'remote back end',
    session: 'remote',
    timeoutMs: 240_000,
    async run(t) {
      if (!t.model) throw new Error(`no tiny model to serve: ${t.modelError}`);
      const token = `e2e-${Date.now()}-remote-token`;
      await startServe(t, token);
      const remote = remoteRelay;
      // The token goes through the command into secret storage, never into settings.json.
      await runCommand(t.page, 'Presage: Set Remote API Token');
      await t.page.waitForSelector('.quick-input-widget input[type="password"]', { state: 'visible', timeout: 10_000 });
      await t.page.keyboard.type(token, { delay: 5 });
      await t.page.keyboard.press('Enter');
      let entry;
      await waitFor('the status bar to show the remote back end with its latency', async () => {
        entry = await presageStatus(t.page);
        return entry && /remote \d+ ms/.test(`${entry.text} ${entry.label}`) && isReady(entry);
      }, { timeoutMs: 30_000, intervalMs: 250 }).catch((error) => {
        throw new Error(`${error.message}; last seen: ${statusLine(entry)}`);
      });
      t.log(`status bar: ${statusLine(entry)}`);
      if (fs.readFileSync(path.join(t.profile.userDataDir, 'User', 'settings.json'), 'utf8').includes(token)) throw new Error('the API token was written to settings.json');

      // Completion: ghost text comes from serve's /v1/completions.
      const file = 'src/scratch.ts';
      await openFile(t.page, file);
      await t.page.keyboard.press('Control+End');
      const before = remote.requests.filter((r) => r.startsWith('POST /v1/completions')).length;
      await t.page.keyboard.type('export function area(w: number, h: number) {\n  return ', { delay: 15 });
      const ghost = await waitGhost(t, 'remote ghost text after typing', 40_000);
      const completions = remote.requests.filter((r) => r.startsWith('POST /v1/completions')).length - before;
      if (completions === 0) throw new Error(`ghost text ${JSON.stringify(ghost)} appeared but serve got no /v1/completions request: ${remote.requests.join('; ')}`);
      t.log(`remote ghost text ${JSON.stringify(ghost.slice(0, 40))} after ${completions} /v1/completions request(s)`);
      await t.shot('remote-completion');
      await acceptAndCheck(t, file, ghost);

      // Chat: the answer streams from serve's /v1/chat/completions and cites the locally retrieved file.
      const chatsBefore = remote.requests.filter((r) => r.startsWith('POST /v1/chat/completions')).length;
      const turn = await askChat(t, 'What does perimeter in shapes.ts do?');
      if (remote.requests.filter((r) => r.startsWith('POST /v1/chat/completions')).length === chatsBefore) throw new Error('the chat answer did not come from serve');
      if ((await turn.assistant.locator('.presage-citation').filter({ hasText: 'shapes.ts' }).count()) === 0) throw new Error('the remote chat answer does not cite shapes.ts (local retrieval)');
      await t.shot('remote-chat');
    },
    async cleanUp(t) {
      await stopServe(t);
      await resetWorkspace(t);
    },
  },
  {
    name: 'Chat hostile answer',
    session: 'hostile',
    timeoutMs: 150_000,
    async run(t) {
      pending('chat');
      await waitReady(t, 60_000);
      await withDialogWatch(t, async (dialogs) => {
        const turn = await askChat(t, 'What does midpoint in shapes.ts return?');
        // The relay put the hostile markup first in the answer: it must be there, shown as text.
        if (!turn.text.includes('onerror') || !turn.text.includes('javascript:')) {
          throw new Error(`the hostile markup is not in the answer as text (so this test saw nothing): ${JSON.stringify(turn.text.slice(0, 300))}`);
        }
        await turn.assistant.evaluate((el) => el.scrollIntoView({ block: 'start' }));
        await t.shot('chat-hostile-answer');
        await assertNothingRan(turn.body, dialogs);
      });
    },
  },
];
