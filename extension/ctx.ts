// The extension's context: owns every disposable and the engine client (one instance per activation).
import * as vscode from 'vscode';
import type { Ctx } from './api';
import { EngineClient } from './client/client';
import { config, triggersFor, type ConfigTrigger } from './config';

export class Context implements Ctx, vscode.Disposable {
  readonly log: vscode.LogOutputChannel;
  readonly client: EngineClient;
  private readonly _cleanups: vscode.Disposable[] = [];
  private _requestCounter = 0;
  private readonly _configChanged = new vscode.EventEmitter<ReadonlySet<ConfigTrigger>>();
  readonly onDidChangeConfig = this._configChanged.event;

  constructor(readonly extensionContext: vscode.ExtensionContext) {
    this.log = vscode.window.createOutputChannel('Presage', { log: true });
    this.pushCleanup(this.log);
    const storageDir = extensionContext.globalStorageUri.fsPath;
    vscode.workspace.fs.createDirectory(extensionContext.globalStorageUri).then(undefined, () => undefined);
    this.client = new EngineClient(this.log, {
      enginePath: () => this.enginePath(),
      storageDir,
      clientVersion: String(extensionContext.extension.packageJSON.version ?? '0'),
      trace: config.trace,
      secretPatterns: config.secretPatterns,
    });
    this.pushCleanup(this.client);
    this.pushCleanup(this._configChanged);
    // The one configuration listener: config.ts says what each setting's change triggers.
    this.pushCleanup(vscode.workspace.onDidChangeConfiguration((e) => {
      const triggers = triggersFor((s) => e.affectsConfiguration(s));
      if (triggers.size === 0) return;
      this.log.info(`settings changed: ${[...triggers].join(', ')}`);
      if (triggers.has('trace')) this.client.applyTrace();
      if (triggers.has('restart-engine')) void this.client.restart().catch((err: Error) => this.log.error(`restart failed: ${err.message}`));
      this._configChanged.fire(triggers);
    }));
  }

  /** presage.enginePath when set (a restricted setting), else the bundled engine. */
  enginePath(): string {
    const override = config.enginePath();
    return override || vscode.Uri.joinPath(this.extensionContext.extensionUri, 'dist', 'engine.js').fsPath;
  }

  pushCleanup(disposable: vscode.Disposable): void {
    this._cleanups.push(disposable);
  }

  nextRequestId(prefix: string): string {
    return `${prefix}-${++this._requestCounter}`;
  }

  async disposeAsync(): Promise<void> {
    await this.client.stop().catch(() => undefined);
    this.dispose();
  }

  dispose(): void {
    for (const d of this._cleanups.splice(0).reverse()) {
      try {
        d.dispose();
      } catch (err) {
        console.error('presage: dispose failed', err);
      }
    }
  }
}
