// What a user sees and does in the VS Code workbench, as playwright-core actions on the real DOM.
const QUICK_INPUT = '.quick-input-widget';
// The quick input's text box: the input whose aria-controls names the result list, in every VS Code release
// tested (1.90 also puts hidden checkboxes, select-all and one per row, in the widget, so a bare `input` matches
// one of those first; 1.139 dropped the box's combobox role and its aria-autocomplete outside the palette).
const QUICK_INPUT_BOX = `${QUICK_INPUT} input[aria-controls]`;
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
  await page.waitForSelector(QUICK_INPUT_BOX, { state: 'visible' });
  await page.keyboard.type(filter, { delay: 10 });
  await page.waitForTimeout(400);
  const rows = await quickInputRows(page);
  await page.keyboard.press('Escape');
  return rows;
}

/**
 * Runs a command by its palette title, e.g. "Presage: Rewrite Selection". The palette is reopened until the
 * command shows: VS Code 1.90 lists the commands known when the palette opened, so one opened while the extension
 * host is still registering an extension's commands never shows them, however long it stays open.
 */
export async function runCommand(page, title, { timeoutMs = 10_000 } = {}) {
  const listed = (rows) => rows.some((r) => r.startsWith(title));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await closeQuickInput(page);
    await page.keyboard.press('F1');
    await page.waitForSelector(QUICK_INPUT_BOX, { state: 'visible' });
    await page.keyboard.type(title, { delay: 10 });
    const attemptMs = Math.max(500, Math.min(3000, deadline - Date.now()));
    const found = await waitFor(`"${title}" in the command palette`, async () => listed(await quickInputRows(page)), { timeoutMs: attemptMs }).catch(() => false);
    if (found) break;
    if (Date.now() >= deadline) {
      await closeQuickInput(page);
      throw new Error(`timed out after ${timeoutMs} ms waiting for "${title}" in the command palette`);
    }
  }
  const rows = await quickInputRows(page);
  const exact = rows.findIndex((r) => r === title || r.startsWith(`${title},`));
  const index = exact >= 0 ? exact : rows.findIndex((r) => r.startsWith(title));
  for (let i = 0; i < index; i++) await page.keyboard.press('ArrowDown');
  await page.keyboard.press('Enter');
}

/** Opens a workspace file through Quick Open and waits until its editor is active. */
export async function openFile(page, relativePath) {
  await closeQuickInput(page);
  await page.keyboard.press('Control+P');
  await page.waitForSelector(QUICK_INPUT_BOX, { state: 'visible' });
  await page.keyboard.type(relativePath, { delay: 10 });
  const name = relativePath.split('/').pop();
  // Results update as the query is typed: wait until the best match is the file itself.
  await waitFor(`${name} first in quick open`, async () => (await quickInputRows(page))[0]?.startsWith(name));
  await page.keyboard.press('Enter');
  await page.waitForSelector(`.tabs-container .tab.active[aria-label^="${name}"]`, { timeout: 15_000 });
  await page.waitForSelector('.editor-instance .monaco-editor .view-lines', { timeout: 15_000 });
  await page.click('.editor-instance .monaco-editor .view-lines');
}

/** Moves the cursor with "Go to Line" (1-based line and column). */
export async function goToLine(page, line, column = 1) {
  await page.keyboard.press('Control+G');
  await page.waitForSelector(QUICK_INPUT_BOX, { state: 'visible' });
  await page.keyboard.type(`${line}:${column}`);
  await page.keyboard.press('Enter');
}

/**
 * The inline-completion ghost text shown in the active editor ('' when none): the part injected into the
 * cursor line, then each further line (rendered in a view zone below it), as the text Tab would insert.
 */
export async function ghostText(page) {
  return page.evaluate(() => {
    const editors = [...document.querySelectorAll('.editor-instance .monaco-editor')];
    const editor = editors.find((e) => e.classList.contains('focused')) ?? editors[0];
    if (!editor) return '';
    const text = (nodes) => nodes.map((n) => n.textContent ?? '').join('').replace(/\u00a0/g, ' ');
    const inline = text([...editor.querySelectorAll('.ghost-text-decoration')]);
    const lines = [...editor.querySelectorAll('.view-line')]
      .filter((line) => line.querySelector('.ghost-text'))
      .sort((a, b) => parseFloat(a.style.top || '0') - parseFloat(b.style.top || '0'))
      .map((line) => text([...line.querySelectorAll('.ghost-text')]));
    return [inline, ...lines].join('\n');
  });
}

export async function saveActiveEditor(page) {
  await page.keyboard.press('Control+S');
  await page.waitForTimeout(300);
}

/** Drops blank lines and trailing spaces: the DOM renders an empty ghost line as nothing. */
export function normalizeInserted(text) {
  // Ghost text renders a tab as spaces: compare runs of horizontal white space as one space.
  return text.split('\n').map((line) => line.replace(/[ \t\u00a0]+/g, ' ').trimEnd()).filter(Boolean).join('\n');
}

/** Number of extension decorations (`ced-*` classes) rendered in the active editor. */
export async function decorationCount(page) {
  return page.evaluate(() => {
    const editors = [...document.querySelectorAll('.editor-instance .monaco-editor')];
    const editor = editors.find((e) => e.classList.contains('focused')) ?? editors[0];
    return editor ? editor.querySelectorAll('[class*="ced-"]').length : 0;
  });
}

/** Code lens texts in the active editor (e.g. "Accept | Reject"). */
export async function codeLenses(page) {
  return page.$$eval('.editor-instance .monaco-editor .codelens-decoration', (nodes) => nodes.map((n) => (n.textContent ?? '').trim()));
}

/** Label of the active editor tab. */
export async function activeTab(page) {
  return page.$eval('.tabs-container .tab.active', (tab) => tab.getAttribute('aria-label') ?? '').catch(() => '');
}

/** Everything visible that a command may have shown: quick input rows, editors' text, the panel, notifications. */
export async function visibleText(page) {
  return page.evaluate(() => {
    const parts = [];
    for (const selector of ['.quick-input-widget .monaco-list-row', '.editor-instance .view-lines', '.part.panel .view-lines', '.notifications-toasts', '.part.panel']) {
      for (const node of document.querySelectorAll(selector)) if (node.checkVisibility()) parts.push(node.textContent ?? '');
    }
    return parts.join('\n').replace(/\u00a0/g, ' ');
  });
}
