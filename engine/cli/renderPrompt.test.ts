// render-prompt on real tokenizers: chat text is the template's render with add_generation_prompt, as written by
// hand from each model's documented format; ids are that text tokenized with special tokens as single ids.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CONVERSATION_WITH_SYSTEM, LLAMA31_WITH_SYSTEM } from '../prompt/chatFixtures';
import { realTokenizer, realTokenizerDir } from '../prompt/realTokenizers';
import { renderPrompt } from './renderPrompt';

const root = path.resolve(__dirname, '..', '..');
const conversation = { messages: CONVERSATION_WITH_SYSTEM };

function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'engine', 'main.ts'), 'render-prompt', ...args], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('render-prompt --kind chat (CLI): Llama 3.1 from a checkpoint with chat_template.jinja, one BOS', () => {
  // A checkpoint folder as transformers ≥ 4.43 saves it: the template in chat_template.jinja.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'presage-llama31-'));
  try {
    for (const f of ['tokenizer.json', 'tokenizer_config.json']) fs.symlinkSync(path.join(realTokenizerDir('llama3_1'), f), path.join(dir, f));
    fs.copyFileSync(path.join(root, 'engine', 'prompt', 'fixtures', 'llama-3.1-instruct.chat_template.jinja'), path.join(dir, 'chat_template.jinja'));
    const input = path.join(dir, 'input.json');
    fs.writeFileSync(input, JSON.stringify(conversation));
    const r = cli(['--model', dir, '--kind', 'chat', '--input', input, '--json']);
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { text: string; ids: number[] };
    assert.equal(out.text, LLAMA31_WITH_SYSTEM);
    const tok = realTokenizer('llama3_1');
    assert.deepEqual(out.ids, tok.encode(out.text));
    assert.equal(out.ids.filter((i) => i === tok.bosTokenId).length, 1);

    // Bad input: a clear error, exit code 1.
    fs.writeFileSync(input, JSON.stringify({ messages: [{ role: 'user' }] }));
    const bad = cli(['--model', dir, '--kind', 'chat', '--input', input, '--json']);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /input\.messages\[0\] needs a string role and content/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('render-prompt --kind chat: Qwen3 ChatML and Gemma 3 turns, exactly the template render', () => {
  const qwen = renderPrompt(realTokenizer('qwen3'), 'chat', conversation);
  assert.equal(qwen.text,
    '<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nWhat is 2+2?<|im_end|>\n' +
    '<|im_start|>assistant\n4<|im_end|>\n<|im_start|>user\nAnd 3+3?<|im_end|>\n<|im_start|>assistant\n');
  const gemmaTok = realTokenizer('gemma3');
  const gemma = renderPrompt(gemmaTok, 'chat', conversation);
  assert.equal(gemma.text,
    '<bos><start_of_turn>user\nYou are a helpful assistant.\n\nWhat is 2+2?<end_of_turn>\n<start_of_turn>model\n4<end_of_turn>\n' +
    '<start_of_turn>user\nAnd 3+3?<end_of_turn>\n<start_of_turn>model\n');
  assert.equal(gemma.ids.filter((i) => i === gemmaTok.bosTokenId).length, 1);
  assert.deepEqual(gemma.ids, gemmaTok.encode(gemma.text));
  // apply_chat_template kwargs ride along as template_kwargs.
  assert.ok(renderPrompt(realTokenizer('qwen3'), 'chat', { ...conversation, template_kwargs: { enable_thinking: false } }).text.endsWith('<think>\n\n</think>\n\n'));
  assert.throws(() => renderPrompt(realTokenizer('qwen3'), 'chat', conversation, { templateName: 'tool_use' }), /no chat template named 'tool_use'/);
});

test('render-prompt --kind fim (CLI): Qwen repository-level prompt from {prefix, suffix, path, related}', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'presage-fim-'));
  try {
    const input = path.join(dir, 'fim.json');
    fs.writeFileSync(input, JSON.stringify({ prefix: 'const s = ', suffix: ';\n', path: 'src/main.ts', related: [{ path: 'src/math.ts', text: 'export const add = (a, b) => a + b;' }] }));
    const r = cli(['--model', realTokenizerDir('qwen3'), '--kind', 'fim', '--input', input, '--json']);
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { text: string; ids: number[] };
    assert.equal(out.text, '<|repo_name|>workspace\n<|file_sep|>src/math.ts\nexport const add = (a, b) => a + b;\n<|file_sep|>src/main.ts\n<|fim_prefix|>const s = <|fim_suffix|>;\n<|fim_middle|>');
    assert.equal(out.ids[0], realTokenizer('qwen3').tokenId('<|repo_name|>'));
    assert.throws(() => renderPrompt(realTokenizer('qwen3'), 'fim', { prefix: 1 }), /input\.prefix must be a string/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
