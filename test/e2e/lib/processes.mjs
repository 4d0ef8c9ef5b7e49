// Starts child processes in their own process groups and stops every one of them, by PID, on exit,
// on failure and on Ctrl-C / SIGTERM.
import { spawn } from 'node:child_process';

/** @type {Map<number, {name: string, child: import('node:child_process').ChildProcess}>} */
const running = new Map();
let hooksInstalled = false;
let stopping = false;

/** True once a signal asked everything to stop. */
export function isStopping() {
  return stopping;
}

function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function signalGroup(pid, signal) {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      /* already gone */
    }
  }
}

function groupAlive(pid) {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return isAlive(pid);
  }
}

/** Synchronous last resort (process 'exit' cannot wait): SIGKILL every group still registered. */
function killAllNow() {
  for (const pid of running.keys()) signalGroup(pid, 'SIGKILL');
  running.clear();
}

function installHooks() {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', killAllNow);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(signal, () => {
      stopping = true;
      process.stderr.write(`\n${signal}: stopping ${running.size} process group(s)\n`);
      stopAll().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
    });
  }
}

/**
 * Spawns `command` detached (it leads a new process group, so its own children die with it).
 * Output goes to `onLine` (one call per line) when given, else is discarded.
 */
export function startProcess(name, command, args, { cwd, env, onLine } = {}) {
  installHooks();
  const child = spawn(command, args, { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid === undefined) throw new Error(`${name}: could not start ${command}`);
  running.set(child.pid, { name, child });
  for (const stream of [child.stdout, child.stderr]) {
    let pending = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk) => {
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      if (onLine) for (const line of lines) onLine(line);
    });
  }
  child.on('exit', () => running.delete(child.pid));
  return child;
}

/** SIGTERM the group, then SIGKILL whatever is left after `graceMs`. */
export async function stopProcess(pid, graceMs = 3000) {
  if (!groupAlive(pid)) {
    running.delete(pid);
    return;
  }
  signalGroup(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && groupAlive(pid)) await new Promise((r) => setTimeout(r, 100));
  if (groupAlive(pid)) signalGroup(pid, 'SIGKILL');
  running.delete(pid);
}

export async function stopAll() {
  await Promise.all([...running.keys()].map((pid) => stopProcess(pid)));
}
