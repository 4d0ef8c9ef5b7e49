// Chat panel: the `presage.chat` webview view and the command that focuses it.
import * as vscode from 'vscode';
import type { SurfaceCtx } from '../api';
import { ChatViewProvider, type ChatModelInfo } from './provider';

export function registerChat(ctx: SurfaceCtx, model?: ChatModelInfo): void {
  const provider = new ChatViewProvider(ctx, model);
  ctx.pushCleanup(provider);
  ctx.pushCleanup(vscode.window.registerWebviewViewProvider(ChatViewProvider.viewId, provider, { webviewOptions: { retainContextWhenHidden: true } }));
  ctx.pushCleanup(vscode.commands.registerCommand('presage.openChat', () => vscode.commands.executeCommand(`${ChatViewProvider.viewId}.focus`)));
}
