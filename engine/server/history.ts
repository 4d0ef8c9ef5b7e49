// The global history (earlier outputs in the drafter's index) on disk, in <storageDir>:
// - history.bin, the compacted snapshot: "PSGH" magic, u32 version, u32 fingerprint length, fingerprint (utf-8),
//   u32 payload length, payload (token sequences in draft/history.ts's format, oldest first);
// - history.log, append-only: "PSGL" magic, u32 version, u32 fingerprint length, fingerprint, then one record per
//   completion: u32 token count n, n u32 token ids, u32 FNV-1a of the n ids. Each engine appends its own completions
//   (one write each, then fdatasync), so several engines on one folder never overwrite each other, and a crash
//   loses at most the record being written (a torn tail fails its checksum and is dropped).
// - history.lock, held (exclusive create) while one engine compacts snapshot + log into a new snapshot.
// The fingerprint names the tokenizer: token ids from another vocabulary would be noise.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { encodeHistory as encodeSequences } from '../draft/history';

const MAGIC = 0x48475350; // "PSGH" little-endian
const LOG_MAGIC = 0x4c475350; // "PSGL" little-endian
const VERSION = 1;
export const HISTORY_FILE = 'history.bin';
export const HISTORY_LOG = 'history.log';
const LOCK_FILE = 'history.lock';
/** Newest sequences kept by a compaction (the drafters' own export budget). */
export const DEFAULT_MAX_HISTORY_BYTES = 16 * 1024 * 1024;
/** A log over this size is folded into the snapshot (at load, on append and at shutdown). */
const DEFAULT_COMPACT_LOG_BYTES = 1024 * 1024;
/** A lock older than this is left over from a crashed compaction. */
const STALE_LOCK_MS = 30_000;

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

/** Writes atomically and durably (temporary file, fsync, rename). */
export function saveHistory(storageDir: string, fingerprint: string, payload: Uint8Array): number {
  fs.mkdirSync(storageDir, { recursive: true });
  const file = historyPath(storageDir);
  const tmp = `${file}.${process.pid}.tmp`;
  const data = encodeHistory(fingerprint, payload);
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeSync(fd, data);
    fs.fdatasyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
  return data.length;
}

/** Loads the snapshot's payload; undefined when there is none. A bad file is deleted (when it can be) and reported. */
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
    removeQuietly(file, warn);
    return undefined;
  }
}

function removeQuietly(file: string, warn: (message: string) => void): void {
  try {
    fs.unlinkSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') warn(`cannot remove ${file}: ${(err as Error).message}`);
  }
}

const SEQUENCES_MAGIC = 0x31485350; // draft/history.ts's "PSH1"

/**
 * Checks a payload in draft/history.ts's format and returns its sequences as views of one aligned copy: one
 * pass over the bytes, no per-token arrays (a 16 MB history holds millions of tokens).
 */
export function splitSequences(payload: Uint8Array): Uint32Array[] {
  if (payload.length === 0) return [];
  if (payload.length < 8 || payload.length % 4 !== 0) throw new Error(`history payload of ${payload.length} bytes is not whole 32-bit words`);
  const words = new Uint32Array(payload.length / 4);
  new Uint8Array(words.buffer).set(payload);
  if (os.endianness() === 'BE') new Uint8Array(words.buffer).reverse(); // never taken on supported platforms
  if (words[0] !== SEQUENCES_MAGIC) throw new Error('history payload is corrupt (bad header)');
  const count = words[1]!;
  const out: Uint32Array[] = [];
  let o = 2;
  for (let i = 0; i < count; i++) {
    if (o >= words.length) throw new Error(`history payload is corrupt (truncated at sequence ${i} of ${count})`);
    const len = words[o++]!;
    if (o + len > words.length) throw new Error(`history payload is corrupt (sequence ${i} claims ${len} tokens past the end)`);
    const seq = words.subarray(o, o + len);
    for (let k = 0; k < len; k++) if (seq[k]! > 0x7fffffff) throw new Error(`history payload is corrupt (token ${seq[k]} out of range)`);
    out.push(seq);
    o += len;
  }
  if (o !== words.length) throw new Error(`history payload is corrupt (${4 * (words.length - o)} trailing bytes)`);
  return out;
}

function fnv1a(words: Uint32Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    h = Math.imul(h ^ (w & 0xff), 0x01000193);
    h = Math.imul(h ^ ((w >>> 8) & 0xff), 0x01000193);
    h = Math.imul(h ^ ((w >>> 16) & 0xff), 0x01000193);
    h = Math.imul(h ^ (w >>> 24), 0x01000193);
  }
  return h >>> 0;
}

function logHeader(fingerprint: string): Buffer {
  const fp = Buffer.from(fingerprint, 'utf8');
  const out = Buffer.alloc(12 + fp.length);
  out.writeUInt32LE(LOG_MAGIC, 0);
  out.writeUInt32LE(VERSION, 4);
  out.writeUInt32LE(fp.length, 8);
  fp.copy(out, 12);
  return out;
}

export function encodeLogRecord(tokens: ArrayLike<number>): Buffer {
  const words = new Uint32Array(tokens.length + 2);
  words[0] = tokens.length;
  for (let i = 0; i < tokens.length; i++) words[i + 1] = tokens[i]!;
  words[tokens.length + 1] = fnv1a(words.subarray(1, tokens.length + 1));
  const out = Buffer.from(words.buffer);
  if (os.endianness() === 'BE') out.swap32();
  return out;
}

/**
 * The records of a log, in order. A header for another tokenizer throws; a torn or damaged record ends the
 * log there (`damaged` counts what was dropped), since appends only ever add at the end.
 */
export function decodeLog(data: Buffer, fingerprint: string): { sequences: number[][]; damagedBytes: number } {
  if (data.length < 12 || data.readUInt32LE(0) !== LOG_MAGIC) throw new Error('not a history log (bad magic)');
  if (data.readUInt32LE(4) !== VERSION) throw new Error(`unsupported history log version ${data.readUInt32LE(4)}`);
  const fpLen = data.readUInt32LE(8);
  if (12 + fpLen > data.length) throw new Error('truncated history log header');
  const fp = data.subarray(12, 12 + fpLen).toString('utf8');
  if (fp !== fingerprint) throw new Error(`history log was written for another tokenizer (${fp.slice(0, 40)})`);
  const sequences: number[][] = [];
  let o = 12 + fpLen;
  while (o + 8 <= data.length) {
    const n = data.readUInt32LE(o);
    const end = o + 4 + 4 * n + 4;
    if (end > data.length) break;
    const words = new Uint32Array(n);
    let ok = true;
    for (let i = 0; i < n; i++) {
      const t = data.readUInt32LE(o + 4 + 4 * i);
      if (t > 0x7fffffff) ok = false;
      words[i] = t;
    }
    if (!ok || fnv1a(words) !== data.readUInt32LE(end - 4)) break;
    sequences.push(Array.from(words));
    o = end;
  }
  return { sequences, damagedBytes: data.length - o };
}

export interface HistoryStoreOptions {
  /** Newest bytes (in draft/history.ts's encoding) a compaction keeps. */
  maxBytes?: number;
  /** Log size that triggers a compaction. */
  compactLogBytes?: number;
  /** fdatasync each appended completion (default true: a power cut then loses at most the one being written). */
  sync?: boolean;
}

/**
 * One engine's view of a storage folder's history. Engines only append their own completions and compact from
 * what is on disk, never from memory, so nothing another engine wrote is overwritten. Every disk failure
 * becomes a warning: after a failed write the store keeps running without persistence.
 */
export class HistoryStore {
  readonly dir: string;
  private readonly _fingerprint: string;
  private readonly _warn: (message: string) => void;
  private readonly _maxBytes: number;
  private readonly _compactLogBytes: number;
  private readonly _sync: boolean;
  private _disabled = false;
  private _logBytes = 0;
  private _snapshotBytes = 0;

  constructor(storageDir: string, fingerprint: string, warn: (message: string) => void, options: HistoryStoreOptions = {}) {
    this.dir = storageDir;
    this._fingerprint = fingerprint;
    this._warn = warn;
    this._maxBytes = options.maxBytes ?? DEFAULT_MAX_HISTORY_BYTES;
    this._compactLogBytes = options.compactLogBytes ?? DEFAULT_COMPACT_LOG_BYTES;
    this._sync = options.sync !== false;
  }

  /** Bytes of the history on disk (snapshot plus log). */
  get bytes(): number {
    return this._snapshotBytes + this._logBytes;
  }

  /** False once a write failed: the history then lives in memory only. */
  get persistent(): boolean {
    return !this._disabled;
  }

  private get _logFile(): string {
    return path.join(this.dir, HISTORY_LOG);
  }

  /** Snapshot then log, oldest first, as one payload in draft/history.ts's format (capped to maxBytes). */
  load(): Uint8Array {
    const { sequences, snapshot, logged } = this._readAll(true);
    // Usually there is nothing appended since the last compaction: the checked snapshot is the payload.
    const payload = logged === 0 && snapshot && snapshot.length <= this._maxBytes ? snapshot : encodeSequences(sequences, this._maxBytes);
    if (this._logBytes > this._compactLogBytes) this.compact();
    return payload;
  }

  /** Appends one completion: a single write of a whole record (O_APPEND), then fdatasync. */
  append(tokens: ArrayLike<number>): void {
    if (this._disabled || tokens.length === 0) return;
    try {
      this._ensureLog();
      const fd = fs.openSync(this._logFile, 'a');
      try {
        const record = encodeLogRecord(tokens);
        fs.writeSync(fd, record);
        if (this._sync) fs.fdatasyncSync(fd);
        this._logBytes = fs.fstatSync(fd).size;
      } finally {
        fs.closeSync(fd);
      }
    } catch (err) {
      this._fail('append to', this._logFile, err);
      return;
    }
    if (this._logBytes > this._compactLogBytes) this.compact();
  }

  /**
   * Folds the log into a new snapshot under the lock: the log is renamed aside first (so appends that follow
   * start a new one), snapshot plus every set-aside log are merged, written durably, then the logs are removed.
   * Skipped when another engine holds the lock.
   */
  compact(): void {
    if (this._disabled) return;
    const release = this._lock();
    if (!release) return;
    try {
      if (fs.existsSync(this._logFile)) fs.renameSync(this._logFile, path.join(this.dir, `${HISTORY_LOG}.${process.pid}.${Date.now()}.merging`));
      const merging = this._mergingLogs();
      const { sequences } = this._readAll(false);
      this._snapshotBytes = saveHistory(this.dir, this._fingerprint, encodeSequences(sequences, this._maxBytes));
      for (const f of merging) removeQuietly(f, this._warn);
      this._logBytes = 0;
    } catch (err) {
      this._fail('compact the history in', this.dir, err);
    } finally {
      release();
    }
  }

  /** Empties the history on disk (every engine's: it is one history). */
  clear(): void {
    if (this._disabled) return;
    const release = this._lock();
    try {
      for (const f of [this._logFile, ...this._mergingLogs()]) removeQuietly(f, this._warn);
      this._snapshotBytes = saveHistory(this.dir, this._fingerprint, encodeSequences([]));
      this._logBytes = 0;
    } catch (err) {
      this._fail('clear the history in', this.dir, err);
    } finally {
      release?.();
    }
  }

  private _fail(what: string, where: string, err: unknown): void {
    this._disabled = true;
    this._warn(`cannot ${what} ${where}: ${(err as Error).message}; the history is kept in memory only until the engine restarts`);
  }

  private _mergingLogs(): string[] {
    let names: string[];
    try {
      names = fs.readdirSync(this.dir);
    } catch {
      return [];
    }
    return names.filter((n) => n.startsWith(`${HISTORY_LOG}.`) && n.endsWith('.merging')).sort().map((n) => path.join(this.dir, n));
  }

  /** Snapshot, set-aside logs (from a compaction that did not finish), then the live log. */
  private _readAll(reportDamage: boolean): { sequences: ArrayLike<number>[]; snapshot: Uint8Array | undefined; logged: number } {
    const warn = reportDamage ? this._warn : () => {};
    const sequences: ArrayLike<number>[] = [];
    let snapshot = loadHistory(this.dir, this._fingerprint, warn);
    this._snapshotBytes = 0;
    if (snapshot) {
      try {
        for (const s of splitSequences(snapshot)) sequences.push(s);
        this._snapshotBytes = snapshot.length;
      } catch (err) {
        snapshot = undefined;
        warn(`discarding ${historyPath(this.dir)}: ${(err as Error).message}`);
        removeQuietly(historyPath(this.dir), warn);
      }
    }
    const fromSnapshot = sequences.length;
    this._logBytes = 0;
    for (const file of [...this._mergingLogs(), this._logFile]) {
      let data: Buffer;
      try {
        data = fs.readFileSync(file);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') warn(`cannot read ${file}: ${(err as Error).message}`);
        continue;
      }
      try {
        const log = decodeLog(data, this._fingerprint);
        for (const s of log.sequences) sequences.push(s);
        if (log.damagedBytes > 0) warn(`${file}: dropped a damaged or unfinished last record (${log.damagedBytes} bytes)`);
        if (file === this._logFile) this._logBytes = data.length;
      } catch (err) {
        warn(`discarding ${file}: ${(err as Error).message}`);
        removeQuietly(file, warn);
      }
    }
    return { sequences, snapshot, logged: sequences.length - fromSnapshot };
  }

  /** Creates the log with its header atomically (a complete file appears under the name, or none). */
  private _ensureLog(): void {
    if (fs.existsSync(this._logFile)) return;
    fs.mkdirSync(this.dir, { recursive: true });
    const tmp = `${this._logFile}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, logHeader(this._fingerprint));
    try {
      fs.linkSync(tmp, this._logFile);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    } finally {
      fs.rmSync(tmp, { force: true });
    }
  }

  /** Exclusive-create lock; a stale one (crashed compaction) is taken over. Returns its release, or undefined. */
  private _lock(): (() => void) | undefined {
    const file = path.join(this.dir, LOCK_FILE);
    fs.mkdirSync(this.dir, { recursive: true });
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        fs.writeFileSync(file, `${process.pid}\n`, { flag: 'wx' });
        return () => removeQuietly(file, this._warn);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        let age = 0;
        try {
          age = Date.now() - fs.statSync(file).mtimeMs;
        } catch {
          continue;
        }
        if (age < STALE_LOCK_MS) return undefined;
        removeQuietly(file, this._warn);
      }
    }
    return undefined;
  }
}
