// The global history (earlier outputs in the drafter's index) on disk: <storageDir>/history.bin.
// Layout: "PSGH" magic, u32 version, u32 fingerprint length, fingerprint (utf-8), u32 payload length, payload.
// The fingerprint names the tokenizer: token ids from another vocabulary would be noise.
import fs from 'node:fs';
import path from 'node:path';

const MAGIC = 0x48475350; // "PSGH" little-endian
const VERSION = 1;
export const HISTORY_FILE = 'history.bin';

export function encodeHistory(fingerprint: string, payload: Uint8Array): Uint8Array {
  const fp = Buffer.from(fingerprint, 'utf8');
  const out = Buffer.alloc(16 + fp.length + payload.length);
  out.writeUInt32LE(MAGIC, 0);
  out.writeUInt32LE(VERSION, 4);
  out.writeUInt32LE(fp.length, 8);
  fp.copy(out, 12);
  out.writeUInt32LE(payload.length, 12 + fp.length);
  out.set(payload, 16 + fp.length);
  return out;
}

/** Returns the payload, or throws a clear error for a corrupt file or another tokenizer's history. */
export function decodeHistory(data: Uint8Array, fingerprint: string): Uint8Array {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (buf.length < 16 || buf.readUInt32LE(0) !== MAGIC) throw new Error('not a history file (bad magic)');
  if (buf.readUInt32LE(4) !== VERSION) throw new Error(`unsupported history version ${buf.readUInt32LE(4)}`);
  const fpLen = buf.readUInt32LE(8);
  if (12 + fpLen + 4 > buf.length) throw new Error('truncated history header');
  const fp = buf.subarray(12, 12 + fpLen).toString('utf8');
  if (fp !== fingerprint) throw new Error(`history was written for another tokenizer (${fp.slice(0, 40)})`);
  const len = buf.readUInt32LE(12 + fpLen);
  if (16 + fpLen + len !== buf.length) throw new Error(`history payload is ${buf.length - 16 - fpLen} bytes, header says ${len}`);
  return new Uint8Array(buf.subarray(16 + fpLen));
}

export function historyPath(storageDir: string): string {
  return path.join(storageDir, HISTORY_FILE);
}

/** Writes atomically (temporary file, then rename). */
export function saveHistory(storageDir: string, fingerprint: string, payload: Uint8Array): number {
  fs.mkdirSync(storageDir, { recursive: true });
  const file = historyPath(storageDir);
  const tmp = `${file}.${process.pid}.tmp`;
  const data = encodeHistory(fingerprint, payload);
  fs.writeFileSync(tmp, data);
  fs.renameSync(tmp, file);
  return data.length;
}

/** Loads the payload; undefined when there is no file. A bad file is deleted and reported through `warn`. */
export function loadHistory(storageDir: string, fingerprint: string, warn: (message: string) => void): Uint8Array | undefined {
  const file = historyPath(storageDir);
  let data: Uint8Array;
  try {
    data = fs.readFileSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    warn(`cannot read ${file}: ${(err as Error).message}; starting with an empty history`);
    return undefined;
  }
  try {
    return decodeHistory(data, fingerprint);
  } catch (err) {
    warn(`discarding ${file}: ${(err as Error).message}`);
    fs.rmSync(file, { force: true });
    return undefined;
  }
}
