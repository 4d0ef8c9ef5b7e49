// The chat page in a real browser: same HTML, CSP and bundled script as the webview, with a stub
// acquireVsCodeApi that records what the page posts to the extension.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import * as esbuild from 'esbuild';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { chatPageHtml } from './page';

const CHROMIUM = '/usr/bin/chromium';
const root = path.resolve(__dirname, '..', '..');
const available = fs.existsSync(CHROMIUM);
if (!available) console.log(`# chat page browser test skipped: ${CHROMIUM} is absent (apt-get install -y chromium)`);

let server: http.Server;
let origin = '';
let context: BrowserContext;
let page: Page;
let userDataDir = '';

before(async () => {
  if (!available) return;
  const bundle = await esbuild.build({ entryPoints: [path.join(root, 'media/chat.ts')], bundle: true, platform: 'browser', format: 'iife', target: 'es2022', write: false, logLevel: 'error' });
  const script = bundle.outputFiles[0]!.text;
  const css = fs.readFileSync(path.join(root, 'media/chat.css'), 'utf8');
  server = http.createServer((req, res) => {
    if (req.url === '/chat.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(script);
    else if (req.url === '/chat.css') res.writeHead(200, { 'content-type': 'text/css' }).end(css);
    else if (req.url === '/') {
      const html = chatPageHtml({ cspSource: origin, nonce: 'dGVzdC1ub25jZS0xMjM0NTY3OA==', scriptUri: `${origin}/chat.js`, styleUri: `${origin}/chat.css` });
      res.writeHead(200, { 'content-type': 'text/html' }).end(html);
    } else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'presage-chat-page-'));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    timeout: 30_000,
  });
  page = context.pages()[0] ?? (await context.newPage());
  // A string, not a function: the test runner's transform would add helpers the page does not have.
  await page.addInitScript(`
    window.__posted = [];
    window.__violations = [];
    let state;
    document.addEventListener('securitypolicyviolation', (e) => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));
    window.acquireVsCodeApi = () => ({
      postMessage: (m) => window.__posted.push(m),
      getState: () => state,
      setState: (s) => { state = s; },
    });
  `);
});

after(async () => {
  await context?.close().catch(() => {});
  server?.close();
  if (userDataDir) fs.rmSync(userDataDir, { recursive: true, force: true });
});

const posted = (): Promise<Array<Record<string, unknown>>> => page.evaluate(() => (window as unknown as { __posted: Array<Record<string, unknown>> }).__posted);
const hostSends = (messages: unknown[]): Promise<void> => page.evaluate((ms) => ms.forEach((m) => window.postMessage(m, '*')), messages);

test('chat page: a streamed malicious answer renders as text, runs nothing, and citations open files', { skip: !available && 'chromium is absent', timeout: 30_000 }, async () => {
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(`${origin}/`);
  await page.waitForSelector('#presage-chat-input');
  assert.deepEqual(await posted(), [{ type: 'ready' }]);

  // Typing a question and pressing Enter asks the host.
  await page.fill('#presage-chat-input', 'What does perimeter in shapes.ts do?');
  await page.press('#presage-chat-input', 'Enter');
  assert.deepEqual((await posted()).at(-1), { type: 'ask', text: 'What does perimeter in shapes.ts do?' });
  assert.equal(await page.inputValue('#presage-chat-input'), '');

  const question = 'What does perimeter do? <img src=x onerror="window.__pwned=\'q\'">';
  const answer = [
    'It sums `distance` over the edges.\n\n',
    '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>\n\n',
    '[click me](javascript:window.__pwned=3) and <svg onload="window.__pwned=4"></svg>\n\n',
    '```ts\nreturn total;\n```\n',
  ];
  await hostSends([{ type: 'start', id: 'c1', question }]);
  const lengths: number[] = [];
  for (const delta of answer) {
    await hostSends([{ type: 'delta', id: 'c1', delta }]);
    await page.waitForTimeout(60);
    lengths.push((await page.innerText('.presage-turn[data-id="c1"] .presage-answer')).length);
  }
  for (let i = 1; i < lengths.length; i++) assert.ok(lengths[i]! > lengths[i - 1]!, `answer grows while streaming: ${lengths}`);
  assert.equal(await page.getAttribute('.presage-turn[data-id="c1"] .presage-assistant', 'aria-busy'), 'true');

  const citation = { uri: 'file:///ws/src/shapes.ts', label: 'src/shapes.ts:17', line: 16 };
  await hostSends([{ type: 'done', id: 'c1', text: answer.join(''), citations: [citation] }]);
  await page.waitForSelector('.presage-turn[data-id="c1"] .presage-assistant[aria-busy="false"]');

  const answerText = await page.innerText('.presage-turn[data-id="c1"] .presage-answer');
  assert.match(answerText, /It sums distance over the edges\./);
  assert.match(answerText, /<img src=x onerror="window.__pwned=1"><script>window.__pwned=2<\/script>/);
  assert.match(answerText, /\[click me\]\(javascript:window.__pwned=3\)/);
  assert.match(answerText, /return total;/);
  assert.match(await page.innerText('.presage-turn[data-id="c1"] .presage-question'), /onerror="window.__pwned='q'"/);
  assert.equal(await page.locator('#presage-chat-log img, #presage-chat-log script, #presage-chat-log svg, #presage-chat-log [onerror], #presage-chat-log [onload]').count(), 0);
  assert.equal(await page.locator('#presage-chat-log a[href]').count(), 0);
  assert.equal(await page.locator('#presage-chat-log pre code.language-ts').count(), 1);

  // Clicking the citation asks the host to open the file at the line.
  await page.click('.presage-citation:has-text("src/shapes.ts:17")');
  assert.deepEqual((await posted()).at(-1), { type: 'openCitation', uri: citation.uri, line: 16 });

  const violationsOf = (): Promise<string[]> => page.evaluate(() => (window as unknown as { __violations: string[] }).__violations);
  assert.deepEqual(await violationsOf(), [], 'the rendered answer asked for nothing the CSP had to block');

  // The CSP itself blocks inline handlers even if markup got in by another route.
  await page.evaluate(() => {
    const probe = document.createElement('div');
    probe.innerHTML = '<img src="x" onerror="window.__pwned=5">';
    document.body.append(probe);
  });
  await page.waitForTimeout(200);
  assert.equal(await page.evaluate(() => (window as unknown as { __pwned?: unknown }).__pwned), undefined);
  assert.ok((await violationsOf()).length > 0, 'the CSP reported the blocked probe');

  // Errors are shown in the panel, and Stop posts a cancel while streaming.
  await hostSends([{ type: 'start', id: 'c2', question: 'again' }, { type: 'delta', id: 'c2', delta: 'partial' }]);
  await page.waitForSelector('#presage-chat-stop:not([disabled])');
  await page.click('#presage-chat-stop');
  assert.deepEqual((await posted()).at(-1), { type: 'cancel' });
  await hostSends([{ type: 'error', id: 'c2', message: 'No model is loaded.' }]);
  await page.waitForSelector('.presage-turn[data-id="c2"] .presage-error');
  assert.equal(await page.innerText('.presage-turn[data-id="c2"] .presage-error'), 'No model is loaded.');
  assert.equal(await page.evaluate(() => (window as unknown as { __pwned?: unknown }).__pwned), undefined);
  assert.deepEqual(pageErrors, []);
});
