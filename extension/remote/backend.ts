// The back-end choice: tells the engine (configureBackend) whether the local model or a remote OpenAI-compatible
// server generates. The engine keeps the documents index and retrieval either way; the API token goes from VS Code's
// SecretStorage straight over the engine's stdio pipe, never into settings or onto disk.
import * as vscode from 'vscode';
import { CheckBackend, ConfigureBackend, type BackendHealth, type ConfigureBackendParams } from '../../engine/protocol';
import type { EngineClientApi } from '../api';
import type { ConfigTrigger } from '../config';
import { config } from '../config';

export const REMOTE_TOKEN_SECRET = 'presage.remote.token';
/** How often the remote is checked while it is the back end (latency in the status bar, down/up transitions). */
const HEALTH_INTERVAL_MS = 60_000;

export interface RemoteCtx {
  readonly client: Pick<EngineClientApi, 'isRunning' | 'onDidStart' | 'request' | 'request0'>;
  readonly log: Pick<vscode.LogOutputChannel, 'info' | 'warn' | 'error' | 'show'>;
  readonly extensionContext: Pick<vscode.ExtensionContext, 'secrets'>;
  readonly onDidChangeConfig: vscode.Event<ReadonlySet<ConfigTrigger>>;
}

/** The configureBackend parameters for the current settings and token (pure: tested without VS Code). */
export function backendParams(settings: { backend: 'local' | 'remote'; url: string; model: string; fallbackToLocal: boolean }, token: string | undefined): ConfigureBackendParams | { error: string } {
  if (settings.backend !== 'remote') return { backend: 'local' };
  if (!settings.url) return { error: 'presage.backend is "remote" but presage.remote.url is empty' };
  return {
    backend: 'remote', url: settings.url, fallbackToLocal: settings.fallbackToLocal,
    ...(settings.model ? { model: settings.model } : {}), ...(token ? { token } : {}),
  };
}

export class RemoteBackend implements vscode.Disposable {
  private readonly _disposables: vscode.Disposable[] = [];
  private _timer: NodeJS.Timeout | undefined;
  private _applying: Promise<void> = Promise.resolve();
  private _lastError: string | undefined;

  constructor(private readonly _ctx: RemoteCtx) {
    this._disposables.push(_ctx.client.onDidStart(() => this.apply()));
    this._disposables.push(_ctx.onDidChangeConfig((t) => {
      if (t.has('backend') || t.has('reload-model')) this.apply();
    }));
    this._disposables.push(vscode.commands.registerCommand('presage.setRemoteToken', () => this.setToken()));
    this._disposables.push(_ctx.extensionContext.secrets.onDidChange((e) => {
      if (e.key === REMOTE_TOKEN_SECRET) this.apply();
    }));
  }

  /** Sends the current choice to the engine (serialised: the last settings win). */
  apply(): void {
    this._applying = this._applying.then(() => this._apply()).catch((err: Error) => this._ctx.log.error(`back end: ${err.message}`));
  }

  private async _apply(): Promise<void> {
    if (!this._ctx.client.isRunning) return; // applied again when the engine starts
    const token = await this._ctx.extensionContext.secrets.get(REMOTE_TOKEN_SECRET);
    const params = backendParams({ backend: config.backend(), url: config.remoteUrl(), model: config.remoteModel(), fallbackToLocal: config.remoteFallbackToLocal() }, token);
    this._stopHealthChecks();
    if ('error' in params) {
      this._report(params.error);
      return;
    }
    const health = await this._ctx.client.request(ConfigureBackend, params);
    if (params.backend === 'remote') {
      this._ctx.log.info(`back end: remote ${params.url}${health.ok ? ` (${health.model}, ${health.latencyMs} ms)` : ''}`);
      this._onHealth(health);
      this._timer = setInterval(() => void this.check(), HEALTH_INTERVAL_MS);
      this._timer.unref?.();
    }
  }

  /** A health check now (status bar latency; a message when the server went down or came back). */
  async check(): Promise<BackendHealth | undefined> {
    if (!this._ctx.client.isRunning || config.backend() !== 'remote') return undefined;
    const health = await this._ctx.client.request0(CheckBackend);
    this._onHealth(health);
    return health;
  }

  private _onHealth(h: BackendHealth): void {
    if (h.ok) {
      if (this._lastError) this._ctx.log.info(`remote back end is reachable again (${h.latencyMs} ms)`);
      this._lastError = undefined;
      return;
    }
    this._report(h.error ?? 'the remote server is not available');
  }

  private _report(error: string): void {
    if (error === this._lastError) return;
    this._lastError = error;
    this._ctx.log.error(`remote back end: ${error}`);
    const actions = /401|403|token/i.test(error) ? ['Set Remote API Token', 'Open Settings'] : ['Open Settings', 'Show Log'];
    void vscode.window.showErrorMessage(`Presage: ${error}`, ...actions).then((choice) => {
      if (choice === 'Set Remote API Token') void this.setToken();
      else if (choice === 'Open Settings') void vscode.commands.executeCommand('workbench.action.openSettings', 'presage.remote');
      else if (choice === 'Show Log') this._ctx.log.show();
    });
  }

  /** "Presage: Set Remote API Token": stored in SecretStorage; an empty value deletes it. */
  async setToken(): Promise<void> {
    const value = await vscode.window.showInputBox({
      title: 'Presage: remote API token', prompt: 'Bearer token of the remote server (kept in VS Code secret storage; empty removes it)',
      password: true, ignoreFocusOut: true,
    });
    if (value === undefined) return;
    if (value.trim()) await this._ctx.extensionContext.secrets.store(REMOTE_TOKEN_SECRET, value.trim());
    else await this._ctx.extensionContext.secrets.delete(REMOTE_TOKEN_SECRET);
    this._lastError = undefined;
    this.apply();
  }

  private _stopHealthChecks(): void {
    if (this._timer) clearInterval(this._timer);
    this._timer = undefined;
  }

  dispose(): void {
    this._stopHealthChecks();
    for (const d of this._disposables.splice(0)) d.dispose();
  }
}
