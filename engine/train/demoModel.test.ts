// The committed demo model: its tokenizer loads and round-trips through the engine's loader, the FIM
// tokens are where the engine's StarCoder template expects them, and the checkpoint stays within budget.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { loadTokenizer } from '../tokenizer';
import { parseConfig } from '../model/config';

const demo = path.resolve(__dirname, '../../models/demo');

function safetensorsParams(file: string): number {
  const buf = fs.readFileSync(file);
  const n = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8')) as Record<string, { shape?: number[] }>;
  let total = 0;
  for (const [name, meta] of Object.entries(header)) {
    if (name !== '__metadata__') total += (meta.shape ?? []).reduce((a, b) => a * b, 1);
  }
  return total;
}

describe('models/demo', () => {
  const tok = loadTokenizer(demo);

  it('has the FIM and end-of-text tokens, with <|endoftext|> as EOS', () => {
    for (const t of ['<|endoftext|>', '<fim_prefix>', '<fim_middle>', '<fim_suffix>', '<fim_pad>']) {
      assert.notEqual(tok.tokenId(t), undefined, t);
    }
    assert.deepEqual(tok.eosTokenIds, [tok.tokenId('<|endoftext|>')]);
  });

  it('round-trips code exactly and compresses it', () => {
    const code = 'export function add(a: number, b: number): number {\n  return a + b;\n}\n\ndef main():\n    print("héllo 🌍")\n';
    const ids = tok.encode(code);
    assert.equal(tok.decode(ids), code);
    assert.ok(ids.length < code.length / 2.5, `${ids.length} tokens for ${code.length} characters`);
  });

  it('round-trips arbitrary text (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (s) => {
        assert.equal(tok.decode(tok.encode(s)), s);
      }),
      { numRuns: 300 },
    );
  });

  it('config parses, matches the tokenizer and the weights, and fits in 60 MB', () => {
    const config = parseConfig(JSON.parse(fs.readFileSync(path.join(demo, 'config.json'), 'utf8')) as Record<string, unknown>);
    assert.equal(config.architecture, 'LlamaForCausalLM');
    assert.ok(config.numKvHeads < config.numHeads, 'GQA');
    const vocab = (JSON.parse(fs.readFileSync(path.join(demo, 'tokenizer.json'), 'utf8')) as { model: { vocab: Record<string, number> } }).model.vocab;
    assert.equal(config.vocabSize, Object.keys(vocab).length);
    assert.deepEqual(config.eosTokenIds, tok.eosTokenIds);
    const weights = fs.readdirSync(demo).filter((f) => f.endsWith('.safetensors'));
    assert.ok(weights.length > 0);
    const bytes = weights.reduce((sum, f) => sum + fs.statSync(path.join(demo, f)).size, 0);
    assert.ok(bytes <= 60e6, `${bytes} bytes`);
    const params = weights.reduce((sum, f) => sum + safetensorsParams(path.join(demo, f)), 0);
    const perLayer =
      config.hiddenSize * config.headDim * (config.numHeads * 2 + config.numKvHeads * 2) + 3 * config.hiddenSize * config.intermediateSize + 2 * config.hiddenSize;
    const expected = config.vocabSize * config.hiddenSize * (config.tieWordEmbeddings ? 1 : 2) + config.numLayers * perLayer + config.hiddenSize;
    assert.equal(params, expected);
  });
});
