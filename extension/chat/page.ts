// The chat webview's HTML: a strict nonce CSP, one external script and one stylesheet, no inline code.
// Pure: the extension host and the browser test build the page with the same function.
import { escapeHtml } from './markdown';
import type { Welcome } from './welcome';

export interface ChatPageAssets {
  /** `webview.cspSource` (or the test server's origin). */
  cspSource: string;
  nonce: string;
  scriptUri: string;
  styleUri: string;
  /** Shown above the conversation (which model, what it can do, how to mention files). */
  welcome?: Welcome;
}

export function contentSecurityPolicy(cspSource: string, nonce: string): string {
  return [`default-src 'none'`, `script-src 'nonce-${nonce}'`, `style-src ${cspSource}`, `font-src ${cspSource}`, `base-uri 'none'`, `form-action 'none'`].join('; ');
}

export function chatPageHtml(assets: ChatPageAssets): string {
  if (!/^[A-Za-z0-9+/=_-]{16,}$/.test(assets.nonce)) throw new Error('chat page: the nonce must be at least 16 base64 characters');
  const attr = escapeHtml;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${attr(contentSecurityPolicy(assets.cspSource, assets.nonce))}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${attr(assets.styleUri)}">
<title>Presage Chat</title>
</head>
<body>
<main id="presage-chat" aria-label="Presage chat">
  <section id="presage-chat-welcome" aria-label="Welcome"${assets.welcome?.demo ? ' data-demo="true"' : ''}>${assets.welcome ? `<h2>${attr(assets.welcome.title)}</h2>${assets.welcome.lines.map((l) => `<p>${attr(l)}</p>`).join('')}` : ''}</section>
  <div id="presage-chat-log" role="log" aria-live="polite" aria-label="Conversation"></div>
  <div id="presage-chat-status" role="status" aria-label="Chat status"></div>
  <form id="presage-chat-form" aria-label="Ask Presage">
    <textarea id="presage-chat-input" rows="3" aria-label="Ask about your workspace" placeholder="Ask about your code (mention files with @path)"></textarea>
    <div class="presage-chat-actions">
      <button id="presage-chat-send" type="submit" aria-label="Send">Send</button>
      <button id="presage-chat-stop" type="button" aria-label="Stop" disabled>Stop</button>
      <button id="presage-chat-clear" type="button" aria-label="Clear conversation">Clear</button>
    </div>
  </form>
</main>
<script nonce="${attr(assets.nonce)}" src="${attr(assets.scriptUri)}"></script>
</body>
</html>`;
}
