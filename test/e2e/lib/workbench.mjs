// What a user sees and does in the VS Code workbench, as playwright-core actions on the real DOM.
const QUICK_INPUT = '.quick-input-widget';
const STATUS_BAR = '#workbench\\.parts\\.statusbar';

export async function waitFor(what, probe, { timeoutMs = 10_000, intervalMs = 200 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    last = await probe();
    if (last) return last;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export async function openWorkbench(page, url) {
  await page.goto(url, { waitUntil: 'domcontentloaded', timeout: 60_000 });
  await page.waitForSelector('.monaco-workbench', { timeout: 60_000 });
  await page.waitForSelector(STATUS_BAR, { timeout: 60_000 });
  // The explorer lists the workspace once the remote file system is up.
  await page.waitForSelector('.explorer-folders-view .monaco-list-row', { timeout: 60_000 });
}

/** Texts (and tooltips / aria labels) of every status bar entry, with their DOM ids. */
export async function statusBarEntries(page) {
  return page.$$eval(`${STATUS_BAR} .statusbar-item`, (items) =>
    items.map((item) => ({
      id: item.id,
      text: (item.textContent ?? '').trim(),
      label: item.querySelector('[aria-label]')?.getAttribute('aria-label') ?? item.getAttribute('aria-label') ?? '',
    })),
  );
}

/** The Presage status bar entry (by extension id or by its text), or undefined. */
export async function presageStatus(page) {
  const entries = await statusBarEntries(page);
  return entries.find((e) => e.id.toLowerCase().startsWith('presage.presage')) ?? entries.find((e) => /presage/i.test(`${e.text} ${e.label}`));
}

export async function closeQuickInput(page) {
  if (await page.isVisible(QUICK_INPUT)) await page.keyboard.press('Escape');
}

/** Visible rows of the open quick input (command palette, quick open, quick pick). */
export async function quickInputRows(page) {
  return page.$$eval(`${QUICK_INPUT} .monaco-list-row`, (rows) => rows.map((r) => (r.getAttribute('aria-label') ?? r.textContent ?? '').trim()));
}

/** Opens the command palette and lists the commands whose label contains `filter`. */
export async function paletteCommands(page, filter) {
  await closeQuickInput(page);
  await page.keyboard.press('F1');
  await page.waitForSelector(`${QUICK_INPUT} input`, { state: 'visible' });
  await page.keyboard.type(filter, { delay: 10 });
  await page.waitForTimeout(400);
  const rows = await quickInputRows(page);
  await page.keyboard.press('Escape');
  return rows;
}

/** Runs a command by its palette title, e.g. "Presage: Rewrite Selection". */
export async function runCommand(page, title) {
  await closeQuickInput(page);
  await page.keyboard.press('F1');
  await page.waitForSelector(`${QUICK_INPUT} input`, { state: 'visible' });
  await page.keyboard.type(title, { delay: 10 });
  await waitFor(`"${title}" in the command palette`, async () => (await quickInputRows(page)).some((r) => r.startsWith(title)), { timeoutMs: 10_000 });
  const rows = await quickInputRows(page);
  const index = rows.findIndex((r) => r.startsWith(title));
  for (let i = 0; i < index; i++) await page.keyboard.press('ArrowDown');
  await page.keyboard.press('Enter');
}

/** Opens a workspace file through Quick Open and waits until its editor is active. */
export async function openFile(page, relativePath) {
  await closeQuickInput(page);
  await page.keyboard.press('Control+P');
  await page.waitForSelector(`${QUICK_INPUT} input`, { state: 'visible' });
  await page.keyboard.type(relativePath, { delay: 10 });
  const name = relativePath.split('/').pop();
  await waitFor(`${name} in quick open`, async () => (await quickInputRows(page)).some((r) => r.includes(name)));
  await page.keyboard.press('Enter');
  await page.waitForSelector(`.tabs-container .tab.active[aria-label^="${name}"]`, { timeout: 15_000 });
  await page.waitForSelector('.editor-instance .monaco-editor .view-lines', { timeout: 15_000 });
  await page.click('.editor-instance .monaco-editor .view-lines');
}

/** Moves the cursor with "Go to Line" (1-based line and column). */
export async function goToLine(page, line, column = 1) {
  await page.keyboard.press('Control+G');
  await page.waitForSelector(`${QUICK_INPUT} input`, { state: 'visible' });
  await page.keyboard.type(`${line}:${column}`);
  await page.keyboard.press('Enter');
}

/** The inline-completion ghost text currently shown in the active editor ('' when none). */
export async function ghostText(page) {
  return page.$$eval('.editor-instance .monaco-editor .ghost-text-decoration, .editor-instance .monaco-editor .ghost-text-decoration-preview, .editor-instance .monaco-editor .ghost-text', (nodes) =>
    nodes.map((n) => n.textContent ?? '').join('\n').replace(/\u00a0/g, ' '),
  );
}

/** Texts of the visible notification toasts. */
export async function notifications(page) {
  return page.$$eval('.notifications-toasts .notification-toast', (toasts) => toasts.map((t) => (t.textContent ?? '').trim()));
}

export async function saveActiveEditor(page) {
  await page.keyboard.press('Control+S');
  await page.waitForTimeout(300);
}
