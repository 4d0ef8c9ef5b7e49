// Chooses and loads the model: presage.model as a local folder or a Hugging Face repo id (downloaded into global
// storage with a cancellable, resumable progress notification); empty means the bundled demo model, labelled as a
// demo. Reports its setup phases to the status bar (so "no model" shows only when there is none), picks int8/int4 on
// a CPU for large models, validates a choice before saving it, and offers the preset picker on first run.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as vscode from 'vscode';
import { LoadModel, type LoadModelResult } from '../../engine/protocol';
import { config } from '../config';
import type { ModelCtx } from '../api';
import { deviceInfo, type DeviceInfo, type StatusEvent } from '../common/statusState';
import { DownloadCancelled, downloadModel, isDownloaded, isRepoId, ModelChoiceError, modelFolder, probeRepo, type DownloadOptions } from './download';
import { autoQuantization, describeEstimate, estimate, measureBandwidth, PRESETS, recommend, type Machine, type Quantization } from './presets';

export interface ResolvedModel {
  path: string;
  label: string;
  /** The bundled demo model: its output shows the mechanics only. */
  demo?: boolean;
}

/** globalState keys: a model was chosen (or the first-run offer declined); the device the last model ran on. */
export const CHOSEN_KEY = 'presage.modelChosen';
export const LAST_DEVICE_KEY = 'presage.lastDevice';

/** The bundled demo model folder, if this build has one. */
export function demoModelPath(extensionPath: string): string | undefined {
  const dir = path.join(extensionPath, 'models', 'demo');
  return fs.existsSync(path.join(dir, 'config.json')) ? dir : undefined;
}

/**
 * The demo model says so in its config.json (`presage_demo: true`), so it is labelled as a demo wherever it is
 * loaded from: the extension's own copy, or a folder set in presage.model (as `npm start` does).
 */
export function isDemoCheckpoint(folder: string): boolean {
  try {
    const config = JSON.parse(fs.readFileSync(path.join(folder, 'config.json'), 'utf8')) as Record<string, unknown>;
    return config.presage_demo === true;
  } catch {
    return false;
  }
}

function expandFolder(value: string): string {
  let p = value.startsWith('~') ? path.join(os.homedir(), value.slice(1)) : value;
  if (!path.isAbsolute(p)) {
    const root = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    if (root && fs.existsSync(path.join(root, p))) p = path.join(root, p);
  }
  return p;
}

const DTYPE_BYTES: Record<string, number> = { F64: 8, F32: 4, BF16: 2, F16: 2, I8: 1, U8: 1, F8_E4M3: 1, F8_E5M2: 1 };

/** Parameters of a checkpoint folder in billions, from its safetensors sizes and the first tensor's dtype. */
export function checkpointParamsB(dir: string): number | undefined {
  try {
    const shards = fs.readdirSync(dir).filter((f) => f.endsWith('.safetensors')).sort();
    if (shards.length === 0) return undefined;
    const bytes = shards.reduce((a, f) => a + fs.statSync(path.join(dir, f)).size, 0);
    const fd = fs.openSync(path.join(dir, shards[0]!), 'r');
    try {
      const len = Buffer.alloc(8);
      fs.readSync(fd, len, 0, 8, 0);
      const headerBytes = Math.min(Number(len.readBigUInt64LE()), 1 << 24);
      const header = Buffer.alloc(headerBytes);
      fs.readSync(fd, header, 0, headerBytes, 8);
      const tensors = Object.entries(JSON.parse(header.toString('utf8')) as Record<string, { dtype?: string }>).filter(([k]) => k !== '__metadata__');
      const width = DTYPE_BYTES[tensors[0]?.[1].dtype ?? ''] ?? 2;
      return bytes / width / 1e9;
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return undefined;
  }
}

/** Why a local folder cannot be a model, or undefined when it can. */
export function folderProblem(dir: string): string | undefined {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) return `${dir} is not a folder`;
  if (!fs.existsSync(path.join(dir, 'config.json'))) return `${dir} has no config.json: pick a checkpoint folder in Hugging Face layout`;
  if (!fs.readdirSync(dir).some((f) => f.endsWith('.safetensors'))) return `no safetensors: ${dir} has no .safetensors weights`;
  return undefined;
}

function hubOptions(): DownloadOptions {
  return {
    // HF_ENDPOINT: the hub mirror variable the Hugging Face tools honour.
    ...(process.env.HF_ENDPOINT ? { hubUrl: process.env.HF_ENDPOINT } : {}),
    ...(process.env.HF_TOKEN ? { accessToken: process.env.HF_TOKEN } : {}),
  };
}

export class ModelSetup implements vscode.Disposable {
  private readonly _disposables: vscode.Disposable[] = [];
  private _loadGeneration = 0;
  private _current: ResolvedModel | undefined;
  private readonly _modelEmitter = new vscode.EventEmitter<ResolvedModel | undefined>();
  /** The model actually loaded (undefined while none is). */
  readonly onDidChangeModel = this._modelEmitter.event;
  private readonly _statusEmitter = new vscode.EventEmitter<StatusEvent>();
  /** Setup phases and the loaded model, for the status bar. */
  readonly onStatus = this._statusEmitter.event;
  private _offeredPicker = false;

  constructor(private readonly _ctx: ModelCtx) {
    this._disposables.push(this._modelEmitter, this._statusEmitter);
    this._disposables.push(_ctx.client.onDidStart(() => void this.load()));
    this._disposables.push(_ctx.onDidChangeConfig((triggers) => {
      if (triggers.has('reload-model')) void this.load();
    }));
  }

  /** The model loaded in the engine (not merely configured). */
  get current(): ResolvedModel | undefined {
    return this._current;
  }

  private _setCurrent(model: ResolvedModel | undefined, device?: DeviceInfo): void {
    this._current = model;
    this._statusEmitter.fire({ type: 'model', model: model?.label, ...(model?.demo ? { demo: true } : {}), ...(device ? { device } : {}) });
    this._modelEmitter.fire(model);
  }

  /** Where the model comes from; undefined when none is set up. Downloads a repo id on first use. */
  async resolve(): Promise<ResolvedModel | undefined> {
    const setting = config.model();
    const extensionPath = this._ctx.extensionContext.extensionPath;
    if (!setting) {
      const demo = demoModelPath(extensionPath);
      return demo ? { path: demo, label: 'demo model', demo: true } : undefined;
    }
    const folder = expandFolder(setting);
    if (fs.existsSync(folder)) {
      if (!fs.statSync(folder).isDirectory()) throw new Error(`presage.model: ${folder} is a file; expected a checkpoint folder`);
      return isDemoCheckpoint(folder) ? { path: folder, label: 'demo model', demo: true } : { path: folder, label: path.basename(folder) };
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
            ...hubOptions(),
            signal: controller.signal,
            onProgress: ({ file, bytes, totalBytes }) => {
              const fraction = totalBytes > 0 ? bytes / totalBytes : 0;
              progress.report({ increment: 100 * fraction - reported, message: `${file} (${(bytes / 1e6).toFixed(1)} / ${(totalBytes / 1e6).toFixed(1)} MB)` });
              reported = 100 * fraction;
              this._statusEmitter.fire({ type: 'setup', phase: 'downloading', fraction });
            },
          });
          this._ctx.log.info(`downloaded ${repoId} into ${dir}`);
        } finally {
          sub.dispose();
        }
      },
    );
  }

  /** Where the model will run, for the quantization choice: the setting, else the device the last model ran on. */
  private _plannedDevice(): 'cpu' | 'gpu' {
    const d = config.device();
    if (d === 'cpu') return 'cpu';
    if (d !== 'auto') return 'gpu';
    const last = this._ctx.extensionContext.globalState?.get<string>(LAST_DEVICE_KEY);
    return last !== undefined && last !== 'cpu' ? 'gpu' : 'cpu';
  }

  /** presage.quantization, or for 'auto' int8/int4 on a CPU above 1 B parameters. */
  quantizationFor(modelPath: string): Quantization {
    const setting = config.quantization();
    return autoQuantization({ setting, device: this._plannedDevice(), paramsB: setting === 'auto' ? checkpointParamsB(modelPath) : undefined });
  }

  /** Resolves the model and loads it into the engine, with progress in the window. */
  async load(): Promise<void> {
    const generation = ++this._loadGeneration;
    const client = this._ctx.client;
    const setup = (phase: 'resolving' | 'loading' | 'loaded' | 'none' | 'failed', message?: string): void =>
      this._statusEmitter.fire({ type: 'setup', phase, ...(message !== undefined ? { message } : {}) });
    setup('resolving');
    let model: ResolvedModel | undefined;
    try {
      model = await this.resolve();
    } catch (err) {
      if (generation !== this._loadGeneration) return;
      this._setCurrent(undefined);
      if (err instanceof DownloadCancelled) {
        this._ctx.log.warn('model download cancelled');
        setup('failed', 'The model download was cancelled; it continues where it stopped next time.');
        return;
      }
      setup('failed', (err as Error).message);
      this._ctx.log.error((err as Error).message);
      void vscode.window.showErrorMessage(`Presage: ${(err as Error).message}`, 'Select Model').then((c) => c && vscode.commands.executeCommand('presage.selectModel'));
      return;
    }
    if (generation !== this._loadGeneration) return;
    if (!model) {
      this._setCurrent(undefined);
      setup('none');
      this._ctx.log.info('no model is set up: set presage.model or run "Presage: Select Model"');
      // A package without the demo model: the first run offers the presets straight away.
      void this.offerPickerOnFirstRun();
      return;
    }
    if (!client.isRunning) return; // loaded again when the engine (re)starts
    if (!config.needsLocalModel()) {
      setup('none'); // a remote back end serves (extension/remote)
      return;
    }
    setup('loading');
    const quantization = this.quantizationFor(model.path);
    await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: `Presage: loading ${model.label}` }, async (progress) => {
      const sub = client.onStatus((e) => {
        if (e.type === 'load-progress') progress.report({ message: `${e.message ?? ''} ${Math.round(e.fraction * 100)}%` });
      });
      try {
        const t0 = Date.now();
        const result: LoadModelResult = await client.request(LoadModel, {
          model: model.path, device: config.device(), quantization,
          cacheDir: path.join(this._ctx.extensionContext.globalStorageUri.fsPath, 'graph-cache'),
        });
        if (generation !== this._loadGeneration) return;
        this._ctx.log.info(`loaded ${model.label}: ${result.architecture} on ${result.device}, ${quantization} weights, FIM template ${result.fimTemplate}, ${Date.now() - t0} ms`);
        for (const w of result.warnings) this._ctx.log.warn(w);
        void this._ctx.extensionContext.globalState?.update(LAST_DEVICE_KEY, result.device);
        this._setCurrent({ ...model, label: quantization === 'none' ? model.label : `${model.label} (${quantization})` }, deviceInfo(config.device(), result));
        setup('loaded');
        if (model.demo) void this.offerPickerOnFirstRun();
      } catch (err) {
        if (generation !== this._loadGeneration || !client.isRunning) return;
        this._setCurrent(undefined);
        setup('failed', `loading ${model.label} failed: ${(err as Error).message}`);
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

  /** This machine, for the estimates: RAM, the device the last model ran on, memory bandwidth (measured once). */
  private _machine?: Machine;
  machine(): Machine {
    this._machine ??= {
      totalMemBytes: os.totalmem(), freeMemBytes: os.freemem(), gpu: this._plannedDevice() === 'gpu', bandwidthBytesPerS: measureBandwidth(),
    };
    return this._machine;
  }

  /**
   * With presage.model empty and no model ever chosen, the preset picker opens once: after the demo model loads
   * (it runs meanwhile), or at once where no demo model is installed.
   */
  async offerPickerOnFirstRun(): Promise<void> {
    const state = this._ctx.extensionContext.globalState;
    if (!state || this._offeredPicker || config.model() !== '' || state.get<boolean>(CHOSEN_KEY)) return;
    this._offeredPicker = true;
    await state.update(CHOSEN_KEY, true); // offered once; Select Model opens it again any time
    await this.select({ firstRun: true });
  }

  /**
   * Quick pick: the presets (with estimates and a recommendation), the demo model, a local folder or any Hugging
   * Face repo id. A choice is validated (and a repo downloaded) before presage.model is written: on failure the
   * previous model stays and the message says why. Returns the value saved, or undefined.
   */
  async select(opts: { firstRun?: boolean } = {}): Promise<string | undefined> {
    type Item = vscode.QuickPickItem & { id: 'demo' | 'folder' | 'repo' | 'preset'; repoId?: string };
    const demo = demoModelPath(this._ctx.extensionContext.extensionPath);
    const previous = config.model();
    const machine = this.machine();
    const recommended = recommend(machine);
    const presets: Item[] = PRESETS.map((p) => ({
      id: 'preset', repoId: p.repoId,
      label: `${p.repoId === recommended.repoId ? '$(star-full) ' : '$(cloud-download) '}${p.label}`,
      description: p.repoId === recommended.repoId ? 'recommended for this machine' : p.repoId,
      detail: `${describeEstimate(estimate(p, machine))}${p.note ? ` · ${p.note}` : ''}`,
    }));
    const items: Item[] = [
      ...presets,
      ...(demo ? [{ id: 'demo' as const, label: '$(beaker) Demo model', description: 'bundled, offline', detail: 'Shows the mechanics only: a 29 M base model, its suggestions are not useful.' }] : []),
      { id: 'folder', label: '$(folder) Local folder…', description: 'a checkpoint in Hugging Face layout' },
      { id: 'repo', label: '$(cloud-download) Other Hugging Face repo id…', description: 'validated, then downloaded once into global storage' },
    ];
    const ram = `${(machine.totalMemBytes / 1e9).toFixed(0)} GB RAM`;
    const pick = await vscode.window.showQuickPick(items, {
      title: opts.firstRun ? 'Presage: choose a model (the demo model runs until you do)' : 'Presage: Select Model',
      placeHolder: `current: ${previous || (demo ? 'demo model' : 'none')} · this machine: ${ram}, ${machine.gpu ? 'GPU' : 'CPU'}; sizes, memory and speed are estimates`,
      matchOnDescription: true, matchOnDetail: true,
    });
    if (!pick) return undefined;
    await this._ctx.extensionContext.globalState?.update(CHOSEN_KEY, true);
    if (pick.id === 'demo') {
      await config.setModel('');
      return '';
    }
    if (pick.id === 'folder') {
      const uri = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, canSelectMany: false, openLabel: 'Use this model' });
      if (!uri?.[0]) return undefined;
      const problem = folderProblem(uri[0].fsPath);
      if (problem) return this._keepPrevious(previous, problem);
      await config.setModel(uri[0].fsPath);
      return uri[0].fsPath;
    }
    let repoId = pick.repoId;
    if (pick.id === 'repo') {
      repoId = (await vscode.window.showInputBox({
        title: 'Hugging Face repo id', placeHolder: 'owner/name', value: isRepoId(previous) ? previous : '',
        validateInput: (v) => (/^[A-Za-z0-9][\w.-]*\/[\w.-]+$/.test(v.trim()) ? undefined : 'Expected owner/name'),
      }))?.trim();
    }
    if (!repoId) return undefined;
    return this.chooseRepo(repoId, previous);
  }

  /** Validates and downloads a repo id, then saves it; on failure keeps `previous` and says why. */
  async chooseRepo(repoId: string, previous = config.model()): Promise<string | undefined> {
    try {
      await probeRepo(repoId, hubOptions());
      const dir = modelFolder(this._ctx.extensionContext.globalStorageUri.fsPath, repoId);
      if (!isDownloaded(dir)) await this._download(repoId, dir);
    } catch (err) {
      if (err instanceof DownloadCancelled) return this._keepPrevious(previous, 'the download was cancelled (it continues where it stopped when you choose this model again)');
      return this._keepPrevious(previous, (err as Error).message, err instanceof ModelChoiceError ? err.problem : undefined);
    }
    await config.setModel(repoId);
    return repoId;
  }

  private _keepPrevious(previous: string, why: string, problem?: string): undefined {
    const kept = previous || 'the demo model';
    this._ctx.log.warn(`select model: ${problem ? `${problem}: ` : ''}${why}; keeping ${kept}`);
    void vscode.window.showErrorMessage(`Presage kept ${kept}: ${why}`);
    return undefined;
  }

  dispose(): void {
    for (const d of this._disposables.splice(0)) d.dispose();
  }
}
