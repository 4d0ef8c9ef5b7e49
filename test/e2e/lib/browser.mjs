// Debian chromium, started by us (so we own its PID and process group) and driven over CDP by playwright-core.
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { startProcess, stopProcess } from './processes.mjs';

export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--no-default-browser-check',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
  '--disable-breakpad',
  '--disable-crash-reporter',
  '--window-size=1440,900',
];

/** Starts chromium with a fresh user-data-dir; returns { browser, page, pid, stop() }. */
export async function launchBrowser(executablePath, userDataDir) {
  fs.rmSync(userDataDir, { recursive: true, force: true });
  fs.mkdirSync(userDataDir, { recursive: true });
  let resolveEndpoint;
  let stderrTail = [];
  const endpoint = new Promise((resolve) => (resolveEndpoint = resolve));
  const child = startProcess('chromium', executablePath, [...CHROMIUM_FLAGS, `--user-data-dir=${userDataDir}`, '--remote-debugging-port=0', 'about:blank'], {
    onLine: (line) => {
      stderrTail = [...stderrTail.slice(-20), line];
      const match = /DevTools listening on (ws:\/\/\S+)/.exec(line);
      if (match) resolveEndpoint(match[1]);
    },
  });
  const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error(`chromium did not open its DevTools port:\n${stderrTail.join('\n')}`)), 30_000).unref());
  let browser;
  try {
    const ws = await Promise.race([endpoint, timeout]);
    browser = await chromium.connectOverCDP(/** @type {string} */ (ws));
  } catch (error) {
    await stopProcess(child.pid);
    throw error;
  }
  const context = browser.contexts()[0] ?? (await browser.newContext());
  const page = context.pages()[0] ?? (await context.newPage());
  await page.setViewportSize({ width: 1440, height: 900 });
  return {
    browser,
    page,
    pid: child.pid,
    stop: async () => {
      await browser.close().catch(() => {});
      await stopProcess(child.pid);
    },
  };
}

export async function screenshot(page, dir, name) {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}.png`);
  await page.screenshot({ path: file, timeout: 15_000 });
  return file;
}
