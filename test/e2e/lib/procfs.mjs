// Finds processes below a given PID through /proc (Linux): used to find the engine the extension host spawned.
import fs from 'node:fs';

function readProc(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 4 (ppid) follows the parenthesised command name, which may itself contain spaces or ')'.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
    return { pid, ppid, cmdline };
  } catch {
    return undefined; // exited while we looked
  }
}

export function listProcesses() {
  return fs.readdirSync('/proc').filter((name) => /^\d+$/.test(name)).map((name) => readProc(Number(name))).filter(Boolean);
}

/** Every process whose ancestor chain reaches `rootPid`. */
export function descendants(rootPid, processes = listProcesses()) {
  const children = new Map();
  for (const p of processes) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p]);
  const found = [];
  const queue = [rootPid];
  while (queue.length > 0) {
    for (const child of children.get(queue.shift()) ?? []) {
      found.push(child);
      queue.push(child.pid);
    }
  }
  return found;
}

/** PIDs of engine processes (a command line running `engine.js`) started below `rootPid`. */
export function enginePids(rootPid) {
  return descendants(rootPid).filter((p) => /engine\.js\b/.test(p.cmdline)).map((p) => p.pid);
}
