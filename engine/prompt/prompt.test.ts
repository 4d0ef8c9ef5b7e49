import path from 'node:path';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { loadTokenizer } from '../tokenizer';
import { buildChatPrompt, buildRewritePrompt, detectChatTemplate } from './chat';
import { buildFimPrompt, detectFimTemplate, type FimTemplateName, type PromptTokenizer } from './fim';
import { sharedPath } from '../sharedPaths';

/** Character-level tokenizer: id = 1000 + code unit; special tokens get small ids. */
function fakeTokenizer(specials: string[], options: { bos?: string; eos?: string } = {}): PromptTokenizer & { decode(ids: number[]): string } {
  const ids = new Map(specials.map((s, i) => [s, i + 1]));
  const names = new Map(specials.map((s, i) => [i + 1, s]));
  return {
    encode: (text) => [...text].map((c) => 1000 + c.charCodeAt(0)),
    tokenId: (t) => ids.get(t),
    bosTokenId: options.bos ? ids.get(options.bos) : undefined,
    eosTokenIds: options.eos ? [ids.get(options.eos)!] : [],
    decode: (list) => list.map((i) => (i >= 1000 ? String.fromCharCode(i - 1000) : `[${names.get(i)}]`)).join(''),
  };
}

const families: Record<Exclude<FimTemplateName, 'generic'>, { specials: string[]; bos?: string; eos: string; expect: string }> = {
  qwen: { specials: ['<|fim_prefix|>', '<|fim_suffix|>', '<|fim_middle|>', '<|endoftext|>', '<|fim_pad|>', '<|im_start|>', '<|im_end|>'], eos: '<|endoftext|>', expect: '[<|fim_prefix|>]PRE[<|fim_suffix|>]SUF[<|fim_middle|>]' },
  deepseek: { specials: ['<｜fim▁begin｜>', '<｜fim▁hole｜>', '<｜fim▁end｜>', '<｜begin▁of▁sentence｜>', '<｜end▁of▁sentence｜>', '<|EOT|>'], bos: '<｜begin▁of▁sentence｜>', eos: '<｜end▁of▁sentence｜>', expect: '[<｜begin▁of▁sentence｜>][<｜fim▁begin｜>]PRE[<｜fim▁hole｜>]SUF[<｜fim▁end｜>]' },
  starcoder: { specials: ['<fim_prefix>', '<fim_suffix>', '<fim_middle>', '<|endoftext|>', '<file_sep>'], eos: '<|endoftext|>', expect: '[<fim_prefix>]PRE[<fim_suffix>]SUF[<fim_middle>]' },
  codellama: { specials: ['▁<PRE>', '▁<SUF>', '▁<MID>', '▁<EOT>', '<s>', '</s>'], bos: '<s>', eos: '</s>', expect: '[<s>][▁<PRE>]PRE[▁<SUF>]SUF[▁<MID>]' },
  codestral: { specials: ['[SUFFIX]', '[PREFIX]', '<s>', '</s>'], bos: '<s>', eos: '</s>', expect: '[<s>][[SUFFIX]]SUF[[PREFIX]]PRE' },
};

test('each FIM family is detected from its tokens and laid out in its order, with its end tokens', () => {
  for (const [name, f] of Object.entries(families)) {
    const tok = fakeTokenizer(f.specials, { ...(f.bos ? { bos: f.bos } : {}), eos: f.eos });
    assert.equal(detectFimTemplate(tok), name);
    const built = buildFimPrompt(tok, name as FimTemplateName, 'PRE', 'SUF');
    assert.equal(tok.decode(built.ids), f.expect, name);
    assert.ok(built.stopTokenIds.includes(tok.tokenId(f.eos)!), `${name} stops at EOS`);
  }
  assert.ok(buildFimPrompt(fakeTokenizer(families.qwen.specials), 'qwen', 'a', 'b').stopTokenIds.includes(5), 'qwen stops at <|fim_pad|>');
});

test('special-token text in user code is not turned into special tokens', () => {
  const tok = fakeTokenizer(families.qwen.specials);
  const built = buildFimPrompt(tok, 'qwen', 'x <|fim_middle|> y', '');
  assert.equal(built.ids.filter((i) => i === tok.tokenId('<|fim_middle|>')).length, 1);
});

test('FIM budget keeps the end of the prefix and the start of the suffix', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 300 }), fc.string({ maxLength: 300 }), fc.integer({ min: 8, max: 200 }), (prefix, suffix, budget) => {
      const tok = fakeTokenizer(families.starcoder.specials);
      const built = buildFimPrompt(tok, 'starcoder', prefix, suffix, { maxPromptTokens: budget });
      assert.ok(built.ids.length <= budget);
      const text = tok.decode(built.ids);
      const m = /^\[<fim_prefix>\]([\s\S]*)\[<fim_suffix>\]([\s\S]*)\[<fim_middle>\]$/.exec(text);
      assert.ok(m, text);
      assert.ok(prefix.endsWith(m[1]!));
      assert.ok(suffix.startsWith(m[2]!));
      if (prefix.length + suffix.length + 3 <= budget) assert.equal(m[1]! + m[2]!, prefix + suffix);
    }),
    { numRuns: 200 },
  );
});

test('a tokenizer without FIM tokens gets the generic template (the prefix only)', () => {
  const gpt2 = loadTokenizer(sharedPath('tokenizers/gpt2'));
  assert.equal(detectFimTemplate(gpt2), 'generic');
  const built = buildFimPrompt(gpt2, 'generic', 'def add(a, b):\n    return', '\n\nprint(add(1, 2))');
  assert.equal(gpt2.decode(built.ids), 'def add(a, b):\n    return');
  assert.throws(() => buildFimPrompt(gpt2, 'qwen', 'a', 'b'), /needs the token <\|fim_prefix\|>/);
});

test('chat templates: ChatML, DeepSeek instruct and plain text', () => {
  const chatml = fakeTokenizer(['<|im_start|>', '<|im_end|>', '<|endoftext|>'], { eos: '<|endoftext|>' });
  assert.equal(detectChatTemplate(chatml), 'chatml');
  const built = buildChatPrompt(chatml, 'chatml', [{ role: 'system', content: 'S' }, { role: 'user', content: 'hi' }]);
  assert.equal(chatml.decode(built.ids), '[<|im_start|>]system\nS[<|im_end|>]\n[<|im_start|>]user\nhi[<|im_end|>]\n[<|im_start|>]assistant\n');
  assert.ok(built.stopTokenIds.includes(chatml.tokenId('<|im_end|>')!));

  const ds = fakeTokenizer(['<｜begin▁of▁sentence｜>', '<|EOT|>'], { bos: '<｜begin▁of▁sentence｜>' });
  assert.equal(detectChatTemplate(ds), 'deepseek');
  assert.equal(ds.decode(buildChatPrompt(ds, 'deepseek', [{ role: 'user', content: 'hi' }]).ids), '[<｜begin▁of▁sentence｜>]### Instruction:\nhi\n### Response:\n');

  const plain = fakeTokenizer([]);
  const p = buildChatPrompt(plain, 'plain', [{ role: 'user', content: 'hi' }], { assistantPrefix: 'ok' });
  assert.equal(plain.decode(p.ids), 'User: hi\n\nAssistant: ok');
  assert.ok(p.stop.includes('\nUser:'));
  assert.throws(() => buildChatPrompt(plain, 'plain', []), /at least one message/);
});

test('chat budget drops the oldest turns but keeps the system prompt and the last message', () => {
  const tok = fakeTokenizer([]);
  const messages = [
    { role: 'system' as const, content: 'SYS' },
    { role: 'user' as const, content: 'old question '.repeat(10) },
    { role: 'assistant' as const, content: 'old answer '.repeat(10) },
    { role: 'user' as const, content: 'new' },
  ];
  const built = buildChatPrompt(tok, 'plain', messages, { maxPromptTokens: 60 });
  const text = tok.decode(built.ids);
  assert.ok(built.ids.length <= 60);
  assert.ok(text.startsWith('System: SYS'));
  assert.ok(text.includes('User: new'));
  assert.ok(!text.includes('old question'));
});

test('rewrite prompt shows the selection, opens a fence and stops at the closing fence', () => {
  const tok = fakeTokenizer([]);
  const built = buildRewritePrompt(tok, 'plain', { instruction: 'rename x to y', selection: 'let x = 1;', language: 'typescript', prefix: 'before', suffix: 'after' });
  const text = tok.decode(built.ids);
  assert.ok(text.includes('let x = 1;'));
  assert.ok(text.includes('rename x to y'));
  assert.ok(text.endsWith('Assistant: ```typescript\n'));
  assert.ok(built.stop.includes('\n```'));
});

test('a long prefix is cut at a content-defined line anchor, so typing keeps the prompt start (KV reuse)', () => {
  const tok = fakeTokenizer(families.qwen.specials);
  const lines = Array.from({ length: 400 }, (_, i) => `const value${i} = compute(${i * 7});`);
  const budget = 3000;
  const prefix = lines.join('\n') + '\n';
  const before = buildFimPrompt(tok, 'qwen', prefix, '', { maxPromptTokens: budget });
  const typed = buildFimPrompt(tok, 'qwen', prefix + 'const x = 1;\nconst y', '', { maxPromptTokens: budget });
  // The window also slides: the client dropped the first 10 lines.
  const slid = buildFimPrompt(tok, 'qwen', lines.slice(10).join('\n') + '\nconst x = 1;\n', '', { maxPromptTokens: budget });
  for (const b of [before, typed, slid]) assert.ok(b.ids.length <= budget);
  const common = (a: number[], b: number[]): number => {
    let i = 0;
    while (i < a.length && i < b.length && a[i] === b[i]) i++;
    return i;
  };
  assert.ok(common(before.ids, typed.ids) > budget * 0.8, `typing kept ${common(before.ids, typed.ids)} tokens`);
  assert.ok(common(before.ids, slid.ids) > budget * 0.8, `sliding kept ${common(before.ids, slid.ids)} tokens`);
  // It starts on a whole line.
  assert.match(tok.decode(before.ids), /^\[<\|fim_prefix\|>\]const value\d+ = /);
});

test('base code models (no chat template, a file separator) get the two-file rewrite prompt', () => {
  const tok = fakeTokenizer(['<file_sep>', '<|endoftext|>', '<fim_prefix>', '<fim_suffix>', '<fim_middle>'], { eos: '<|endoftext|>' });
  assert.equal(detectChatTemplate(tok), 'plain');
  const built = buildRewritePrompt(tok, 'plain', { instruction: 'rename x\nto y', selection: 'x = 1', language: 'python' });
  assert.equal(tok.decode(built.ids), '[<file_sep>]original.py\nx = 1\n[<file_sep>]rewritten.py (rename x to y)\n');
  assert.ok(built.stopTokenIds.includes(tok.tokenId('<file_sep>')!));
  assert.ok(built.stopTokenIds.includes(tok.tokenId('<|endoftext|>')!));
  const small = buildRewritePrompt(tok, 'plain', { instruction: 'i', selection: 'y'.repeat(500), language: 'python' }, { maxPromptTokens: 100 });
  assert.ok(small.ids.length <= 101 && small.ids[0] === tok.tokenId('<file_sep>'));
});

test('a checkpoint can declare its FIM template in tokenizer_config.json, and an unknown name is a clear error', () => {
  const starcoder = fakeTokenizer(families.starcoder.specials);
  assert.equal(detectFimTemplate(starcoder), 'starcoder');
  assert.equal(detectFimTemplate({ ...starcoder, config: { presage_fim_template: 'generic' } }), 'generic');
  assert.equal(detectFimTemplate({ ...starcoder, config: { presage_fim_template: 'qwen' } }), 'qwen');
  assert.throws(() => detectFimTemplate({ ...starcoder, config: { presage_fim_template: 'bogus' } }), /unknown presage_fim_template 'bogus'/);
  const demo = loadTokenizer(path.resolve(__dirname, '..', '..', 'models', 'demo'));
  assert.equal(detectFimTemplate(demo), 'generic');
});
