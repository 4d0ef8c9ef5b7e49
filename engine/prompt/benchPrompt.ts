// Prompt-building cost on the real Qwen tokenizer, over this repository's own files: related-file gathering,
// plain and repository-level FIM prompts (2048-token budget), and a chat render. Prints one JSON line.
// Run: nice npx tsx engine/prompt/benchPrompt.ts
import path from 'node:path';
import fs from 'node:fs';
import { realTokenizer } from './realTokenizers';
import { buildFimPrompt } from './fim';
import { gatherRepoContext } from './related';
import { buildChatPrompt, detectChatTemplate } from './chat';
const tok = realTokenizer('qwen3');
const files = ['engine/server/engine.ts','engine/prompt/fim.ts','engine/prompt/chat.ts','engine/tokenizer.ts','engine/prompt/related.ts'].map(f=>({uri:'file:///r/'+f,text:fs.readFileSync(path.resolve(__dirname, '..', '..', f), 'utf8'),open:true}));
const cur = files[0]!; const cut = cur.text.indexOf('async completeDetailed');
const prefix = cur.text.slice(Math.max(0,cut-6000),cut), suffix = cur.text.slice(cut, cut+2000);
const time = (f: () => unknown, n=20) => { f(); const t0=performance.now(); for(let i=0;i<n;i++) f(); return +((performance.now()-t0)/n).toFixed(2); };
const ctx = gatherRepoContext(cur.uri, prefix, suffix, files);
const chat = detectChatTemplate(tok);
const msgs = [{role:'system' as const,content:'x'.repeat(4000)},{role:'user' as const,content:'How does completeDetailed work?'}];
console.log(JSON.stringify({
  gather_ms: time(()=>gatherRepoContext(cur.uri, prefix, suffix, files)),
  fim_plain_ms: time(()=>buildFimPrompt(tok,'qwen',prefix,suffix,{maxPromptTokens:2048})),
  fim_repo_ms: time(()=>buildFimPrompt(tok,'qwen',prefix,suffix,{maxPromptTokens:2048, ...ctx})),
  fim_repo_tokens: buildFimPrompt(tok,'qwen',prefix,suffix,{maxPromptTokens:2048, ...ctx}).ids.length,
  related_files: ctx.related.length,
  chat_render_ms: time(()=>buildChatPrompt(tok, chat, msgs, {maxPromptTokens:6144})),
}));
