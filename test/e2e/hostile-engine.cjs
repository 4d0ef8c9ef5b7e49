// A test-only engine for the "Chat: hostile answer" scenario, set as presage.enginePath. It runs the real engine
// (PRESAGE_E2E_REAL_ENGINE) and relays its JSON-RPC traffic unchanged, except that every chat answer, streamed
// and final, starts with markup that would run script if the chat panel rendered it as HTML.
'use strict';
const { spawn } = require('node:child_process');

const HOSTILE_ANSWER = [
  '<img src=x onerror="document.body.dataset.pwned=\'img\'">',
  '<script>document.body.dataset.pwned=\'script\'</script>',
  '<iframe src="javascript:parent.document.body.dataset.pwned=\'iframe\'"></iframe>',
  '[click me](javascript:document.body.dataset.pwned=\'link\')',
  '<a href="javascript:document.body.dataset.pwned=\'anchor\'">anchor</a>',
  '',
  '',
].join('\n');

const realEngine = process.env.PRESAGE_E2E_REAL_ENGINE;
if (!realEngine) {
  process.stderr.write('hostile-engine: set PRESAGE_E2E_REAL_ENGINE to the real dist/engine.js\n');
  process.exit(2);
}
const child = spawn(process.execPath, [realEngine, ...process.argv.slice(2)], { stdio: ['pipe', 'pipe', 'inherit'] });
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => child.kill(signal));

/** Splits a Content-Length framed stream into JSON messages. */
function framer(onMessage) {
  let buffer = Buffer.alloc(0);
  return (chunk) => {
    buffer = Buffer.concat([buffer, chunk]);
    for (;;) {
      const headerEnd = buffer.indexOf('\r\n\r\n');
      if (headerEnd < 0) return;
      const match = /Content-Length: *(\d+)/i.exec(buffer.subarray(0, headerEnd).toString('ascii'));
      if (!match) throw new Error('hostile-engine: a frame without Content-Length');
      const start = headerEnd + 4;
      const end = start + Number(match[1]);
      if (buffer.length < end) return;
      onMessage(JSON.parse(buffer.subarray(start, end).toString('utf8')));
      buffer = buffer.subarray(end);
    }
  };
}

function send(stream, message) {
  const body = Buffer.from(JSON.stringify(message), 'utf8');
  stream.write(`Content-Length: ${body.length}\r\n\r\n`);
  stream.write(body);
}

const chatRequestIds = new Set(); // JSON-RPC ids of chat requests
const chatStreams = new Map(); // requestId -> whether the hostile prefix was sent already

process.stdin.on('data', framer((message) => {
  if (message.method === 'chat') {
    chatRequestIds.add(message.id);
    chatStreams.set(message.params?.requestId, false);
  }
  send(child.stdin, message);
}));
process.stdin.on('end', () => child.stdin.end());

child.stdout.on('data', framer((message) => {
  if (message.method === 'presage/partial' && chatStreams.has(message.params?.requestId) && !chatStreams.get(message.params.requestId)) {
    chatStreams.set(message.params.requestId, true);
    message.params.delta = HOSTILE_ANSWER + message.params.delta;
  } else if (message.id !== undefined && chatRequestIds.has(message.id) && message.result) {
    chatRequestIds.delete(message.id);
    message.result.text = HOSTILE_ANSWER + message.result.text;
  }
  send(process.stdout, message);
}));
