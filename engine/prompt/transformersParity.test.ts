// render-prompt's chat text against transformers' apply_chat_template for the real templates of Qwen3, Llama 3.1
// and Gemma 3. The golden renders (fixtures/transformers-renders.json) come from fixtures/transformers_render.py,
// which renders each template in the Jinja2 environment transformers builds for chat templates; rerun it after
// changing the cases.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { renderPrompt } from '../cli/renderPrompt';
import { loadTokenizer, type TextTokenizer } from '../tokenizer';
import { realTokenizer, realTokenizerDir, type RealTokenizerName } from './realTokenizers';
import { JinjaChatTemplate, type TemplateMessage } from './template';

interface GoldenCase {
  model: RealTokenizerName;
  conversation: string;
  add_generation_prompt: boolean;
  messages: TemplateMessage[];
  text: string;
}

const fixtures = path.join(__dirname, 'fixtures');
const golden = JSON.parse(fs.readFileSync(path.join(fixtures, 'transformers-renders.json'), 'utf8')) as { cases: GoldenCase[] };

/** Llama-3.1-Instruct's tokenizer: the llama3_1 package's files with Meta's 3.1 template (the package ships Llama 3's). */
function llama31Tokenizer(): TextTokenizer {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'presage-llama31-'));
  try {
    const source = realTokenizerDir('llama3_1');
    fs.copyFileSync(path.join(source, 'tokenizer.json'), path.join(dir, 'tokenizer.json'));
    const config = JSON.parse(fs.readFileSync(path.join(source, 'tokenizer_config.json'), 'utf8')) as Record<string, unknown>;
    config.chat_template = fs.readFileSync(path.join(fixtures, 'llama-3.1-instruct.chat_template.jinja'), 'utf8');
    fs.writeFileSync(path.join(dir, 'tokenizer_config.json'), JSON.stringify(config));
    return loadTokenizer(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const tokenizers = new Map<RealTokenizerName, TextTokenizer>();
function tokenizerFor(model: RealTokenizerName): TextTokenizer {
  let tok = tokenizers.get(model);
  if (!tok) tokenizers.set(model, (tok = model === 'llama3_1' ? llama31Tokenizer() : realTokenizer(model)));
  return tok;
}

test('the golden renders cover Qwen3, Llama 3.1 and Gemma 3, with and without a system message and generation prompt', () => {
  for (const model of ['qwen3', 'llama3_1', 'gemma3'] as const) {
    const mine = golden.cases.filter((c) => c.model === model);
    assert.ok(mine.some((c) => c.conversation === 'with_system') && mine.some((c) => c.conversation === 'without_system'), model);
    assert.ok(mine.some((c) => c.add_generation_prompt) && mine.some((c) => !c.add_generation_prompt), model);
  }
});

for (const c of golden.cases.filter((x) => x.add_generation_prompt)) {
  test(`render-prompt --kind chat equals apply_chat_template: ${c.model}, ${c.conversation}`, () => {
    const tok = tokenizerFor(c.model);
    const rendered = renderPrompt(tok, 'chat', { messages: c.messages });
    assert.equal(rendered.text, c.text);
    // The ids are the text's tokens with special tokens parsed out, and BOS is never doubled.
    assert.deepEqual(rendered.ids, tok.encode(c.text));
    const bos = tok.bosTokenId;
    if (bos !== undefined) assert.ok(rendered.ids.filter((id) => id === bos).length <= 1, 'at most one BOS');
  });
}

test('without a generation prompt the template renders as transformers does too', () => {
  for (const c of golden.cases.filter((x) => !x.add_generation_prompt)) {
    const tok = tokenizerFor(c.model);
    const source = c.model === 'llama3_1' ? fs.readFileSync(path.join(fixtures, 'llama-3.1-instruct.chat_template.jinja'), 'utf8') : String(tok.config.chat_template);
    const template = new JinjaChatTemplate(source, c.model, tok.specialTokens);
    assert.equal(template.render(c.messages, { addGenerationPrompt: false }), c.text, `${c.model} ${c.conversation}`);
  }
});
