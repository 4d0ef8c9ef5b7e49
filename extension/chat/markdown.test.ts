import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { createMarkdownRenderer, escapeHtml, isSafeLink } from './markdown';

const render = createMarkdownRenderer();

/** Every tag the output opens, and every href it carries. */
function inspect(html: string): { tags: string[]; hrefs: string[]; handlers: boolean } {
  const tags = [...html.matchAll(/<([a-zA-Z][\w-]*)/g)].map((m) => m[1]!.toLowerCase());
  const hrefs = [...html.matchAll(/\shref="([^"]*)"/g)].map((m) => m[1]!);
  // An event handler attribute inside a real tag (not inside escaped text).
  const handlers = [...html.matchAll(/<[^>]*>/g)].some((m) => /\son\w+\s*=/i.test(m[0]));
  return { tags, hrefs, handlers };
}

const ALLOWED_TAGS = new Set(['p', 'a', 'code', 'pre', 'em', 'strong', 'ul', 'ol', 'li', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'blockquote', 'hr', 'br', 'table', 'thead', 'tbody', 'tr', 'th', 'td', 's']);

test('raw HTML in an answer is escaped, never emitted', () => {
  const html = render('Hi <img src=x onerror="alert(1)"> and <script>alert(2)</script>\n\n<iframe src="https://evil"></iframe>');
  assert.ok(!/<img|<script|<iframe/i.test(html), html);
  assert.match(html, /&lt;img src=x onerror=&quot;alert\(1\)&quot;&gt;/);
  assert.match(html, /&lt;script&gt;alert\(2\)&lt;\/script&gt;/);
});

test('javascript:, data: and vbscript: links are not rendered as links', () => {
  for (const target of ['javascript:alert(1)', 'JaVaScRiPt:alert(1)', ' javascript:alert(1)', '&#106;avascript:alert(1)', 'java\tscript:alert(1)', 'data:text/html,<b>x</b>', 'vbscript:msgbox(1)', '/relative', '#top']) {
    const html = render(`[click](${target}) and <${target}>`);
    assert.equal(inspect(html).hrefs.length, 0, `${target} -> ${html}`);
  }
  const ok = render('[docs](https://example.com/a?b=1) [mail](mailto:a@b.c)');
  assert.deepEqual(inspect(ok).hrefs, ['https://example.com/a?b=1', 'mailto:a@b.c']);
});

test('images are shown as text, code is escaped', () => {
  const html = render('![x](https://example.com/x.png)\n\n```ts\nconst a = "<b>";\n```');
  assert.ok(!html.includes('<img'));
  assert.match(html, /<pre><code class="language-ts">const a = &quot;&lt;b&gt;&quot;;/);
});

test('property: any mix of hostile fragments renders only allowed tags and safe links', () => {
  const fragment = fc.constantFrom('<img src=x onerror=alert(1)>', '<script>alert(1)</script>', '[a](javascript:alert(1))', '[b](https://ok.example)', '<a href="javascript:x">y</a>', '`<b>`', '```\n<svg onload=1>\n```', '<javascript:alert(1)>', '![i](javascript:1)', '\n\n', '* item', '**bold**', '> quote', '<style>*{}</style>', '&lt;', 'text', '<div onclick="x">');
  fc.assert(
    fc.property(fc.array(fc.oneof(fragment, fc.string({ maxLength: 8 })), { maxLength: 12 }), (parts) => {
      const result = inspect(render(parts.join('')));
      for (const tag of result.tags) assert.ok(ALLOWED_TAGS.has(tag), `tag ${tag}`);
      for (const href of result.hrefs) assert.ok(/^(https?:\/\/|mailto:)/i.test(href), `href ${href}`);
      assert.equal(result.handlers, false);
    }),
    { numRuns: 400 },
  );
});

test('isSafeLink and escapeHtml', () => {
  assert.equal(isSafeLink('https://a.b'), true);
  assert.equal(isSafeLink('\u0001javascript:alert(1)'), false);
  assert.equal(isSafeLink('file:///etc/passwd'), false);
  assert.equal(escapeHtml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
});
