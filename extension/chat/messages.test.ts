import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_QUESTION_CHARS, parseHostMessage, parseWebviewMessage } from './messages';
import { chatPageHtml, contentSecurityPolicy } from './page';

test('parseWebviewMessage accepts the known messages and rejects anything else', () => {
  assert.deepEqual(parseWebviewMessage({ type: 'ask', text: 'why?' }), { type: 'ask', text: 'why?' });
  assert.deepEqual(parseWebviewMessage({ type: 'openCitation', uri: 'file:///a.ts', line: 3, extra: 1 }), { type: 'openCitation', uri: 'file:///a.ts', line: 3 });
  assert.deepEqual(parseWebviewMessage({ type: 'cancel', junk: true }), { type: 'cancel' });
  for (const bad of [null, 'ask', 42, { type: 'ask' }, { type: 'ask', text: '   ' }, { type: 'ask', text: 'x'.repeat(MAX_QUESTION_CHARS + 1) }, { type: 'openCitation', uri: 'a', line: -1 }, { type: 'openCitation', uri: 'a', line: 1.5 }, { type: 'openCitation', line: 1 }, { type: 'eval', code: '1' }]) {
    assert.equal(parseWebviewMessage(bad), undefined, JSON.stringify(bad));
  }
});

test('parseHostMessage validates fields and drops malformed citations', () => {
  assert.deepEqual(parseHostMessage({ type: 'delta', id: 'c1', delta: 'x' }), { type: 'delta', id: 'c1', delta: 'x' });
  assert.deepEqual(parseHostMessage({ type: 'done', id: 'c1', text: 't', citations: [{ uri: 'u', label: 'l', line: 0 }, { uri: 1 }, null] }), { type: 'done', id: 'c1', text: 't', citations: [{ uri: 'u', label: 'l', line: 0 }] });
  assert.deepEqual(parseHostMessage({ type: 'error', message: 'm' }), { type: 'error', message: 'm' });
  assert.equal(parseHostMessage({ type: 'delta', id: 'c1' }), undefined);
  assert.equal(parseHostMessage({ type: 'html', html: '<b>' }), undefined);
});

test('the chat page: nonce CSP, one external script with the nonce, no inline code', () => {
  const html = chatPageHtml({ cspSource: 'https://x.vscode-cdn.net', nonce: 'abcdefghijklmnop1234', scriptUri: 'https://x/chat.js', styleUri: 'https://x/chat.css' });
  const csp = contentSecurityPolicy('https://x.vscode-cdn.net', 'abcdefghijklmnop1234');
  assert.match(csp, /^default-src 'none'; script-src 'nonce-abcdefghijklmnop1234'; style-src https:\/\/x\.vscode-cdn\.net/);
  assert.ok(!csp.includes('unsafe'));
  assert.ok(html.includes(`content="${csp.replace(/'/g, '&#39;')}"`));
  const scripts = [...html.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)];
  assert.equal(scripts.length, 1);
  assert.match(scripts[0]![1]!, /nonce="abcdefghijklmnop1234" src="https:\/\/x\/chat\.js"/);
  assert.equal(scripts[0]![2], '');
  assert.ok(!/\son\w+=/.test(html) && !/style=/.test(html), 'no inline handlers or styles');
  for (const id of ['presage-chat-log', 'presage-chat-input', 'presage-chat-send', 'presage-chat-stop', 'presage-chat-status']) assert.ok(html.includes(`id="${id}"`), id);
  assert.throws(() => chatPageHtml({ cspSource: 'x', nonce: 'short', scriptUri: 'a', styleUri: 'b' }), /nonce/);
  assert.throws(() => chatPageHtml({ cspSource: 'x', nonce: `abcdefghijklmnop1234" onload="x`, scriptUri: 'a', styleUri: 'b' }), /nonce/);
});
