// Messages between the chat webview and the extension host. Pure: the webview bundle imports it too.

/** A file the answer drew on, as the panel shows it. */
export interface SourceRef {
  uri: string;
  /** Workspace-relative path plus line, e.g. "src/shapes.ts:17". */
  label: string;
  /** 0-based line to reveal. */
  line: number;
}

export type HostMessage =
  | { type: 'start'; id: string; question: string }
  | { type: 'delta'; id: string; delta: string }
  | { type: 'done'; id: string; text: string; citations: SourceRef[]; cancelled?: boolean }
  | { type: 'error'; id?: string; message: string }
  | { type: 'reset' }
  | { type: 'welcome'; title: string; lines: string[]; demo: boolean };

export type WebviewMessage =
  | { type: 'ready' }
  | { type: 'ask'; text: string }
  | { type: 'cancel' }
  | { type: 'clear' }
  | { type: 'openCitation'; uri: string; line: number };

export const MAX_QUESTION_CHARS = 8000;

/** Validates a message that came from the webview; anything malformed gives undefined. */
export function parseWebviewMessage(raw: unknown): WebviewMessage | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const m = raw as Record<string, unknown>;
  switch (m.type) {
    case 'ready':
    case 'cancel':
    case 'clear':
      return { type: m.type };
    case 'ask':
      return typeof m.text === 'string' && m.text.trim() !== '' && m.text.length <= MAX_QUESTION_CHARS ? { type: 'ask', text: m.text } : undefined;
    case 'openCitation':
      return typeof m.uri === 'string' && m.uri.length < 4096 && Number.isInteger(m.line) && (m.line as number) >= 0
        ? { type: 'openCitation', uri: m.uri, line: m.line as number }
        : undefined;
    default:
      return undefined;
  }
}

/** Validates a message that came from the host (the webview trusts nothing it did not check). */
export function parseHostMessage(raw: unknown): HostMessage | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const m = raw as Record<string, unknown>;
  const str = (v: unknown): v is string => typeof v === 'string';
  switch (m.type) {
    case 'start':
      return str(m.id) && str(m.question) ? { type: 'start', id: m.id, question: m.question } : undefined;
    case 'delta':
      return str(m.id) && str(m.delta) ? { type: 'delta', id: m.id, delta: m.delta } : undefined;
    case 'done': {
      if (!str(m.id) || !str(m.text) || !Array.isArray(m.citations)) return undefined;
      const citations = m.citations.filter((c): c is SourceRef => typeof c === 'object' && c !== null && str(c.uri) && str(c.label) && Number.isInteger(c.line));
      return { type: 'done', id: m.id, text: m.text, citations, ...(m.cancelled === true ? { cancelled: true } : {}) };
    }
    case 'error':
      return str(m.message) ? { type: 'error', message: m.message, ...(str(m.id) ? { id: m.id } : {}) } : undefined;
    case 'reset':
      return { type: 'reset' };
    case 'welcome':
      return str(m.title) && Array.isArray(m.lines) && m.lines.every(str) ? { type: 'welcome', title: m.title, lines: m.lines, demo: m.demo === true } : undefined;
    default:
      return undefined;
  }
}
