// Reads the extension's log (with presage.trace.server = verbose) back as JSON-RPC exchanges: the oracle for
// what the extension asked the engine and what it got.
import fs from 'node:fs';
import path from 'node:path';

/** The newest Presage.log under the profile's user-data logs, or undefined. */
export function presageLogFile(userDataDir) {
  const logs = path.join(userDataDir, 'logs');
  if (!fs.existsSync(logs)) return undefined;
  const found = fs.readdirSync(logs, { recursive: true }).map(String).filter((p) => p.endsWith(`presage.presage${path.sep}Presage.log`));
  return found.map((p) => path.join(logs, p)).sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs)[0];
}

const ENTRY = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+ \[\w+\] /;
const SENT = /\[trace\] Sending request '(\w+) - \((\d+)\)'/;
const RECEIVED = /\[trace\] Received response '(\w+) - \((\d+)\)'/;

/** Parses trace entries into [{ method, id, params, result }] for requests of `method`, in sending order. */
export function parseExchanges(text, method) {
  const lines = text.split('\n');
  const exchanges = new Map();
  for (let i = 0; i < lines.length; i++) {
    const sent = SENT.exec(lines[i]);
    const received = RECEIVED.exec(lines[i]);
    const match = sent ?? received;
    if (!match || match[1] !== method) continue;
    // The JSON body follows "Params:" / "Result:" up to the next timestamped entry.
    let end = i + 1;
    while (end < lines.length && !ENTRY.test(lines[end])) end++;
    const body = lines.slice(i + 1, end).join('\n').replace(/^(Params|Result): /, '');
    let value;
    try {
      value = JSON.parse(body);
    } catch {
      value = undefined; // a body the trace cut short: keep the exchange, without it
    }
    const id = Number(match[2]);
    const exchange = exchanges.get(id) ?? { method, id };
    if (sent) exchange.params = value;
    else exchange.result = value;
    exchanges.set(id, exchange);
  }
  return [...exchanges.values()].sort((a, b) => a.id - b.id);
}

export function readExchanges(userDataDir, method) {
  const file = presageLogFile(userDataDir);
  return file ? parseExchanges(fs.readFileSync(file, 'utf8'), method) : [];
}
