"""Merges a sharded safetensors checkpoint (model.safetensors.index.json + shards) into one
model.safetensors, byte for byte (standard library only). Used after the training machine sends the
checkpoint back in shards.

  python3 engine/train/merge_shards.py --dir models/demo [--keep-shards]
"""
import argparse
import json
import os
import struct


def read_header(path):
    with open(path, 'rb') as f:
        n = struct.unpack('<Q', f.read(8))[0]
        return json.loads(f.read(n)), 8 + n


def merge(d, keep_shards=False):
    index_path = os.path.join(d, 'model.safetensors.index.json')
    with open(index_path) as f:
        weight_map = json.load(f)['weight_map']
    shards = sorted(set(weight_map.values()))
    entries = []  # (name, meta, shard path, absolute start, end)
    metadata = {}
    for shard in shards:
        path = os.path.join(d, shard)
        header, base = read_header(path)
        metadata.update(header.pop('__metadata__', {}) or {})
        for name, meta in header.items():
            if weight_map.get(name) != shard:
                raise SystemExit(f'{shard}: tensor {name} is not mapped to this shard in the index')
            a, b = meta['data_offsets']
            entries.append((name, meta, path, base + a, base + b))
    missing = set(weight_map) - {e[0] for e in entries}
    if missing:
        raise SystemExit(f'tensors in the index but in no shard: {sorted(missing)}')
    header, offset = {}, 0
    for name, meta, _, a, b in entries:
        header[name] = {'dtype': meta['dtype'], 'shape': meta['shape'], 'data_offsets': [offset, offset + b - a]}
        offset += b - a
    if metadata:
        header['__metadata__'] = metadata
    raw = json.dumps(header, separators=(',', ':')).encode()
    raw += b' ' * (-len(raw) % 8)
    out = os.path.join(d, 'model.safetensors')
    with open(out + '.tmp', 'wb') as f:
        f.write(struct.pack('<Q', len(raw)))
        f.write(raw)
        for _, _, path, a, b in entries:
            with open(path, 'rb') as src:
                src.seek(a)
                f.write(src.read(b - a))
    os.replace(out + '.tmp', out)
    if not keep_shards:
        for shard in shards:
            os.remove(os.path.join(d, shard))
        os.remove(index_path)
    print(json.dumps({'merged': out, 'tensors': len(entries), 'bytes': os.path.getsize(out)}))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--dir', required=True)
    ap.add_argument('--keep-shards', action='store_true')
    args = ap.parse_args()
    merge(args.dir, args.keep_shards)


if __name__ == '__main__':
    main()
