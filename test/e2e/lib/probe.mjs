// `npm start`'s probe, also run by the e2e suite: waits for the engine to be ready, types into the sample's
// scratch file until ghost text shows, then reverts the file and closes it, so the workspace a user opens has no
// unsaved file and no errors.
import { ghostText, openFile, presageStatus, runCommand, waitFor } from './workbench.mjs';

const TOKENS_PER_S = /(\d+(?:\.\d+)?)\s*tok(?:en)?s?\s*\/\s*s/i;
export const PROBE_FILE = 'src/scratch.ts';

/** Labels of editor tabs with unsaved changes. */
export async function dirtyTabs(page) {
  return page.$$eval('.tabs-container .tab.dirty', (tabs) => tabs.map((t) => t.getAttribute('aria-label') ?? t.textContent ?? ''));
}

/**
 * Returns { ghost, firstGhostMs, tokensPerS, status }. `log` gets one line per status change. The typed text is
 * reverted (File: Revert File) and the editor closed, whether or not a completion came.
 */
export async function probeWorkspace(page, { log = () => {}, readyTimeoutMs = 120_000 } = {}) {
  let entry;
  let lastLine = '';
  await waitFor('the Presage status bar to say ready', async () => {
    entry = await presageStatus(page);
    const line = entry ? `${entry.text} | ${entry.label}`.replace(/\s*\n\s*/g, ' · ') : '';
    if (line && line !== lastLine) log(`status: ${line}`);
    lastLine = line;
    return entry && /\bready\b/i.test(line);
  }, { timeoutMs: readyTimeoutMs, intervalMs: 500 });
  await openFile(page, PROBE_FILE);
  let ghost = '';
  let firstGhostMs;
  try {
    await page.keyboard.press('Control+End');
    await page.keyboard.type('export function centroid(', { delay: 20 });
    const started = Date.now();
    ghost = await waitFor('a first inline completion', async () => (await ghostText(page)) || undefined, { timeoutMs: 30_000 }).catch(() => '');
    if (ghost) firstGhostMs = Date.now() - started;
    await page.waitForTimeout(500);
    entry = await presageStatus(page);
  } finally {
    // Put the file back as it was on disk and close it: the probe must leave nothing for the user to clean up.
    await page.keyboard.press('Escape');
    await runCommand(page, 'File: Revert File');
    await page.waitForTimeout(300);
    await runCommand(page, 'View: Close Editor');
    await page.waitForTimeout(300);
  }
  const speed = TOKENS_PER_S.exec(`${entry?.text} ${entry?.label}`);
  return { ghost, firstGhostMs, tokensPerS: speed ? Number(speed[1]) : undefined, status: entry };
}
