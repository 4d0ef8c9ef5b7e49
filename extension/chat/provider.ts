// The chat webview view: sends questions with workspace context to the engine, streams the answer into the
// panel, and opens cited files when the panel asks (only files this panel was shown).
import * as crypto from 'node:crypto';
import * as vscode from 'vscode';
import { Chat, type ChatMessage, type Citation } from '../../engine/protocol';
import type { SurfaceCtx } from '../api';
import { sourceLabel, type Snippet } from './context';
import { gatherContext } from './gather';
import { parseWebviewMessage, type HostMessage, type SourceRef } from './messages';
import { chatPageHtml } from './page';
import { welcome } from './welcome';

/** The loaded model (extension/model/setup.ts), for the welcome. */
export interface ChatModelInfo {
  readonly current: { label: string; demo?: boolean } | undefined;
  readonly onDidChangeModel?: vscode.Event<{ label: string; demo?: boolean } | undefined>;
}

const MAX_HISTORY_MESSAGES = 8;

export class ChatViewProvider implements vscode.WebviewViewProvider, vscode.Disposable {
  static readonly viewId = 'presage.chat';
  private view: vscode.WebviewView | undefined;
  private history: ChatMessage[] = [];
  private current: { id: string; cts: vscode.CancellationTokenSource } | undefined;
  /** Files the panel may ask to open: the snippets sent and the citations received. */
  private readonly openable = new Map<string, vscode.Uri>();
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly ctx: SurfaceCtx, private readonly model?: ChatModelInfo) {
    if (model?.onDidChangeModel) {
      this.disposables.push(model.onDidChangeModel((m) => this.post({ type: 'welcome', ...welcome(m) })));
    }
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    const extensionUri = this.ctx.extensionContext.extensionUri;
    view.webview.options = {
      enableScripts: true,
      localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'media'), vscode.Uri.joinPath(extensionUri, 'dist', 'media')],
    };
    view.webview.html = chatPageHtml({
      cspSource: view.webview.cspSource,
      nonce: crypto.randomBytes(18).toString('base64'),
      scriptUri: view.webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', 'media', 'chat.js')).toString(),
      styleUri: view.webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'media', 'chat.css')).toString(),
      welcome: welcome(this.model?.current),
    });
    this.disposables.push(
      view.webview.onDidReceiveMessage((raw: unknown) => this.onMessage(raw)),
      view.onDidDispose(() => {
        if (this.view === view) this.view = undefined;
      }),
    );
  }

  private post(message: HostMessage): void {
    void this.view?.webview.postMessage(message);
  }

  private onMessage(raw: unknown): void {
    const message = parseWebviewMessage(raw);
    if (!message) {
      this.ctx.log.warn(`chat: ignored a malformed message from the panel: ${JSON.stringify(raw)?.slice(0, 200)}`);
      return;
    }
    switch (message.type) {
      case 'ask':
        void this.ask(message.text);
        break;
      case 'cancel':
        this.current?.cts.cancel();
        break;
      case 'clear':
        this.current?.cts.cancel();
        this.history = [];
        this.post({ type: 'reset' });
        break;
      case 'openCitation':
        void this.open(message.uri, message.line);
        break;
      case 'ready':
        break;
    }
  }

  async ask(question: string): Promise<void> {
    this.current?.cts.cancel();
    const id = this.ctx.nextRequestId('chat');
    const cts = new vscode.CancellationTokenSource();
    this.current = { id, cts };
    this.post({ type: 'start', id, question });
    const state = this.ctx.client.state;
    if (state === 'no-model' || state === 'error') {
      const why = state === 'no-model' ? 'No model is loaded. Set "presage.model" or run "Presage: Select Model".' : 'The Presage engine is not running. Run "Presage: Restart Engine".';
      this.post({ type: 'error', id, message: why });
      this.current = undefined;
      cts.dispose();
      return;
    }
    let streamed = '';
    const partials = this.ctx.client.onPartial(id, (delta) => {
      streamed += delta;
      this.post({ type: 'delta', id, delta });
    });
    try {
      let snippets: Snippet[] = [];
      try {
        snippets = await gatherContext(question, cts.token);
      } catch (error) {
        this.ctx.log.warn(`chat: context search failed: ${String(error)}`);
      }
      const sent = snippets.map((s) => this.sourceRef(s.uri, s.focusLine ?? s.startLine, s.path));
      const messages: ChatMessage[] = [...this.history.slice(-MAX_HISTORY_MESSAGES), { role: 'user', content: question }];
      const result = await this.ctx.client.request(Chat, { requestId: id, messages, context: snippets.map((s) => ({ uri: s.uri, text: s.text, startLine: s.startLine })), maxTokens: 512 }, cts.token);
      const cited = (result.citations ?? []).map((c) => this.citationRef(c, snippets)).filter((c): c is SourceRef => c !== undefined);
      const text = result.text || streamed;
      const cancelled = cts.token.isCancellationRequested || result.finishReason === 'cancelled';
      this.post({ type: 'done', id, text, citations: dedupe([...cited, ...sent]), ...(cancelled ? { cancelled: true } : {}) });
      if (!cancelled) this.history.push({ role: 'user', content: question }, { role: 'assistant', content: text });
    } catch (error) {
      if (cts.token.isCancellationRequested) this.post({ type: 'done', id, text: streamed, citations: [], cancelled: true });
      else {
        const message = error instanceof Error ? error.message : String(error);
        this.ctx.log.error(`chat: ${message}`);
        this.post({ type: 'error', id, message: `The engine could not answer: ${message}` });
      }
    } finally {
      partials.dispose();
      cts.dispose();
      if (this.current?.id === id) this.current = undefined;
    }
  }

  private sourceRef(uriText: string, line: number, path?: string): SourceRef {
    const uri = vscode.Uri.parse(uriText, true);
    this.openable.set(uri.toString(), uri);
    return { uri: uri.toString(), label: sourceLabel(path ?? vscode.workspace.asRelativePath(uri, false), line), line };
  }

  /** An engine citation: a URI we sent, an absolute path, or a workspace-relative path. */
  private citationRef(citation: Citation, snippets: readonly Snippet[]): SourceRef | undefined {
    const raw = citation.uri;
    if (typeof raw !== 'string' || raw === '') return undefined;
    let uri: vscode.Uri;
    if (/^[a-z][\w+.-]+:/i.test(raw)) uri = vscode.Uri.parse(raw);
    else if (raw.startsWith('/')) uri = vscode.Uri.file(raw);
    else {
      const folder = vscode.workspace.workspaceFolders?.[0];
      if (!folder) return undefined;
      uri = vscode.Uri.joinPath(folder.uri, raw);
    }
    let line = Number.isInteger(citation.startLine) && citation.startLine! >= 0 ? citation.startLine! : 0;
    // A citation of a snippet we sent opens where that snippet's definition is.
    const sent = snippets.find((s) => s.uri === uri.toString() && (citation.startLine === undefined || s.startLine === citation.startLine));
    if (sent) line = sent.focusLine ?? sent.startLine;
    return this.sourceRef(uri.toString(), line);
  }

  private async open(uriText: string, line: number): Promise<void> {
    const uri = this.openable.get(uriText);
    if (!uri) {
      this.ctx.log.warn(`chat: refused to open ${uriText}: not a source of this conversation`);
      return;
    }
    try {
      const doc = await vscode.workspace.openTextDocument(uri);
      const at = new vscode.Position(Math.min(line, Math.max(0, doc.lineCount - 1)), 0);
      await vscode.window.showTextDocument(doc, { selection: new vscode.Range(at, at), preview: true, viewColumn: vscode.window.activeTextEditor?.viewColumn ?? vscode.ViewColumn.One });
    } catch (error) {
      void vscode.window.showErrorMessage(`Presage: cannot open ${vscode.workspace.asRelativePath(uri, false)}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  dispose(): void {
    this.current?.cts.cancel();
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}

function dedupe(refs: SourceRef[]): SourceRef[] {
  const seen = new Set<string>();
  return refs.filter((r) => {
    const key = `${r.uri}#${r.line}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
