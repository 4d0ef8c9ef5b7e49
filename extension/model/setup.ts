// Chooses and loads the model: presage.model as a local folder or a Hugging Face repo id (downloaded into global
// storage with a cancellable progress notification); empty means the bundled demo model when it exists.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as vscode from 'vscode';
import { LoadModel } from '../../engine/protocol';
import { config } from '../config';
import type { ModelCtx } from '../api';
import { DownloadCancelled, downloadModel, isDownloaded, isRepoId, modelFolder } from './download';

export interface ResolvedModel {
  path: string;
  label: string;
}

/** The bundled demo model folder, if this build has one. */
export function demoModelPath(extensionPath: string): string | undefined {
  const dir = path.join(extensionPath, 'models', 'demo');
  return fs.existsSync(path.join(dir, 'config.json')) ? dir : undefined;
}

function expandFolder(value: string): string {
  let p = value.startsWith('~') ? path.join(os.homedir(), value.slice(1)) : value;
  if (!path.isAbsolute(p)) {
    const root = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    if (root && fs.existsSync(path.join(root, p))) p = path.join(root, p);
  }
  return p;
}

export class ModelSetup implements vscode.Disposable {
  private readonly _disposables: vscode.Disposable[] = [];
  private _loadGeneration = 0;
  private _current: ResolvedModel | undefined;
  private readonly _modelEmitter = new vscode.EventEmitter<ResolvedModel | undefined>();
  readonly onDidChangeModel = this._modelEmitter.event;

  constructor(private readonly _ctx: ModelCtx) {
    this._disposables.push(this._modelEmitter);
    this._disposables.push(_ctx.client.onDidStart(() => void this.load()));
    this._disposables.push(_ctx.onDidChangeConfig((triggers) => {
      if (triggers.has('reload-model')) void this.load();
    }));
  }

  get current(): ResolvedModel | undefined {
    return this._current;
  }

  /** Where the model comes from; undefined when none is set up. Downloads a repo id on first use. */
  async resolve(): Promise<ResolvedModel | undefined> {
    const setting = config.model();
    const extensionPath = this._ctx.extensionContext.extensionPath;
    if (!setting) {
      const demo = demoModelPath(extensionPath);
      return demo ? { path: demo, label: 'demo model' } : undefined;
    }
    const folder = expandFolder(setting);
    if (fs.existsSync(folder)) {
      if (!fs.statSync(folder).isDirectory()) throw new Error(`presage.model: ${folder} is a file; expected a checkpoint folder`);
      return { path: folder, label: path.basename(folder) };
    }
    if (!isRepoId(setting)) throw new Error(`presage.model: '${setting}' is neither an existing folder nor a Hugging Face repo id (owner/name)`);
    const dir = modelFolder(this._ctx.extensionContext.globalStorageUri.fsPath, setting);
    if (!isDownloaded(dir)) await this._download(setting, dir);
    return { path: dir, label: setting };
  }

  private _download(repoId: string, dir: string): Thenable<void> {
    return vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Presage: downloading ${repoId}`, cancellable: true },
      async (progress, token) => {
        const controller = new AbortController();
        const sub = token.onCancellationRequested(() => controller.abort());
        let reported = 0;
        try {
          await downloadModel(repoId, dir, {
            // HF_ENDPOINT: the hub mirror variable the Hugging Face tools honour.
            ...(process.env.HF_ENDPOINT ? { hubUrl: process.env.HF_ENDPOINT } : {}),
            ...(process.env.HF_TOKEN ? { accessToken: process.env.HF_TOKEN } : {}),
            signal: controller.signal,
            onProgress: ({ file, bytes, totalBytes }) => {
              const pct = totalBytes > 0 ? (100 * bytes) / totalBytes : 0;
              progress.report({ increment: pct - reported, message: `${file} (${(bytes / 1e6).toFixed(1)} / ${(totalBytes / 1e6).toFixed(1)} MB)` });
              reported = pct;
            },
          });
          this._ctx.log.info(`downloaded ${repoId} into ${dir}`);
        } finally {
          sub.dispose();
        }
      },
    );
  }

  /** Resolves the model and loads it into the engine, with progress in the window. */
  async load(): Promise<void> {
    const generation = ++this._loadGeneration;
    const client = this._ctx.client;
    let model: ResolvedModel | undefined;
    try {
      model = await this.resolve();
    } catch (err) {
      if (err instanceof DownloadCancelled) {
        this._ctx.log.warn('model download cancelled');
        return;
      }
      this._ctx.log.error((err as Error).message);
      void vscode.window.showErrorMessage(`Presage: ${(err as Error).message}`, 'Select Model').then((c) => c && vscode.commands.executeCommand('presage.selectModel'));
      return;
    }
    if (generation !== this._loadGeneration) return;
    this._current = model;
    this._modelEmitter.fire(model);
    if (!model) {
      this._ctx.log.info('no model is set up: set presage.model or run "Presage: Select Model"');
      return;
    }
    if (!client.isRunning) return; // loaded again when the engine (re)starts
    if (!config.needsLocalModel()) return; // a remote back end serves (extension/remote)
    await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: `Presage: loading ${model.label}` }, async (progress) => {
      const sub = client.onStatus((e) => {
        if (e.type === 'load-progress') progress.report({ message: `${e.message ?? ''} ${Math.round(e.fraction * 100)}%` });
      });
      try {
        const t0 = Date.now();
        const result = await client.request(LoadModel, {
          model: model.path, device: config.device(), quantization: config.quantization(),
          cacheDir: path.join(this._ctx.extensionContext.globalStorageUri.fsPath, 'graph-cache'),
        });
        this._ctx.log.info(`loaded ${model.label}: ${result.architecture} on ${result.device}, FIM template ${result.fimTemplate}, ${Date.now() - t0} ms`);
        for (const w of result.warnings) this._ctx.log.warn(w);
      } catch (err) {
        if (generation !== this._loadGeneration || !client.isRunning) return;
        this._ctx.log.error(`loading ${model.path} failed: ${(err as Error).message}`);
        void vscode.window.showErrorMessage(`Presage could not load the model: ${(err as Error).message}`, 'Select Model', 'Show Log').then((c) => {
          if (c === 'Select Model') void vscode.commands.executeCommand('presage.selectModel');
          else if (c === 'Show Log') this._ctx.log.show();
        });
      } finally {
        sub.dispose();
      }
    });
  }

  /** Quick pick: the demo model, a local folder or a Hugging Face repo id; writes presage.model. */
  async select(): Promise<void> {
    type Item = vscode.QuickPickItem & { id: 'demo' | 'folder' | 'repo' };
    const demo = demoModelPath(this._ctx.extensionContext.extensionPath);
    const items: Item[] = [
      ...(demo ? [{ id: 'demo' as const, label: '$(package) Demo model', description: 'bundled with Presage' }] : []),
      { id: 'folder', label: '$(folder) Local folder…', description: 'a checkpoint in Hugging Face layout' },
      { id: 'repo', label: '$(cloud-download) Hugging Face repo id…', description: 'downloaded once into global storage' },
    ];
    const pick = await vscode.window.showQuickPick(items, { title: 'Presage: Select Model', placeHolder: `current: ${config.model() || (demo ? 'demo model' : 'none')}` });
    if (!pick) return;
    if (pick.id === 'demo') return config.setModel('');
    if (pick.id === 'folder') {
      const uri = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, canSelectMany: false, openLabel: 'Use this model' });
      if (!uri?.[0]) return;
      if (!fs.existsSync(path.join(uri[0].fsPath, 'config.json'))) {
        void vscode.window.showErrorMessage(`Presage: ${uri[0].fsPath} has no config.json; pick a checkpoint folder.`);
        return;
      }
      return config.setModel(uri[0].fsPath);
    }
    const id = await vscode.window.showInputBox({
      title: 'Hugging Face repo id', placeHolder: 'owner/name', value: isRepoId(config.model()) ? config.model() : '',
      validateInput: (v) => (/^[A-Za-z0-9][\w.-]*\/[\w.-]+$/.test(v.trim()) ? undefined : 'Expected owner/name'),
    });
    if (id) return config.setModel(id.trim());
  }

  dispose(): void {
    for (const d of this._disposables.splice(0)) d.dispose();
  }
}
