// onnx-proto plumbing for the graph builder: nodes, initializers (small ones inline, large ones in an external,
// page-aligned data file, since graphs over 2 GB cannot live inside one protobuf) and value infos.
import fs from 'node:fs';
import { onnx } from 'onnx-proto';

export const FLOAT = onnx.TensorProto.DataType.FLOAT;
export const INT64 = onnx.TensorProto.DataType.INT64;
export const UINT8 = onnx.TensorProto.DataType.UINT8;
const ALIGN = 4096;

/** Appends tensor bytes to the external data file, page-aligned so ORT can map them. */
export class ExternalData {
  private offset = 0;
  constructor(private readonly fd: number, readonly location: string) {}
  append(bytes: Uint8Array): { offset: number; length: number } {
    const pad = (ALIGN - (this.offset % ALIGN)) % ALIGN;
    if (pad) {
      fs.writeSync(this.fd, new Uint8Array(pad));
      this.offset += pad;
    }
    const at = this.offset;
    let done = 0;
    while (done < bytes.length) done += fs.writeSync(this.fd, bytes, done, Math.min(bytes.length - done, 1 << 30));
    this.offset += bytes.length;
    return { offset: at, length: bytes.length };
  }
}

export type Attr = number | number[] | string | { float: number };

export class OnnxGraph {
  readonly nodes: onnx.INodeProto[] = [];
  readonly initializers: onnx.ITensorProto[] = [];
  private counter = 0;
  constructor(private readonly external: ExternalData) {}

  op(type: string, inputs: string[], attrs: Record<string, Attr> = {}, domain = '', outputs?: string[]): string {
    const out = outputs ?? [`${type}_${this.counter++}`];
    const attribute: onnx.IAttributeProto[] = Object.entries(attrs).map(([name, v]) => {
      if (typeof v === 'number') return { name, type: onnx.AttributeProto.AttributeType.INT, i: v };
      if (typeof v === 'string') return { name, type: onnx.AttributeProto.AttributeType.STRING, s: new TextEncoder().encode(v) };
      if (Array.isArray(v)) return { name, type: onnx.AttributeProto.AttributeType.INTS, ints: v };
      return { name, type: onnx.AttributeProto.AttributeType.FLOAT, f: v.float };
    });
    this.nodes.push({ opType: type, input: inputs, output: out, attribute, domain, name: `${type}_${this.nodes.length}` });
    return out[0]!;
  }

  tensor(name: string, dataType: number, dims: number[], bytes: Uint8Array): string {
    if (bytes.length <= 1024) {
      this.initializers.push({ name, dataType, dims, rawData: bytes });
    } else {
      const { offset, length } = this.external.append(bytes);
      this.initializers.push({
        name,
        dataType,
        dims,
        dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
        externalData: [
          { key: 'location', value: this.external.location },
          { key: 'offset', value: String(offset) },
          { key: 'length', value: String(length) },
        ],
      });
    }
    return name;
  }

  floats(name: string, data: Float32Array, dims: number[]): string {
    return this.tensor(name, FLOAT, dims, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  }

  ints(name: string, values: number[]): string {
    const data = BigInt64Array.from(values.map((v) => BigInt(v)));
    return this.tensor(name, INT64, [values.length], new Uint8Array(data.buffer));
  }

  scalar(name: string, value: number): string {
    return this.floats(name, Float32Array.of(value), []);
  }
}

export function valueInfo(name: string, elemType: number, dims: (number | string)[]): onnx.IValueInfoProto {
  return {
    name,
    type: { tensorType: { elemType, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
  };
}

/** [rows, cols] -> [cols, rows], in 64×64 tiles to stay cache-friendly on large matrices. */
export function transpose(w: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(w.length);
  const T = 64;
  for (let r0 = 0; r0 < rows; r0 += T) {
    const r1 = Math.min(rows, r0 + T);
    for (let c0 = 0; c0 < cols; c0 += T) {
      const c1 = Math.min(cols, c0 + T);
      for (let r = r0; r < r1; r++) for (let c = c0; c < c1; c++) out[c * rows + r] = w[r * cols + c]!;
    }
  }
  return out;
}
