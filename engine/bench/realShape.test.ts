// The benchmark's shapes are the released models' shapes: each preset, written as make-tiny-model would write it,
// parses to the parameter count the hub reports for that model.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../model/config';
import { tinyConfig } from '../model/tiny';
import { parameterCount } from '../model/weights';
import { REAL_SHAPES } from './realShape';

/** Parameters per released model (the hub's safetensors totals). */
const RELEASED: Record<string, number> = {
  'qwen2.5-0.5b': 494_032_768,
  'llama3.2-1b': 1_235_814_400,
  'qwen3-0.6b': 596_049_920,
};

test('bench-real-shape presets have the released parameter counts', () => {
  for (const [name, count] of Object.entries(RELEASED)) {
    const shape = REAL_SHAPES[name];
    assert.ok(shape, `${name} missing`);
    const o = { ...shape.checkpoint, out: '', seed: 1 };
    const c = parseConfig(tinyConfig(o, shape.checkpoint.vocabSize!), name);
    assert.equal(parameterCount(c), count, name);
  }
});

test('stand-in tokenizers are declared in the output note, and only there the vocabulary differs', () => {
  for (const [name, shape] of Object.entries(REAL_SHAPES)) {
    // A shared stand-in always differs; a package tokenizer of a sibling model (Gemma 3's for Gemma 2) says so too.
    if (shape.tokenizer.startsWith('shared:') || shape.note !== undefined) assert.match(shape.note ?? '', /tokenizer: vocab \d+ instead of \d+/, name);
  }
});
