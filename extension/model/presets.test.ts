// Presets, estimates and the recommendation: pure functions of the machine (RAM, GPU, measured bandwidth).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { autoQuantization, bytesPerWeight, describeEstimate, estimate, estimateTokensPerS, measureBandwidth, PRESETS, recommend, REFERENCE_BANDWIDTH, type Machine } from './presets';

const GB = 1e9;
const machine = (totalGB: number, bandwidthGBs?: number, gpu = false): Machine => ({
  totalMemBytes: totalGB * GB, freeMemBytes: totalGB * 0.7 * GB, gpu, ...(bandwidthGBs ? { bandwidthBytesPerS: bandwidthGBs * GB } : {}),
});

describe('model presets', () => {
  it('offers Qwen2.5-Coder 0.5B, 1.5B, 3B and 7B Instruct and at least one more family', () => {
    for (const size of ['0.5B', '1.5B', '3B', '7B']) assert.ok(PRESETS.some((p) => p.repoId === `Qwen/Qwen2.5-Coder-${size}-Instruct`), size);
    assert.ok(new Set(PRESETS.map((p) => p.family)).size >= 3);
  });

  it('quantization: the user setting wins; on a CPU int8 for 1–4 B, int4 above, none up to 1 B; none on a GPU', () => {
    assert.equal(autoQuantization({ setting: 'none', device: 'cpu', paramsB: 7 }), 'none');
    assert.equal(autoQuantization({ setting: 'int4', device: 'cpu', paramsB: 0.5 }), 'int4');
    assert.equal(autoQuantization({ setting: 'auto', device: 'cpu', paramsB: 0.49 }), 'none');
    assert.equal(autoQuantization({ setting: 'auto', device: 'cpu', paramsB: 1.54 }), 'int8');
    assert.equal(autoQuantization({ setting: 'auto', device: 'cpu', paramsB: 7.62 }), 'int4');
    assert.equal(autoQuantization({ setting: 'auto', device: 'gpu', paramsB: 7.62 }), 'none');
    assert.equal(autoQuantization({ setting: 'auto', device: 'cpu', paramsB: undefined }), 'none');
  });

  it('estimates: memory grows with size, speed is bandwidth over weight bytes, both labelled estimated', () => {
    const m = machine(16, 20);
    // Above 1 B (quantized alike) memory grows with size; the fp32 0.5 B needs more than the int8 1.5 B.
    const es = PRESETS.filter((p) => p.family === 'qwen2').map((p) => estimate(p, m));
    assert.ok(es[2]!.memoryBytes > es[1]!.memoryBytes && es[3]!.memoryBytes > es[2]!.memoryBytes);
    const e15 = es[1]!;
    assert.equal(e15.quantization, 'int8');
    // The calibration points come back: bench-forward's 0.494 B shape at 64.4 ms (fp32) and 24.1 ms (int4).
    assert.ok(Math.abs(estimateTokensPerS(0.494, 'none', REFERENCE_BANDWIDTH) - 1000 / 64.4) < 1e-6);
    assert.ok(Math.abs(estimateTokensPerS(0.494, 'int4', REFERENCE_BANDWIDTH) - 1000 / 24.1) < 1e-6);
    // Twice the bandwidth, twice the speed; more bytes per weight, slower.
    assert.ok(Math.abs(estimateTokensPerS(1.54, 'int8', 2 * REFERENCE_BANDWIDTH) - 2 * estimateTokensPerS(1.54, 'int8', REFERENCE_BANDWIDTH)) < 1e-9);
    assert.ok(estimateTokensPerS(1, 'int4', 1e10) > estimateTokensPerS(1, 'int8', 1e10) && estimateTokensPerS(1, 'int8', 1e10) > estimateTokensPerS(1, 'none', 1e10));
    assert.ok(bytesPerWeight('int4') < bytesPerWeight('int8'));
    assert.match(describeEstimate(e15), /^3\.1 GB download · needs ≈ \d\.\d GB RAM \(int8\) · ≈ \d+ tok\/s estimated$/);
    assert.doesNotMatch(describeEstimate(estimate(PRESETS[0]!, machine(16))), /tok\/s/, 'no speed without a measurement');
  });

  it('recommends by RAM and GPU: more memory never gets a smaller model (property); a GPU lifts the speed limit', () => {
    const rank = (id: string): number => PRESETS.findIndex((p) => p.repoId === id);
    assert.equal(recommend(machine(3, 20)).repoId, 'Qwen/Qwen2.5-Coder-0.5B-Instruct');
    assert.equal(recommend(machine(64, 60, true)).repoId, 'Qwen/Qwen2.5-Coder-7B-Instruct');
    // Slow memory keeps a CPU on the small model; a GPU (16-bit weights, no CPU speed limit) takes the largest that fits.
    assert.equal(recommend(machine(64, 3)).repoId, 'Qwen/Qwen2.5-Coder-0.5B-Instruct');
    assert.equal(recommend(machine(64, 3, true)).repoId, 'Qwen/Qwen2.5-Coder-7B-Instruct');
    // The reference machine (about 7 GB/s): the 1.5 B decodes at about 10.7 tok/s in int8, the 3 B at about 5.
    assert.equal(recommend(machine(16, 7)).repoId, 'Qwen/Qwen2.5-Coder-1.5B-Instruct');
    // A faster laptop (20 GB/s) with 16 GB: the 3 B.
    assert.equal(recommend(machine(16, 20)).repoId, 'Qwen/Qwen2.5-Coder-3B-Instruct');
    assert.equal(recommend(machine(6, 20)).repoId, 'Qwen/Qwen2.5-Coder-1.5B-Instruct', 'too little memory for the 3 B at 60 %');
    fc.assert(fc.property(fc.double({ min: 1, max: 256, noNaN: true }), fc.double({ min: 1, max: 256, noNaN: true }), fc.double({ min: 1, max: 200, noNaN: true }), (a, b, bw) => {
      const [lo, hi] = a < b ? [a, b] : [b, a];
      const small = recommend(machine(lo, bw));
      assert.ok(rank(recommend(machine(hi, bw)).repoId) >= rank(small.repoId));
      // What is recommended fits.
      assert.ok(estimate(small, machine(lo, bw)).fits || small === PRESETS[0]);
    }));
  });

  it('measures a plausible memory bandwidth', () => {
    const bw = measureBandwidth(16 << 20, 2);
    assert.ok(bw > 0.1 * GB && bw < 2000 * GB, `${bw}`);
  });
});
