// FIM family and repository-level token detection on real tokenizers, and the multi-file prompt layout.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { buildFimPrompt, detectFimTemplate, detectRepoTokens, type PromptTokenizer, type RelatedFile } from './fim';
import { realTokenizer } from './realTokenizers';

test('FIM families from real vocabularies: Qwen (Qwen3 shares Qwen2.5-Coder tokens), DeepSeek-V3; none in Llama 3.1 or Gemma 3', () => {
  const qwen = realTokenizer('qwen3');
  assert.equal(detectFimTemplate(qwen), 'qwen');
  assert.deepEqual(detectRepoTokens(qwen), { style: 'qwen', repoName: qwen.tokenId('<|repo_name|>'), fileSep: qwen.tokenId('<|file_sep|>') });
  const q = buildFimPrompt(qwen, 'qwen', 'def add(a, b):\n    return ', '\n\nprint(add(1, 2))\n');
  assert.equal(qwen.decode(q.ids), '<|fim_prefix|>def add(a, b):\n    return <|fim_suffix|>\n\nprint(add(1, 2))\n<|fim_middle|>');
  for (const stop of ['<|endoftext|>', '<|fim_pad|>', '<|file_sep|>', '<|im_end|>']) assert.ok(q.stopTokenIds.includes(qwen.tokenId(stop)!), stop);

  const ds = realTokenizer('deepseek_v3');
  assert.equal(detectFimTemplate(ds), 'deepseek');
  assert.equal(detectRepoTokens(ds), undefined);
  const d = buildFimPrompt(ds, 'deepseek', 'x = ', '\ny = x', { related: [{ path: 'a.py', text: 'A = 1' }] });
  assert.equal(ds.decode(d.ids), '<｜begin▁of▁sentence｜><｜fim▁begin｜>x = <｜fim▁hole｜>\ny = x<｜fim▁end｜>');
  assert.equal(d.ids.filter((i) => i === ds.bosTokenId).length, 1, 'one BOS');
  assert.equal(d.template, 'deepseek', 'no multi-file format for a tokenizer without repository tokens');

  for (const name of ['llama3_1', 'gemma3'] as const) {
    const tok = realTokenizer(name);
    assert.equal(detectFimTemplate(tok), 'generic', name);
    assert.equal(detectRepoTokens(tok), undefined, name);
  }
});

test('Qwen repository-level prompt: repo name, related files (most relevant nearest), then the current file in FIM form', () => {
  const qwen = realTokenizer('qwen3');
  const related: RelatedFile[] = [
    { path: 'src/math.ts', text: 'export function add(a: number, b: number): number {\n  return a + b;\n}' },
    { path: 'src/log.ts', text: 'export const log = (m: string) => console.log(m);' },
  ];
  const built = buildFimPrompt(qwen, 'qwen', "import { add } from './math';\nconst s = ", ';\nlog(String(s));\n', { path: 'src/main.ts', repoName: 'calc', related });
  assert.equal(qwen.decode(built.ids),
    '<|repo_name|>calc\n' +
    '<|file_sep|>src/log.ts\nexport const log = (m: string) => console.log(m);\n' +
    '<|file_sep|>src/math.ts\nexport function add(a: number, b: number): number {\n  return a + b;\n}\n' +
    '<|file_sep|>src/main.ts\n' +
    "<|fim_prefix|>import { add } from './math';\nconst s = <|fim_suffix|>;\nlog(String(s));\n<|fim_middle|>");
  assert.equal(built.template, 'qwen+repo');
  // Each special token is one id, exactly where the format puts it.
  assert.equal(built.ids.filter((i) => i === qwen.tokenId('<|file_sep|>')).length, 3);
  assert.equal(built.ids[0], qwen.tokenId('<|repo_name|>'));
});

/** Character-level tokenizer with Qwen's or StarCoder's special tokens. */
function charTokenizer(specials: string[]): PromptTokenizer & { decode(ids: number[]): string } {
  const ids = new Map(specials.map((s, i) => [s, i + 1]));
  const names = new Map(specials.map((s, i) => [i + 1, s]));
  return {
    encode: (text) => [...text].map((c) => 1000 + c.charCodeAt(0)),
    tokenId: (t) => ids.get(t),
    eosTokenIds: [],
    decode: (list) => list.map((i) => (i >= 1000 ? String.fromCharCode(i - 1000) : names.get(i)!)).join(''),
  };
}
const QWEN = ['<|fim_prefix|>', '<|fim_suffix|>', '<|fim_middle|>', '<|repo_name|>', '<|file_sep|>', '<|endoftext|>'];
const STARCODER = ['<fim_prefix>', '<fim_suffix>', '<fim_middle>', '<repo_name>', '<file_sep>', '<|endoftext|>'];

test('StarCoder2 repository-level prompt: <repo_name>, <file_sep>path\\ncode, and the path inside the FIM block', () => {
  const tok = charTokenizer(STARCODER);
  const built = buildFimPrompt(tok, 'starcoder', 'PRE', 'SUF', { path: 'pkg/main.py', repoName: 'r', related: [{ path: 'pkg/util.py', text: 'def util():\n    return 42\n' }] });
  assert.equal(tok.decode(built.ids), '<repo_name>r<file_sep>pkg/util.py\ndef util():\n    return 42\n<file_sep><fim_prefix>pkg/main.py\nPRE<fim_suffix>SUF<fim_middle>');
});

/** The full Qwen layout when everything fits: the oracle, written out directly. */
function qwenOracle(prefix: string, suffix: string, path: string, related: RelatedFile[]): string {
  const files = [...related].reverse().map((f) => `<|file_sep|>${f.path}\n${f.text}\n`).join('');
  return `<|repo_name|>workspace\n${files}<|file_sep|>${path}\n<|fim_prefix|>${prefix}<|fim_suffix|>${suffix}<|fim_middle|>`;
}

test('property: the multi-file prompt fits the budget, keeps the cursor context first, and is the full layout when all fits', () => {
  const tok = charTokenizer(QWEN);
  const text = fc.string({ maxLength: 120 }).filter((t) => !t.includes('<|'));
  const file = fc.record({ path: fc.stringMatching(/^[a-z]{1,8}\/[a-z]{1,8}\.ts$/), text });
  fc.assert(
    fc.property(text, text, fc.array(file, { maxLength: 4 }), fc.integer({ min: 16, max: 600 }), (prefix, suffix, related, budget) => {
      const built = buildFimPrompt(tok, 'qwen', prefix, suffix, { path: 'src/cur.ts', related, maxPromptTokens: budget });
      assert.ok(built.ids.length <= budget, `${built.ids.length} > ${budget}`);
      const out = tok.decode(built.ids);
      const m = /<\|fim_prefix\|>([\s\S]*)<\|fim_suffix\|>([\s\S]*)<\|fim_middle\|>$/.exec(out);
      assert.ok(m, out);
      assert.ok(prefix.endsWith(m[1]!) && suffix.startsWith(m[2]!));
      const full = qwenOracle(prefix, suffix, 'src/cur.ts', related);
      if (related.length > 0 && [...full].length <= budget * 0.6) assert.equal(out, full);
      if (related.length === 0) assert.ok(!out.includes('<|file_sep|>'));
      // Related files never push out cursor context the budget could hold: the current file is whole when it
      // fits in the share the related files leave.
      if ([...prefix].length + [...suffix].length + 3 <= Math.floor((budget - 3) * 0.6) - 20) assert.equal(m[1]! + m[2]!, prefix + suffix);
    }),
    { numRuns: 300 },
  );
});

test('file content that spells special tokens stays text in FIM prompts (real Qwen tokenizer), and plain encoding is otherwise the same', () => {
  const qwen = realTokenizer('qwen3');
  const prefix = 'const marker = "<|fim_middle|>";\n// <|im_end|> <|endoftext|>\nconst x = ';
  const built = buildFimPrompt(qwen, 'qwen', prefix, '<|fim_suffix|>;', { path: 'a.ts', related: [{ path: 'b.ts', text: '<|file_sep|>not a separator' }] });
  const count = (name: string): number => built.ids.filter((i) => i === qwen.tokenId(name)).length;
  assert.equal(count('<|fim_middle|>'), 1);
  assert.equal(count('<|fim_suffix|>'), 1);
  assert.equal(count('<|file_sep|>'), 2, 'the two real separators only');
  assert.equal(count('<|im_end|>') + count('<|endoftext|>'), 0);
  assert.ok(qwen.decode(built.ids).includes(prefix));
  const specials = ['<|im_start|>', '<|im_end|>', '<|fim_prefix|>', '<|endoftext|>'];
  fc.assert(
    fc.property(fc.array(fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom(...specials)), { maxLength: 8 }), (parts) => {
      const text = parts.join('');
      const plain = qwen.encodePlain(text);
      assert.equal(qwen.decode(plain), text);
      assert.ok(plain.every((id) => !specials.some((s) => qwen.tokenId(s) === id)));
      if (!specials.some((s) => text.includes(s))) assert.deepEqual(plain, qwen.encode(text));
    }),
    { numRuns: 200 },
  );
});
