// Markdown to HTML for chat answers. Pure and browser-safe: used by the webview bundle and by tests.
// Raw HTML is escaped (html: false), images are not rendered, and links keep only http(s) and mailto targets.
import MarkdownIt from 'markdown-it';

const SAFE_LINK = /^(https?:\/\/|mailto:)/i;

/** True for link targets the chat may render as links. */
export function isSafeLink(url: string): boolean {
  // Strip what browsers ignore in a scheme (controls, whitespace) before checking it.
  // eslint-disable-next-line no-control-regex -- matching control characters is the point here
  const cleaned = url.replace(/[\u0000-\u0020\u007f-\u009f]/g, '');
  return SAFE_LINK.test(cleaned);
}

export function createMarkdownRenderer(): (markdown: string) => string {
  const md = new MarkdownIt({ html: false, linkify: false, typographer: false, breaks: false });
  md.validateLink = isSafeLink;
  // Images would load remote content (and the CSP blocks them anyway): show their markdown as text.
  md.disable(['image']);
  const defaultLinkOpen = md.renderer.rules.link_open ?? ((tokens, idx, options, _env, self) => self.renderToken(tokens, idx, options));
  md.renderer.rules.link_open = (tokens, idx, options, env, self) => {
    const token = tokens[idx]!;
    token.attrSet('rel', 'noopener noreferrer');
    token.attrSet('class', 'presage-external');
    return defaultLinkOpen(tokens, idx, options, env, self);
  };
  return (markdown: string) => md.render(markdown);
}

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}
