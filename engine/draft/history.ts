// Binary format of a drafter's output history (exportHistory/importHistory):
// "PSH1" magic, u32 count, then per sequence a u32 length and that many u32 token ids, little-endian.
const MAGIC = 0x31485350; // "PSH1" read as little-endian u32

/** Serializes the newest sequences that fit in maxBytes (older ones are dropped first), oldest first. */
export function encodeHistory(seqs: readonly ArrayLike<number>[], maxBytes = Infinity): Uint8Array {
  let bytes = 8;
  let first = seqs.length;
  while (first > 0 && bytes + 4 + seqs[first - 1]!.length * 4 <= maxBytes) {
    first--;
    bytes += 4 + seqs[first]!.length * 4;
  }
  const out = new Uint8Array(bytes);
  const view = new DataView(out.buffer);
  view.setUint32(0, MAGIC, true);
  view.setUint32(4, seqs.length - first, true);
  let o = 8;
  for (let i = first; i < seqs.length; i++) {
    const s = seqs[i]!;
    view.setUint32(o, s.length, true);
    o += 4;
    for (let k = 0; k < s.length; k++, o += 4) view.setUint32(o, s[k]!, true);
  }
  return out;
}

/** Parses what encodeHistory wrote; throws a clear error on a corrupt or truncated buffer. */
export function decodeHistory(data: Uint8Array, who: string): number[][] {
  if (!(data instanceof Uint8Array)) throw new Error(`${who}: history must be a Uint8Array`);
  if (data.length === 0) return [];
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (data.length < 8 || view.getUint32(0, true) !== MAGIC) throw new Error(`${who}: history is corrupt (bad header)`);
  const count = view.getUint32(4, true);
  const seqs: number[][] = [];
  let o = 8;
  for (let i = 0; i < count; i++) {
    if (o + 4 > data.length) throw new Error(`${who}: history is corrupt (truncated at sequence ${i} of ${count})`);
    const len = view.getUint32(o, true);
    o += 4;
    if (o + len * 4 > data.length) throw new Error(`${who}: history is corrupt (sequence ${i} claims ${len} tokens past the end)`);
    const s = new Array<number>(len);
    for (let k = 0; k < len; k++, o += 4) {
      const t = view.getUint32(o, true);
      if (t > 0x7fffffff) throw new Error(`${who}: history is corrupt (token ${t} out of range)`);
      s[k] = t;
    }
    seqs.push(s);
  }
  if (o !== data.length) throw new Error(`${who}: history is corrupt (${data.length - o} trailing bytes)`);
  return seqs;
}
