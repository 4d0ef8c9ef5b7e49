// make-tiny-model: Hugging Face layout, deterministic per seed, tokenizer files copied, loadable with its tokenizer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { run } from '../cli/makeTinyModel';
import { loadCheckpoint } from './index';
import { tempDir } from './testSupport';
import { sharedPath } from '../sharedPaths';

const tokenizerDir = sharedPath('tokenizers/gpt2');

test('make-tiny-model writes a deterministic, loadable checkpoint', { skip: !fs.existsSync(tokenizerDir) && `no tokenizer at ${tokenizerDir}` }, async () => {
  const root = tempDir('mtm');
  const cacheDir = path.join(root, 'graphs');
  const write = async (out: string, seed: number): Promise<void> => {
    const argv = ['--out', out, '--arch', 'llama', '--layers', '1', '--hidden', '8', '--heads', '2', '--kv-heads', '1', '--intermediate', '16', '--tokenizer', tokenizerDir, '--seed', String(seed)];
    const write = process.stdout.write;
    process.stdout.write = (() => true) as typeof process.stdout.write;
    try {
      assert.equal(await run(argv), 0);
    } finally {
      process.stdout.write = write;
    }
  };
  try {
    const [a, b, c] = ['a', 'b', 'c'].map((n) => path.join(root, n)) as [string, string, string];
    await write(a, 1);
    await write(b, 1);
    await write(c, 2);
    for (const f of ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json', 'generation_config.json']) assert.ok(fs.existsSync(path.join(a, f)), `${f} missing`);
    assert.ok(fs.readFileSync(path.join(a, 'model.safetensors')).equals(fs.readFileSync(path.join(b, 'model.safetensors'))), 'same seed, different weights');
    assert.ok(!fs.readFileSync(path.join(a, 'model.safetensors')).equals(fs.readFileSync(path.join(c, 'model.safetensors'))), 'different seeds, same weights');
    await write(a, 1); // overwriting an existing output (read-only tokenizer copies) works
    const loaded = await loadCheckpoint(a, { cacheDir });
    try {
      const config = JSON.parse(fs.readFileSync(path.join(a, 'config.json'), 'utf8')) as { vocab_size: number };
      assert.equal(loaded.info.vocabSize, config.vocab_size);
      assert.ok(config.vocab_size >= 50257);
      const ids = loaded.tokenizer.encode('function add(a, b) {');
      const logits = await loaded.model.forward(ids, ids.map((_, i) => i - 1));
      assert.equal(logits.length, ids.length * config.vocab_size);
      assert.ok(loaded.eosTokenIds.includes(loaded.tokenizer.tokenId('<|endoftext|>')!));
      await assert.rejects(
        run(['--out', path.join(root, 'd'), '--arch', 'gpt2', '--layers', '1', '--hidden', '8', '--heads', '2', '--kv-heads', '1', '--intermediate', '16', '--tokenizer', tokenizerDir]),
        /--arch must be one of llama, qwen2, .*got 'gpt2'/,
      );
      await assert.rejects(run(['--out', path.join(root, 'd'), '--arch', 'llama', '--tokenizer', tokenizerDir]), /--layers expects a positive integer/);
    } finally {
      await loaded.model.dispose();
    }
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
