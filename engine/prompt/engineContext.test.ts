// The engine's own prompts on a checkpoint with the real Qwen tokenizer (random tiny weights): an inline completion
// carries related workspace files in Qwen's repository-level format, and chat renders the checkpoint's template.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { writeTinyCheckpoint } from '../model/index';
import { Engine, type EngineEvents } from '../server/engine';
import { realTokenizerDir } from './realTokenizers';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'presage-qwen-context-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

test('complete: a Qwen-tokenizer checkpoint gets imported and edited files as <|file_sep|> sections before the FIM block', { timeout: 180_000 }, async () => {
  const model = path.join(dir, 'model');
  await writeTinyCheckpoint({ out: model, arch: 'qwen2', layers: 1, hidden: 16, heads: 2, kvHeads: 1, intermediate: 24, tokenizerDir: realTokenizerDir('qwen3'), seed: 3 });
  const events: EngineEvents = { status: () => {}, log: () => {}, loadProgress: () => {}, partial: () => {} };
  const engine = new Engine(events, { calibrate: false });
  engine.initialize({ clientName: 'test', clientVersion: '0' });
  try {
    await engine.loadModel({ model, cacheDir: path.join(dir, 'graphs') });
    const root = 'file:///work/shop';
    engine.openDocument({ uri: `${root}/src/cart.ts`, text: 'export function total(prices: number[]): number {\n  return prices.reduce((a, b) => a + b, 0);\n}\n', version: 1, source: 'workspace' });
    engine.openDocument({ uri: `${root}/src/unrelated.ts`, text: 'export const nothing = 0;\n', version: 1, source: 'workspace' });
    const current = `${root}/src/checkout.ts`;
    const prefix = "import { total } from './cart';\nconst sum = ";
    engine.openDocument({ uri: current, text: `${prefix};\n`, version: 1, source: 'editor' });
    const out = await engine.completeDetailed({ requestId: 'r1', uri: current, language: 'typescript', prefix, suffix: ';\n', maxTokens: 2 }, undefined, { healing: false });
    const text = engine.host!.tokenizer.decode(out.promptIds);
    assert.equal(text,
      '<|repo_name|>src\n' +
      '<|file_sep|>cart.ts\nexport function total(prices: number[]): number {\n  return prices.reduce((a, b) => a + b, 0);\n}\n\n' +
      "<|file_sep|>checkout.ts\n<|fim_prefix|>import { total } from './cart';\nconst sum = <|fim_suffix|>;\n<|fim_middle|>");

    // Chat goes through the checkpoint's own template (Qwen3's ChatML), thinking switched off.
    const chat = engine.host!.chatTemplate;
    assert.equal(typeof chat, 'object', 'the checkpoint template, not a fallback');
  } finally {
    await engine.shutdown();
  }
});
