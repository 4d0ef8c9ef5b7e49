// Logits from Hugging Face transformers (test/fixtures/golden/<case>/golden.json) against our graph.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { loadModel } from './index';
import { tempDir } from './testSupport';

const goldenRoot = process.env.PRESAGE_GOLDEN_DIR ?? path.resolve(__dirname, '../../test/fixtures/golden');
const cases = fs.existsSync(goldenRoot)
  ? fs.readdirSync(goldenRoot).filter((d) => fs.existsSync(path.join(goldenRoot, d, 'golden.json'))).sort()
  : [];
const cacheDir = tempDir('graphs-golden');
after(() => fs.rmSync(cacheDir, { recursive: true, force: true }));

if (cases.length === 0) {
  test('golden logits from transformers', (t) => {
    t.skip(`no fixtures under ${path.relative(process.cwd(), goldenRoot)}/<case>/golden.json yet`);
  });
}

for (const name of cases) {
  test(`golden logits: ${name}`, async () => {
    const dir = path.join(goldenRoot, name);
    const golden = JSON.parse(fs.readFileSync(path.join(dir, 'golden.json'), 'utf8')) as { input_ids: number[]; logits: number[][] };
    assert.ok(Array.isArray(golden.input_ids) && golden.input_ids.length > 0, `${name}: golden.json has no input_ids`);
    assert.equal(golden.logits.length, golden.input_ids.length, `${name}: one logits row per input id`);
    const { model, info } = await loadModel(dir, { cacheDir });
    try {
      const ids = golden.input_ids;
      const logits = await model.forward(ids, ids.map((_, i) => i - 1));
      const errors = golden.logits.map((row, i) => {
        assert.equal(row.length, info.vocabSize, `${name}: row ${i} has ${row.length} logits, vocab is ${info.vocabSize}`);
        const scale = Math.max(1e-6, ...row.map(Math.abs));
        let worst = 0;
        row.forEach((v, k) => (worst = Math.max(worst, Math.abs(logits[i * info.vocabSize + k]! - v) / scale)));
        return worst;
      });
      const bad = errors.findIndex((e) => e > 1e-4);
      // Position 0 has no rotation: when only later rows differ, the rotary frequencies disagree.
      const hint = bad > 0 && errors[0]! <= 1e-5 ? ' (row 0 matches: rotary frequencies differ, e.g. an inv_freq rounded to bf16 in the fixture)' : '';
      assert.ok(bad < 0, `${name}: row ${bad} relative error ${errors[bad]?.toExponential(2)} exceeds 1e-4${hint}; per row ${errors.map((e) => e.toExponential(1)).join(' ')}`);
    } finally {
      await model.dispose();
    }
  });
}
