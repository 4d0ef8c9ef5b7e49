// safetensors reading (header + one tensor at a time, never the whole file) and writing, with fp16/bf16 -> fp32.
import fs from 'node:fs';
import path from 'node:path';

export type SafetensorsDtype = 'F32' | 'F16' | 'BF16' | 'F64' | 'I64' | 'I32' | 'U8' | 'I8' | 'BOOL';
const DTYPE_BYTES: Record<string, number> = { F32: 4, F16: 2, BF16: 2, F64: 8, I64: 8, I32: 4, U8: 1, I8: 1, BOOL: 1 };
const FLOAT_DTYPES = new Set(['F32', 'F16', 'BF16', 'F64']);

export interface TensorEntry {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  /** Absolute byte offset of the data in the file. */
  offset: number;
  byteLength: number;
  file: string;
}

export interface SafetensorsHeader {
  file: string;
  fileSize: number;
  dataStart: number;
  tensors: Map<string, TensorEntry>;
  /** The raw JSON header bytes (used for hashing). */
  headerBytes: Buffer;
}

const MAX_HEADER_BYTES = 100 * 1024 * 1024;

function readExactly(fd: number, buf: Buffer, position: number, file: string): void {
  let done = 0;
  while (done < buf.length) {
    // Chunked: one read call is limited to 2 GB.
    const n = fs.readSync(fd, buf, done, Math.min(buf.length - done, 1 << 30), position + done);
    if (n === 0) throw new Error(`${file}: unexpected end of file (truncated safetensors?)`);
    done += n;
  }
}

export function readSafetensorsHeader(file: string): SafetensorsHeader {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (err) {
    throw new Error(`cannot open ${file}: ${(err as Error).message}`);
  }
  try {
    const fileSize = fs.fstatSync(fd).size;
    if (fileSize < 8) throw new Error(`${file}: too short to be a safetensors file (${fileSize} bytes)`);
    const lenBuf = Buffer.alloc(8);
    readExactly(fd, lenBuf, 0, file);
    const headerLen = Number(lenBuf.readBigUInt64LE(0));
    if (headerLen > MAX_HEADER_BYTES || 8 + headerLen > fileSize) {
      throw new Error(`${file}: header length ${headerLen} does not fit the file of ${fileSize} bytes (truncated or not safetensors)`);
    }
    const headerBytes = Buffer.alloc(headerLen);
    readExactly(fd, headerBytes, 8, file);
    let json: Record<string, unknown>;
    try {
      json = JSON.parse(headerBytes.toString('utf8')) as Record<string, unknown>;
    } catch (err) {
      throw new Error(`${file}: safetensors header is not valid JSON: ${(err as Error).message}`);
    }
    const dataStart = 8 + headerLen;
    const tensors = new Map<string, TensorEntry>();
    for (const [name, value] of Object.entries(json)) {
      if (name === '__metadata__') continue;
      const v = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
      const dtype = v.dtype as SafetensorsDtype;
      if (typeof dtype !== 'string' || DTYPE_BYTES[dtype] === undefined) throw new Error(`${file}: tensor ${name} has unsupported dtype ${JSON.stringify(v.dtype)}`);
      const shape = v.shape as number[];
      const offsets = v.data_offsets as number[];
      if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) throw new Error(`${file}: tensor ${name} has an invalid shape`);
      if (!Array.isArray(offsets) || offsets.length !== 2) throw new Error(`${file}: tensor ${name} has invalid data_offsets`);
      const [begin, end] = offsets as [number, number];
      const expected = shape.reduce((a, b) => a * b, 1) * DTYPE_BYTES[dtype]!;
      if (end - begin !== expected) throw new Error(`${file}: tensor ${name} spans ${end - begin} bytes but ${dtype}${JSON.stringify(shape)} needs ${expected}`);
      if (dataStart + end > fileSize) throw new Error(`${file}: tensor ${name} ends at byte ${dataStart + end} beyond the file size ${fileSize} (truncated file)`);
      tensors.set(name, { name, dtype, shape, offset: dataStart + begin, byteLength: end - begin, file });
    }
    return { file, fileSize, dataStart, tensors, headerBytes };
  } finally {
    fs.closeSync(fd);
  }
}

const f16Table = (() => {
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const frac = h & 0x3ff;
    if (exp === 0) t[h] = sign * frac * 2 ** -24;
    else if (exp === 31) t[h] = frac ? NaN : sign * Infinity;
    else t[h] = sign * (1 + frac / 1024) * 2 ** (exp - 15);
  }
  return t;
})();

/** Converts raw little-endian tensor bytes to float32. */
export function toFloat32(bytes: Buffer, dtype: SafetensorsDtype, name: string): Float32Array {
  if (!FLOAT_DTYPES.has(dtype)) throw new Error(`tensor ${name}: expected a floating-point dtype, got ${dtype}`);
  const n = bytes.length / DTYPE_BYTES[dtype]!;
  if (dtype === 'F32') {
    if (bytes.byteOffset % 4 === 0) return new Float32Array(bytes.buffer, bytes.byteOffset, n);
    return new Float32Array(new Uint8Array(bytes).buffer);
  }
  const out = new Float32Array(n);
  if (dtype === 'F64') {
    for (let i = 0; i < n; i++) out[i] = bytes.readDoubleLE(i * 8);
    return out;
  }
  const u16 = bytes.byteOffset % 2 === 0 ? new Uint16Array(bytes.buffer, bytes.byteOffset, n) : new Uint16Array(new Uint8Array(bytes).buffer);
  if (dtype === 'F16') {
    for (let i = 0; i < n; i++) out[i] = f16Table[u16[i]!]!;
  } else {
    const u32 = new Uint32Array(out.buffer);
    for (let i = 0; i < n; i++) u32[i] = u16[i]! << 16;
  }
  return out;
}

/** Reads one tensor as float32 from its file (only that tensor's bytes). */
export function readTensorF32(entry: TensorEntry): Float32Array {
  const buf = Buffer.allocUnsafe(entry.byteLength);
  let fd: number;
  try {
    fd = fs.openSync(entry.file, 'r');
  } catch (err) {
    throw new Error(`cannot read tensor ${entry.name} from ${entry.file}: ${(err as Error).message}`);
  }
  try {
    readExactly(fd, buf, entry.offset, entry.file);
  } finally {
    fs.closeSync(fd);
  }
  return toFloat32(buf, entry.dtype, entry.name);
}

// One scratch word for the bit view (an allocation per value made writing a 1 B-parameter checkpoint take minutes).
const bf16Scratch = new Float32Array(1);
const bf16Bits = new Uint32Array(bf16Scratch.buffer);
function f32ToBf16(x: number): number {
  bf16Scratch[0] = x;
  const u = bf16Bits[0]!;
  return ((u + 0x7fff + ((u >> 16) & 1)) >>> 16) & 0xffff;
}

function f32ToF16(x: number): number {
  if (Number.isNaN(x)) return 0x7e00;
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  const a = Math.abs(x);
  if (a >= 65520) return sign | 0x7c00;
  if (a < 2 ** -24 / 2) return sign;
  if (a < 2 ** -14) return sign | Math.round(a / 2 ** -24);
  let exp = Math.floor(Math.log2(a));
  let frac = Math.round((a / 2 ** exp - 1) * 1024);
  if (frac === 1024) {
    frac = 0;
    exp++;
  }
  return sign | ((exp + 15) << 10) | frac;
}

export interface TensorToWrite {
  name: string;
  shape: number[];
  /** The values, or a function producing them when written (keeps only one tensor in memory). */
  data: Float32Array | (() => Float32Array);
}

/** Writes float tensors to a safetensors file in the given storage dtype, one tensor at a time. */
export function writeSafetensors(file: string, tensors: readonly TensorToWrite[], dtype: 'F32' | 'F16' | 'BF16' = 'F32', metadata: Record<string, string> = { format: 'pt' }): void {
  const bytesPer = DTYPE_BYTES[dtype]!;
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const t of tensors) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    header[t.name] = { dtype, shape: t.shape, data_offsets: [offset, offset + n * bytesPer] };
    offset += n * bytesPer;
  }
  let headerText = JSON.stringify(header);
  headerText += ' '.repeat((8 - (headerText.length % 8)) % 8);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const fd = fs.openSync(file, 'w');
  try {
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(Buffer.byteLength(headerText)));
    fs.writeSync(fd, len);
    fs.writeSync(fd, Buffer.from(headerText, 'utf8'));
    for (const t of tensors) {
      const data = typeof t.data === 'function' ? t.data() : t.data;
      const n = t.shape.reduce((a, b) => a * b, 1);
      if (n !== data.length) throw new Error(`tensor ${t.name}: shape ${JSON.stringify(t.shape)} holds ${n} values, data has ${data.length}`);
      let bytes: Uint8Array;
      if (dtype === 'F32') bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      else {
        const u16 = new Uint16Array(data.length);
        for (let i = 0; i < data.length; i++) u16[i] = dtype === 'BF16' ? f32ToBf16(data[i]!) : f32ToF16(data[i]!);
        bytes = new Uint8Array(u16.buffer);
      }
      for (let done = 0; done < bytes.length; ) done += fs.writeSync(fd, bytes, done, Math.min(bytes.length - done, 1 << 30));
    }
  } finally {
    fs.closeSync(fd);
  }
}
