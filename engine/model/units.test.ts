// Pure pieces of the model runtime: safetensors, config, tree layout, KV compaction, quantization, cost fit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { parseConfig, ropeInvFreq } from './config';
import { transpose } from './graph';
import { defaultForwardCost, fitForwardCost, QWEN05B_SHAPED_CPU_MS } from './forwardCost';
import { HostKvCache } from './kvCache';
import { dequantizeWeight, quantizeWeight } from './quantize';
import { readSafetensorsHeader, readTensorF32, toFloat32, writeSafetensors } from './safetensors';
import { tempDir } from './testSupport';
import { isRootPath, treeLayout } from './treeMask';

test('safetensors round trip in F32, F16 and BF16, one tensor read at a time', () => {
  const dir = tempDir('st');
  try {
    const data = Float32Array.from([0, 1, -2.5, 0.1, 65504, -1e-3, 3.140625, 1e-7]);
    for (const dtype of ['F32', 'F16', 'BF16'] as const) {
      const file = path.join(dir, `${dtype}.safetensors`);
      writeSafetensors(file, [
        { name: 'a', shape: [2, 4], data },
        { name: 'b', shape: [3], data: () => Float32Array.of(7, 8, 9) },
      ], dtype);
      const header = readSafetensorsHeader(file);
      assert.deepEqual([...header.tensors.keys()], ['a', 'b']);
      const a = readTensorF32(header.tensors.get('a')!);
      const tol = dtype === 'F32' ? 0 : dtype === 'F16' ? 1e-3 : 8e-3;
      data.forEach((x, i) => assert.ok(Math.abs(a[i]! - x) <= tol * Math.max(Math.abs(x), dtype === 'F16' ? 6e-5 : 1e-30), `${dtype}[${i}]: ${a[i]} vs ${x}`));
      assert.deepEqual([...readTensorF32(header.tensors.get('b')!)], [7, 8, 9]);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('half-precision decoding matches known bit patterns', () => {
  const f16 = Buffer.from(Uint16Array.of(0x3c00, 0xc000, 0x7bff, 0x0001, 0x7c00).buffer);
  assert.deepEqual([...toFloat32(f16, 'F16', 't')], [1, -2, 65504, 2 ** -24, Infinity]);
  const bf16 = Buffer.from(Uint16Array.of(0x3f80, 0xc040, 0x4049).buffer);
  assert.deepEqual([...toFloat32(bf16, 'BF16', 't')], [1, -3, 3.140625]);
  assert.throws(() => toFloat32(Buffer.alloc(8), 'I64', 'ids'), /expected a floating-point dtype, got I64/);
});

test('safetensors header errors are explicit', () => {
  const dir = tempDir('st-bad');
  try {
    const file = path.join(dir, 'x.safetensors');
    const header = Buffer.from('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,12]}}');
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(header.length));
    fs.writeFileSync(file, Buffer.concat([len, header, Buffer.alloc(12)]));
    assert.throws(() => readSafetensorsHeader(file), /spans 12 bytes but F32\[2\] needs 8/);
    fs.writeFileSync(file, Buffer.concat([len, Buffer.from('x'.repeat(header.length))]));
    assert.throws(() => readSafetensorsHeader(file), /not valid JSON/);
    len.writeBigUInt64LE(10n ** 12n);
    fs.writeFileSync(file, Buffer.concat([len, header]));
    assert.throws(() => readSafetensorsHeader(file), /does not fit the file/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('config parsing: defaults, GQA check, head_dim and rope scaling', () => {
  const raw = { architectures: ['LlamaForCausalLM'], vocab_size: 10, hidden_size: 8, intermediate_size: 16, num_hidden_layers: 1, num_attention_heads: 2 };
  const c = parseConfig(raw);
  assert.equal(c.numKvHeads, 2);
  assert.equal(c.headDim, 4);
  assert.equal(c.qkvBias, false);
  assert.throws(() => parseConfig({ ...raw, num_key_value_heads: 3 }), /multiple of num_key_value_heads/);
  assert.throws(() => parseConfig({ ...raw, hidden_act: 'gelu' }), /unsupported hidden_act "gelu"/);
  assert.throws(() => parseConfig({ ...raw, vocab_size: -1 }), /"vocab_size" must be a positive integer/);
  const q = parseConfig({ ...raw, architectures: ['Qwen2ForCausalLM'], tie_word_embeddings: true });
  assert.equal(q.qkvBias, true);
  assert.equal(q.oBias, false);
  const plain = ropeInvFreq(parseConfig({ ...raw, head_dim: 8 }));
  const linear = ropeInvFreq(parseConfig({ ...raw, head_dim: 8, rope_scaling: { type: 'linear', factor: 4 } }));
  plain.forEach((f, i) => assert.ok(Math.abs(linear[i]! - f / 4) < 1e-15));
  const llama3 = ropeInvFreq(
    parseConfig({ ...raw, head_dim: 8, rope_scaling: { rope_type: 'llama3', factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 64 } }),
  );
  // transformers 5 layout: rope_parameters carries theta and scaling.
  const v5 = parseConfig({ ...raw, rope_parameters: { rope_type: 'linear', factor: 2, rope_theta: 1e6 } });
  assert.equal(v5.ropeTheta, 1e6);
  assert.deepEqual(v5.ropeScaling, { type: 'linear', factor: 2 });
  assert.deepEqual(parseConfig({ ...raw, rope_parameters: { rope_type: 'default', rope_theta: 5e5 } }).ropeScaling, { type: 'none' });
  // Highest frequency untouched, lowest divided by the factor.
  assert.equal(llama3[0], plain[0]);
  assert.ok(Math.abs(llama3[3]! - plain[3]! / 8) < 1e-15);
});

/** Random trees: parents[j] ∈ [-1, j). */
const treeArb = fc.integer({ min: 1, max: 12 }).chain((n) => fc.tuple(...Array.from({ length: n }, (_, j) => fc.integer({ min: -1, max: j - 1 }))));

test('tree layout: node j sees the context, its ancestors and itself, at position P + depth (property)', () => {
  fc.assert(
    fc.property(treeArb, fc.integer({ min: 0, max: 5 }), (parents, past) => {
      const { positions, bias } = treeLayout(parents, past);
      const total = past + parents.length;
      for (let j = 0; j < parents.length; j++) {
        const ancestors = new Set<number>();
        let depth = -1;
        for (let a = j; a !== -1; a = parents[a]!) {
          ancestors.add(a);
          depth++;
        }
        assert.equal(positions[j], past + depth);
        for (let c = 0; c < total; c++) {
          const visible = c < past || ancestors.has(c - past);
          assert.equal(bias[j * total + c], visible ? 0 : -Infinity);
        }
      }
    }),
    { numRuns: 200 },
  );
});

test('KV compaction keeps the accepted entries in order (property against a plain array)', () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(treeArb, fc.nat(), fc.nat({ max: 3 })), { minLength: 1, maxLength: 8 }), (steps) => {
      // 2 layers, 2 kv heads of size 1: token id's entry is [id + 1000·layer, -id] across the heads.
      const cache = new HostKvCache(2, 2, 1, 200, 2);
      const naive: number[] = [];
      let counter = 0;
      for (const [parents, pick, cut] of steps) {
        const ids = parents.map(() => ++counter);
        const keys = [0, 1].map((l) => Float32Array.from(ids.flatMap((id) => [id + l * 1000, -id])));
        const values = [0, 1].map((l) => Float32Array.from(ids.flatMap((id) => [id * 2 + l, id])));
        cache.stage(parents, keys, values);
        // A root path ending at some node.
        const path: number[] = [];
        for (let a = pick % parents.length; a !== -1; a = parents[a]!) path.unshift(a);
        assert.ok(isRootPath(path, parents));
        cache.commit(path);
        naive.push(...path.map((n) => ids[n]!));
        if (cut === 0 && naive.length > 0) {
          const n = Math.floor(naive.length / 2);
          cache.truncate(n);
          naive.length = n;
        }
        assert.equal(cache.length, naive.length);
        for (const l of [0, 1]) {
          const h0 = cache.past(l, 0);
          const h1 = cache.past(l, 1);
          assert.deepEqual([...h0.key], naive.map((id) => id + l * 1000));
          assert.deepEqual([...h1.key], naive.map((id) => -id));
          assert.deepEqual([...h0.value], naive.map((id) => id * 2 + l));
          assert.deepEqual([...h1.value], naive);
        }
      }
    }),
    { numRuns: 150 },
  );
  const cache = new HostKvCache(1, 1, 1, 4);
  assert.throws(() => cache.stage([-1, 0, 1, 2, 3], [new Float32Array(5)], [new Float32Array(5)]), /exceeds the model's maximum of 4/);
});

test('int4 and int8 block quantization round-trip within half a step', () => {
  const n = 5;
  const k = 48; // not a multiple of the block size 32: the last block is padded
  const w = Float32Array.from({ length: n * k }, (_, i) => Math.sin(i * 1.7) * (1 + (i % 7)));
  for (const bits of [4, 8] as const) {
    const q = quantizeWeight(w, n, k, bits, 32);
    assert.equal(q.data.length, n * 2 * (32 * bits) / 8);
    const back = dequantizeWeight(q);
    for (let r = 0; r < n; r++) {
      for (let i = 0; i < k; i++) {
        const scale = q.scales[r * 2 + Math.floor(i / 32)]!;
        assert.ok(Math.abs(back[r * k + i]! - w[r * k + i]!) <= scale / 2 + 1e-6, `bits ${bits} row ${r} col ${i}`);
      }
    }
  }
});

test('cost fit recovers a bilinear cost and never goes below the cheapest measurement', () => {
  const truth = (s: number, c: number): number => 20 + 1.5 * s + 0.01 * c + 0.002 * s * c;
  const samples = [1, 4, 8, 16, 32].flatMap((s) => [256, 2048].map((context) => ({ s, context, ms: truth(s, context) })));
  const fit = fitForwardCost(samples);
  for (const [s, c] of [[2, 512], [24, 1024], [32, 2048]] as const) assert.ok(Math.abs(fit.forwardCostMs(s, c) - truth(s, c)) < 1e-6 * truth(s, c));
  assert.ok(fit.forwardCostMs(0, 0) >= Math.min(...samples.map((x) => x.ms)));
  assert.throws(() => fitForwardCost([]), /no samples/);
});

test('the default cost curve follows the measured table within 25% and grows with S and context', () => {
  for (const q of ['none', 'int4'] as const) {
    const cost = defaultForwardCost(q);
    for (const [context, row] of Object.entries(QWEN05B_SHAPED_CPU_MS[q])) {
      [1, 4, 8, 16, 32].forEach((s, i) => {
        const est = cost.forwardCostMs(s, Number(context));
        assert.ok(Math.abs(est - row[i]!) <= 0.25 * row[i]!, `${q} S=${s} ctx=${context}: ${est.toFixed(1)} vs ${row[i]}`);
      });
    }
    assert.ok(cost.forwardCostMs(32, 1024) > cost.forwardCostMs(1, 1024));
    assert.ok(cost.forwardCostMs(8, 2048) > cost.forwardCostMs(8, 256));
  }
});

test('tiled transpose equals the naive one on ragged shapes (property)', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 150 }), fc.integer({ min: 1, max: 150 }), (rows, cols) => {
      const w = Float32Array.from({ length: rows * cols }, (_, i) => i);
      const t = transpose(w, rows, cols);
      for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) assert.equal(t[c * rows + r], w[r * cols + c]);
    }),
    { numRuns: 40 },
  );
});
