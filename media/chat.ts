// The chat panel's script (bundled as a browser IIFE to dist/media/chat.js). It renders the conversation,
// streams answers through the pure markdown renderer and asks the host to open cited files.
import { createMarkdownRenderer } from '../extension/chat/markdown';
import { parseHostMessage, type HostMessage, type SourceRef, type WebviewMessage } from '../extension/chat/messages';

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

interface Turn {
  id: string;
  question: string;
  answer: string;
  citations: SourceRef[];
  state: 'streaming' | 'done' | 'cancelled' | 'error';
  error?: string;
}

const vscode = acquireVsCodeApi();
const render = createMarkdownRenderer();
const post = (message: WebviewMessage): void => vscode.postMessage(message);

function byId<T extends HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`chat page: missing #${id}`);
  return el as T;
}

const log = byId<HTMLDivElement>('presage-chat-log');
const status = byId<HTMLDivElement>('presage-chat-status');
const form = byId<HTMLFormElement>('presage-chat-form');
const input = byId<HTMLTextAreaElement>('presage-chat-input');
const stop = byId<HTMLButtonElement>('presage-chat-stop');
const clear = byId<HTMLButtonElement>('presage-chat-clear');

const turns: Turn[] = restoreTurns(vscode.getState());
const views = new Map<string, { root: HTMLElement; answer: HTMLElement; sources: HTMLElement; assistant: HTMLElement }>();
let renderTimer: ReturnType<typeof setTimeout> | undefined;

function restoreTurns(state: unknown): Turn[] {
  const saved = (state as { turns?: unknown } | undefined)?.turns;
  if (!Array.isArray(saved)) return [];
  return saved
    .filter((t): t is Turn => typeof t?.id === 'string' && typeof t.question === 'string' && typeof t.answer === 'string' && Array.isArray(t.citations))
    .map((t) => ({ ...t, state: t.state === 'streaming' ? 'cancelled' : t.state }));
}

function save(): void {
  vscode.setState({ turns: turns.slice(-20) });
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, className: string, text?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function viewFor(turn: Turn): { root: HTMLElement; answer: HTMLElement; sources: HTMLElement; assistant: HTMLElement } {
  const existing = views.get(turn.id);
  if (existing) return existing;
  const root = el('section', 'presage-turn');
  root.dataset.id = turn.id;
  const user = el('div', 'presage-msg presage-user');
  user.dataset.role = 'user';
  user.append(el('div', 'presage-who', 'You'), el('div', 'presage-question', turn.question));
  const assistant = el('div', 'presage-msg presage-assistant');
  assistant.dataset.role = 'assistant';
  const answer = el('div', 'presage-answer');
  answer.setAttribute('aria-label', 'Answer');
  const sources = el('nav', 'presage-citations');
  sources.setAttribute('aria-label', 'Sources');
  assistant.append(el('div', 'presage-who', 'Presage'), answer, sources);
  root.append(user, assistant);
  log.append(root);
  const view = { root, answer, sources, assistant };
  views.set(turn.id, view);
  return view;
}

function citationLink(ref: SourceRef): HTMLElement {
  // No href: the webview host would treat it as navigation; the click goes to the extension instead.
  const link = el('a', 'presage-citation citation', ref.label);
  link.setAttribute('role', 'link');
  link.tabIndex = 0;
  link.title = `Open ${ref.label}`;
  link.dataset.uri = ref.uri;
  link.dataset.line = String(ref.line);
  const open = (event: Event): void => {
    event.preventDefault();
    post({ type: 'openCitation', uri: ref.uri, line: ref.line });
  };
  link.addEventListener('click', open);
  link.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' || event.key === ' ') open(event);
  });
  return link;
}

function paint(turn: Turn): void {
  const view = viewFor(turn);
  view.assistant.setAttribute('aria-busy', String(turn.state === 'streaming'));
  view.assistant.dataset.state = turn.state;
  view.answer.innerHTML = render(turn.answer); // html: false; only safe markup comes out
  if (turn.state === 'error') view.answer.append(el('p', 'presage-error', turn.error ?? 'The request failed.'));
  if (turn.state === 'cancelled') view.answer.append(el('p', 'presage-note', 'Stopped.'));
  view.sources.replaceChildren();
  if (turn.citations.length > 0) {
    view.sources.append(el('span', 'presage-sources-title', 'Sources:'));
    for (const ref of turn.citations) view.sources.append(citationLink(ref));
  }
  log.scrollTop = log.scrollHeight;
}

function schedulePaint(turn: Turn): void {
  if (renderTimer !== undefined) return;
  renderTimer = setTimeout(() => {
    renderTimer = undefined;
    paint(turn);
  }, 30);
}

function setBusy(busy: boolean, text = ''): void {
  stop.disabled = !busy;
  status.textContent = text;
  document.body.dataset.busy = String(busy);
}

function handle(message: HostMessage): void {
  if (message.type === 'welcome') {
    const welcome = byId<HTMLElement>('presage-chat-welcome');
    welcome.replaceChildren(el('h2', '', message.title), ...message.lines.map((l) => el('p', '', l)));
    if (message.demo) welcome.dataset.demo = 'true';
    else delete welcome.dataset.demo;
    return;
  }
  if (message.type === 'reset') {
    turns.length = 0;
    views.clear();
    log.replaceChildren();
    setBusy(false);
    save();
    return;
  }
  if (message.type === 'start') {
    const turn: Turn = { id: message.id, question: message.question, answer: '', citations: [], state: 'streaming' };
    turns.push(turn);
    paint(turn);
    setBusy(true, 'Thinking…');
    return;
  }
  const turn = message.id !== undefined ? turns.find((t) => t.id === message.id) : undefined;
  if (message.type === 'error') {
    if (turn) {
      turn.state = 'error';
      turn.error = message.message;
      paint(turn);
      save();
    }
    setBusy(false, message.message);
    return;
  }
  if (!turn) return;
  if (message.type === 'delta') {
    turn.answer += message.delta;
    setBusy(true, 'Answering…');
    schedulePaint(turn);
    return;
  }
  turn.answer = message.text;
  turn.citations = message.citations;
  turn.state = message.cancelled ? 'cancelled' : 'done';
  if (renderTimer !== undefined) clearTimeout(renderTimer);
  renderTimer = undefined;
  paint(turn);
  setBusy(false);
  save();
}

window.addEventListener('message', (event: MessageEvent) => {
  const message = parseHostMessage(event.data);
  if (message) handle(message);
});

function submit(): void {
  const text = input.value.trim();
  if (!text) return;
  post({ type: 'ask', text });
  input.value = '';
}

form.addEventListener('submit', (event) => {
  event.preventDefault();
  submit();
});
input.addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    submit();
  }
});
stop.addEventListener('click', () => post({ type: 'cancel' }));
clear.addEventListener('click', () => post({ type: 'clear' }));

for (const turn of turns) paint(turn);
setBusy(false);
post({ type: 'ready' });
