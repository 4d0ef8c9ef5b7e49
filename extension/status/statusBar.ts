// The status bar item: renders the status state machine (extension/common/statusState.ts).
import * as vscode from 'vscode';
import { config } from '../config';
import type { StatusCtx } from '../api';
import { INITIAL_STATUS, reduceStatus, renderStatus, type StatusEvent, type StatusModel } from '../common/statusState';

export class StatusBar implements vscode.Disposable {
  private readonly _item: vscode.StatusBarItem;
  private readonly _disposables: vscode.Disposable[] = [];
  private _model: StatusModel = { ...INITIAL_STATUS, inlineEnabled: config.inlineEnabled() };

  constructor(ctx: StatusCtx) {
    this._item = vscode.window.createStatusBarItem('presage.status', vscode.StatusBarAlignment.Right, 100);
    this._item.name = 'Presage';
    this._disposables.push(this._item);
    this._disposables.push(ctx.client.onStatus((e) => this.apply(e)));
    this._disposables.push(ctx.onDidChangeConfig((triggers) => {
      if (triggers.has('inline-toggle')) this.apply({ type: 'inline-enabled', enabled: config.inlineEnabled() });
    }));
    this._render();
    this._item.show();
  }

  get model(): StatusModel {
    return this._model;
  }

  apply(event: StatusEvent): void {
    this._model = reduceStatus(this._model, event);
    this._render();
  }

  private _render(): void {
    const view = renderStatus(this._model);
    this._item.text = view.text;
    this._item.tooltip = view.tooltip;
    this._item.command = view.command;
    this._item.backgroundColor = view.severity === 'error'
      ? new vscode.ThemeColor('statusBarItem.errorBackground')
      : view.severity === 'warning' ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
  }

  dispose(): void {
    for (const d of this._disposables.splice(0)) d.dispose();
  }
}
