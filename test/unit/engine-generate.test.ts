// Speculative decoding on real tiny ORT checkpoints: token-identical to plain greedy across drafters and budgets,
// with prompts taken from the public replay files.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { Decoder } from '../../engine/decode/decoder';
import { makeDrafter } from '../../engine/decode/drafters';
import { noisyOracle } from '../../engine/decode/noisyOracle';
import { loadCheckpoint, writeTinyCheckpoint, type LoadedCheckpoint } from '../../engine/model/index';
import { tokenizerCheckpoints } from '../../engine/model/testSupport';
import { generateWith } from '../../engine/cli/generate';
import { hostFor } from '../../engine/server/host';
import { sharedPath } from '../../engine/sharedPaths';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'presage-gen-'));
const cacheDir = path.join(root, 'cache');
const checkpoints: { name: string; ckpt: LoadedCheckpoint }[] = [];

interface ReplayRecord {
  prompt: string;
  output: string;
  references: string[];
}
function replayPrompts(): ReplayRecord[] {
  const out: ReplayRecord[] = [];
  for (const file of ['llama-vscode.jsonl', 'requests.jsonl']) {
    const lines = fs.readFileSync(path.join(sharedPath('bench/replay'), file), 'utf8').split('\n').filter(Boolean);
    for (const i of [0, 5]) {
      const r = JSON.parse(lines[i]!) as ReplayRecord;
      out.push({ prompt: r.prompt.slice(-1200), output: r.output, references: r.references.map((x) => x.slice(0, 2000)) });
    }
  }
  return out;
}

before(async () => {
  checkpoints.push(...(await tokenizerCheckpoints(root, cacheDir, [1, 2])));
}, { timeout: 180_000 });
after(async () => {
  for (const c of checkpoints) await c.ckpt.model.dispose();
  fs.rmSync(root, { recursive: true, force: true });
});

/** Trees around a known continuation: the true path plus wrong siblings and random branches. */
const noisy = (truth: readonly number[], promptLength: number, vocab: number, seed: number) => noisyOracle(truth, promptLength, vocab, seed, { name: 'noisy-oracle', branchRate: 0.3, siblingProb: 0.2 });

test('speculative == greedy on tiny checkpoints, replay prompts, several drafters and budgets', { timeout: 120_000 }, async () => {
  const prompts = replayPrompts();
  for (const { name, ckpt } of checkpoints) {
    const tok = ckpt.tokenizer;
    for (const [pi, rec] of prompts.entries()) {
      const plainHost = hostFor(ckpt, undefined);
      const base = { prompt: rec.prompt, references: rec.references, maxTokens: 24, stopAtEos: false };
      const greedy = await generateWith(plainHost, { ...base, mode: 'greedy' });
      assert.equal(greedy.tokens.length, 24);
      // Every drafter is covered across the prompts; the noisy oracle makes long accepted paths on the real model.
      const names = ['hybrid', 'suffix', 'sam', 'llma', 'pld'];
      const drafterName = names[(pi + checkpoints.findIndex((c) => c.name === name)) % names.length]!;
      const variants: { label: string; host: ReturnType<typeof hostFor>; fixed?: number }[] = [
        { label: `${drafterName} adaptive`, host: hostFor(ckpt, makeDrafter(drafterName)) },
        { label: `${drafterName} fixed 16`, host: hostFor(ckpt, makeDrafter(drafterName)), fixed: 16 },
        { label: `noisy oracle fixed ${pi % 2 ? 24 : 8}`, host: hostFor(ckpt, noisy(greedy.tokens, greedy.prompt_ids.length, ckpt.info.vocabSize, pi)), fixed: pi % 2 ? 24 : 8 },
      ];
      for (const v of variants) {
        const spec = await generateWith(v.host, { ...base, mode: 'speculative', ...(v.fixed !== undefined ? { fixedDraftTokens: v.fixed } : {}) });
        assert.deepEqual(spec.tokens, greedy.tokens, `${name} prompt ${pi} ${v.label}`);
        assert.equal(spec.text, tok.decode(greedy.tokens));
        if (v.label.startsWith('noisy')) assert.ok(spec.mat > 1.5, `${name} ${v.label}: MAT ${spec.mat} (drafts should be accepted)`);
      }
    }
  }
});

test('int4 checkpoint: speculative == greedy with the noisy oracle and hybrid', { timeout: 120_000 }, async () => {
  const out = path.join(root, 'llama-int4');
  await writeTinyCheckpoint({ out, arch: 'llama', layers: 2, hidden: 64, heads: 4, kvHeads: 2, intermediate: 128, tokenizerDir: sharedPath('tokenizers/gpt2'), seed: 4 });
  const ckpt = await loadCheckpoint(out, { cacheDir, threads: 1, quantization: 'int4' });
  try {
    assert.equal(ckpt.info.quantization, 'int4');
    for (const [pi, rec] of replayPrompts().slice(0, 2).entries()) {
      const base = { prompt: rec.prompt, references: rec.references, maxTokens: 24, stopAtEos: false };
      const greedy = await generateWith(hostFor(ckpt, undefined), { ...base, mode: 'greedy' });
      const oracle = noisy(greedy.tokens, greedy.prompt_ids.length, ckpt.info.vocabSize, 90 + pi);
      const spec = await generateWith(hostFor(ckpt, oracle), { ...base, mode: 'speculative', fixedDraftTokens: 8 });
      assert.deepEqual(spec.tokens, greedy.tokens, `prompt ${pi}`);
      const hybrid = await generateWith(hostFor(ckpt, makeDrafter('hybrid')), { ...base, mode: 'speculative' });
      assert.deepEqual(hybrid.tokens, greedy.tokens, `prompt ${pi} hybrid`);
    }
  } finally {
    await ckpt.model.dispose();
  }
});

test('prefix reuse on a real checkpoint: a second request sharing the prompt prefix gives the same tokens', { timeout: 120_000 }, async () => {
  const { ckpt } = checkpoints[0]!;
  const prompt = ckpt.tokenizer.encode(replayPrompts()[1]!.prompt);
  const decoder = new Decoder({ model: ckpt.model, decode: (ids) => ckpt.tokenizer.decode(ids) });
  const first = await decoder.generate({ requestId: 'a', prompt, maxTokens: 12 });
  const longer = [...prompt, ...first.tokens.slice(0, 5)];
  const reused = await decoder.generate({ requestId: 'b', prompt: longer, maxTokens: 12 });
  assert.ok(reused.metrics.reusedPromptTokens >= prompt.length);
  const fresh = new Decoder({ model: ckpt.model, decode: (ids) => ckpt.tokenizer.decode(ids) });
  const cold = await fresh.generate({ requestId: 'c', prompt: longer, maxTokens: 12 });
  assert.equal(cold.metrics.reusedPromptTokens, 0);
  assert.deepEqual(reused.tokens, cold.tokens);
  assert.deepEqual(cold.tokens.slice(0, 7), first.tokens.slice(5, 12));
});
