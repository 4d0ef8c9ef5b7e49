// The Presage commands (palette and status bar clicks).
import * as vscode from 'vscode';
import { ClearHistory, Stats, type StatsResult } from '../engine/protocol';
import { config } from './config';
import type { Context } from './ctx';
import { statsMarkdown } from './common/statsReport';
import type { Indexer } from './index/indexer';
import type { InlineCompletionProvider } from './inline/provider';
import type { ModelSetup } from './model/setup';

const STATS_SCHEME = 'presage-stats';

export function registerCommands(ctx: Context, services: { indexer: Indexer; inline: InlineCompletionProvider; models: ModelSetup }): void {
  const { indexer, inline, models } = services;
  const run = (id: string, fn: () => unknown): void => {
    ctx.pushCleanup(vscode.commands.registerCommand(id, async () => {
      try {
        await fn();
      } catch (err) {
        ctx.log.error(`${id}: ${(err as Error).message}`);
        void vscode.window.showErrorMessage(`Presage: ${(err as Error).message}`);
      }
    }));
  };

  run('presage.restartEngine', async () => {
    ctx.log.info('restart requested');
    await ctx.client.restart();
  });
  run('presage.selectModel', () => models.select());
  run('presage.showLog', () => ctx.log.show());
  run('presage.clearHistory', async () => {
    inline.clearCache();
    await ctx.client.request0(ClearHistory);
    void vscode.window.showInformationMessage('Presage: completion history cleared.');
  });
  run('presage.toggleInlineCompletions', async () => {
    const enabled = !config.inlineEnabled();
    await config.setInlineEnabled(enabled);
    void vscode.window.setStatusBarMessage(`Presage inline completions ${enabled ? 'on' : 'off'}`, 2000);
  });
  run('presage.showIndex', () => indexer.showIndex());

  let statsText = '';
  const statsChanged = new vscode.EventEmitter<vscode.Uri>();
  ctx.pushCleanup(statsChanged);
  ctx.pushCleanup(vscode.workspace.registerTextDocumentContentProvider(STATS_SCHEME, { onDidChange: statsChanged.event, provideTextDocumentContent: () => statsText }));
  run('presage.showStats', async () => {
    let engine: StatsResult | undefined;
    let error: string | undefined;
    try {
      engine = await ctx.client.request0(Stats);
    } catch (err) {
      error = (err as Error).message;
    }
    statsText = statsMarkdown(engine, { ...inline.stats, firstGhost: inline.stats.firstGhost.summary() }, error);
    const uri = vscode.Uri.from({ scheme: STATS_SCHEME, path: '/Presage Stats.md' });
    statsChanged.fire(uri);
    await vscode.commands.executeCommand('markdown.showPreview', uri).then(undefined, async () => {
      await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri), { preview: true });
    });
  });
}
