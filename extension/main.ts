// Extension entry point: builds the context, starts the engine, and registers every surface.
import * as vscode from 'vscode';
import { registerChat } from './chat/index';
import { registerCommands } from './commands';
import { Context } from './ctx';
import { Indexer } from './index/indexer';
import { InlineCompletionProvider } from './inline/provider';
import { ModelSetup } from './model/setup';
import { RemoteBackend } from './remote/backend';
import { registerRewrite } from './rewrite/index';
import { StatusBar } from './status/statusBar';

let context: Context | undefined;

export async function activate(extensionContext: vscode.ExtensionContext): Promise<void> {
  try {
    const ctx = new Context(extensionContext);
    context = ctx;
    const statusBar = new StatusBar(ctx);
    ctx.pushCleanup(statusBar);
    const indexer = new Indexer(ctx);
    ctx.pushCleanup(indexer);
    const models = new ModelSetup(ctx);
    ctx.pushCleanup(models);
    ctx.pushCleanup(new RemoteBackend(ctx));
    ctx.pushCleanup(models.onStatus((e) => statusBar.apply(e)));
    ctx.pushCleanup(indexer.onProgress((p) => statusBar.apply({ type: 'index', ...p })));
    const inline = new InlineCompletionProvider(ctx, indexer);
    ctx.pushCleanup(inline);
    registerCommands(ctx, { indexer, inline, models });
    registerRewrite(ctx, models);
    registerChat(ctx, models);
    // Starting the engine fires onDidStart: the model loads and the documents are sent from there.
    ctx.client.start().catch((err: unknown) => {
      const message = `Presage could not start its engine: ${(err as Error).message}`;
      ctx.log.error(message);
      void vscode.window.showErrorMessage(message, 'Restart engine', 'Show log').then((choice) => {
        if (choice === 'Restart engine') void vscode.commands.executeCommand('presage.restartEngine');
        else if (choice === 'Show log') ctx.log.show();
      });
    });
  } catch (err) {
    // VS Code shows nothing when activation throws: say it ourselves.
    void vscode.window.showErrorMessage(`Presage failed to activate: ${(err as Error).message}`);
    throw err;
  }
}

export async function deactivate(): Promise<void> {
  const ctx = context;
  context = undefined;
  await ctx?.disposeAsync();
}
