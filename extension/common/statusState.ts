// The status bar as a state machine: engine states (from presage/status and the client's lifecycle) in, what the
// status bar item shows (text, tooltip, click command) out. No vscode import: rendering data only.
import type { EngineState, StatusParams } from '../../engine/protocol';

/** The client's own view of the engine process. */
export type ProcessPhase = 'starting' | 'running' | 'restarting' | 'stopped' | 'gave-up';

/**
 * The extension's model setup: the engine says "no-model" until loadModel is done, so only the extension knows
 * whether a model is on its way (resolving, downloading, loading) or there really is none.
 */
export type SetupPhase = 'resolving' | 'downloading' | 'loading' | 'loaded' | 'none' | 'failed';

/** How many recent requests the status bar's tokens/s is the median of. */
export const TOKENS_PER_S_WINDOW = 9;

export interface StatusModel {
  engine: EngineState;
  phase: ProcessPhase;
  message?: string;
  tokensPerS?: number;
  mat?: number;
  pid?: number;
  model?: string;
  loadFraction?: number;
  inlineEnabled: boolean;
  /** The bundled demo model is loaded: its output shows the mechanics only. */
  demo?: boolean;
  /** Where the loaded model runs, and why there (the GPU adapter's name, a fallback's reason). */
  device?: DeviceInfo;
  /** Undefined until the extension starts setting up a model. */
  setup?: SetupPhase;
  /** Download or load progress of the model setup, 0..1. */
  setupFraction?: number;
  /** Workspace indexing: files sent of the files to send (done === total once complete). */
  index?: { done: number; total: number };
  /** tokens/s of the most recent requests, oldest first (at most TOKENS_PER_S_WINDOW). */
  recentTokensPerS?: number[];
  /** The back end that generates, and (remote) the last health check's round trip. */
  backend?: 'local' | 'remote';
  latencyMs?: number;
}

export interface DeviceInfo {
  /** The execution device that actually runs the model: cpu, webgpu or cuda. */
  name: string;
  adapter?: string;
  /** Why this device: "chosen by auto", or the reason a requested GPU was not used. */
  reason?: string;
}

export type StatusEvent =
  | { type: 'status'; params: StatusParams }
  | { type: 'phase'; phase: ProcessPhase; message?: string }
  | { type: 'pid'; pid: number | undefined }
  | { type: 'model'; model: string | undefined; demo?: boolean; device?: DeviceInfo }
  | { type: 'setup'; phase: SetupPhase; fraction?: number; message?: string }
  | { type: 'index'; done: number; total: number }
  | { type: 'load-progress'; fraction: number; message?: string }
  | { type: 'inline-enabled'; enabled: boolean };

export interface StatusView {
  text: string;
  tooltip: string;
  command: string;
  severity: 'normal' | 'warning' | 'error';
}

export const INITIAL_STATUS: StatusModel = { engine: 'starting', phase: 'starting', inlineEnabled: true };

const ENGINE_STATES: readonly EngineState[] = ['starting', 'loading', 'ready', 'generating', 'error', 'no-model'];

export function reduceStatus(model: StatusModel, event: StatusEvent): StatusModel {
  switch (event.type) {
    case 'status': {
      const p = event.params;
      if (!ENGINE_STATES.includes(p.state)) return model;
      const next: StatusModel = { ...model, engine: p.state, phase: 'running' };
      if (p.message !== undefined) next.message = p.message;
      else delete next.message;
      if (p.state !== 'loading') delete next.loadFraction;
      if (p.tokensPerS !== undefined && Number.isFinite(p.tokensPerS) && p.tokensPerS > 0) {
        // One request's speed swings with how repetitive its output was: show the median of the recent ones.
        next.recentTokensPerS = [...(model.recentTokensPerS ?? []), p.tokensPerS].slice(-TOKENS_PER_S_WINDOW);
        next.tokensPerS = median(next.recentTokensPerS);
      }
      if (p.mat !== undefined && Number.isFinite(p.mat)) next.mat = p.mat;
      if (p.backend !== undefined) next.backend = p.backend;
      if (p.backend === 'local') delete next.latencyMs;
      if (p.latencyMs !== undefined && Number.isFinite(p.latencyMs)) next.latencyMs = p.latencyMs;
      return next;
    }
    case 'phase': {
      const next: StatusModel = { ...model, phase: event.phase };
      if (event.message !== undefined) next.message = event.message;
      if (event.phase !== 'running') {
        next.engine = event.phase === 'gave-up' || event.phase === 'stopped' ? 'error' : 'starting';
        delete next.pid;
        // A new engine process has no model until the setup loads one again: the tooltip shows only what is loaded.
        delete next.model;
        delete next.demo;
      }
      return next;
    }
    case 'pid':
      return event.pid === undefined ? (({ pid: _, ...rest }) => rest)(model) : { ...model, pid: event.pid };
    case 'model': {
      const { model: _m, demo: _d, device: _v, ...rest } = model;
      if (event.model === undefined) return rest;
      return { ...rest, model: event.model, ...(event.demo ? { demo: true } : {}), ...(event.device ? { device: event.device } : {}) };
    }
    case 'setup': {
      const { setupFraction: _f, ...rest } = model;
      const next: StatusModel = { ...rest, setup: event.phase };
      if (event.fraction !== undefined && Number.isFinite(event.fraction)) next.setupFraction = Math.min(1, Math.max(0, event.fraction));
      if (event.message !== undefined) next.message = event.message;
      return next;
    }
    case 'index': {
      const total = Math.max(0, Math.floor(event.total));
      return { ...model, index: { done: Math.min(total, Math.max(0, Math.floor(event.done))), total } };
    }
    case 'load-progress': {
      const f = Math.min(1, Math.max(0, event.fraction));
      return { ...model, engine: 'loading', loadFraction: Number.isFinite(f) ? f : 0, ...(event.message ? { message: event.message } : {}) };
    }
    case 'inline-enabled':
      return { ...model, inlineEnabled: event.enabled };
  }
}

/** Median of a non-empty list. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** The index is still being sent: how far, in percent; undefined when complete or not started. */
function indexingPercent(model: StatusModel): number | undefined {
  const ix = model.index;
  if (!ix || ix.total === 0 || ix.done >= ix.total) return undefined;
  return Math.floor((100 * ix.done) / ix.total);
}

export const DEMO_LABEL = 'Demo model: it shows the mechanics only (a small base model, its suggestions are not useful). Run "Presage: Select Model" for a real code model.';

/** The device line of a load: what ran, and why there (a device warning the engine gave, or auto's choice). */
export function deviceInfo(requested: string, loaded: { device: string; adapter?: string; warnings: readonly string[] }): DeviceInfo {
  const why = loaded.warnings.find((w) => /execution provider|device failed|KV cache stays/.test(w));
  const reason = why ?? (requested === 'auto' ? 'chosen by auto' : undefined);
  return { name: loaded.device, ...(loaded.adapter ? { adapter: loaded.adapter } : {}), ...(reason ? { reason } : {}) };
}

function describeDevice(d: DeviceInfo): string {
  return `${d.name}${d.adapter ? ` (${d.adapter})` : ''}${d.reason ? ` — ${d.reason}` : ''}`;
}

function metrics(model: StatusModel): string {
  const parts: string[] = [];
  if (model.model && model.device && model.device.name !== 'cpu') parts.push(model.device.name);
  if (model.backend === 'remote') parts.push(model.latencyMs !== undefined ? `remote ${Math.round(model.latencyMs)} ms` : 'remote');
  if (model.tokensPerS !== undefined && model.tokensPerS > 0) parts.push(`${Math.round(model.tokensPerS)} tok/s`);
  if (model.mat !== undefined && model.mat > 0) parts.push(`MAT ${model.mat.toFixed(1)}`);
  return parts.map((p) => ` · ${p}`).join('');
}

export function renderStatus(model: StatusModel): StatusView {
  const lines = [
    `Presage engine: ${model.phase === 'running' ? model.engine : model.phase}`,
    model.pid !== undefined ? `PID ${model.pid}` : 'no engine process',
    model.model ? `Model: ${model.model}${model.demo ? ' (demo)' : ''}` : model.setup === 'none' ? 'Model: none' : '',
    model.demo ? DEMO_LABEL : '',
    model.model && model.device ? `Device: ${describeDevice(model.device)}` : '',
    model.index ? `Index: ${model.index.done}/${model.index.total} files${model.index.done >= model.index.total ? '' : ' (indexing)'}` : '',
    model.backend === 'remote' ? `Back end: remote${model.latencyMs !== undefined ? `, health check ${model.latencyMs.toFixed(1)} ms` : ''}` : '',
    model.tokensPerS !== undefined
      ? `Speed: ${model.tokensPerS.toFixed(1)} tokens/s (median of the last ${model.recentTokensPerS?.length ?? 1} requests)${model.mat !== undefined ? `, last MAT ${model.mat.toFixed(2)}` : ''}`
      : '',
    model.message ?? '',
    model.inlineEnabled ? '' : 'Inline completions are off.',
  ].filter((l) => l.length > 0);
  const view = (text: string, command: string, severity: StatusView['severity'], hint: string): StatusView => ({
    text, command, severity, tooltip: [...lines, hint].join('\n'),
  });
  if (model.phase === 'gave-up') return view('$(error) Presage stopped', 'presage.restartEngine', 'error', 'Click to restart the engine.');
  if (model.phase === 'stopped') return view('$(debug-stop) Presage stopped', 'presage.restartEngine', 'warning', 'Click to restart the engine.');
  if (model.phase === 'starting' || model.phase === 'restarting') {
    return view(`$(sync~spin) Presage ${model.phase === 'restarting' ? 'restarting' : 'starting'}`, 'presage.showLog', 'normal', 'Click to show the log.');
  }
  switch (model.engine) {
    case 'starting':
      return view('$(sync~spin) Presage starting', 'presage.showLog', 'normal', 'Click to show the log.');
    case 'loading': {
      const pct = model.loadFraction !== undefined ? ` ${Math.round(model.loadFraction * 100)}%` : '';
      return view(`$(sync~spin) Presage loading${pct}`, 'presage.showLog', 'normal', 'Loading the model. Click to show the log.');
    }
    case 'no-model':
      // The engine has no model yet; whether one is coming is the extension's to say.
      switch (model.setup) {
        case undefined:
        case 'resolving':
          return view('$(sync~spin) Presage starting', 'presage.showLog', 'normal', 'Finding the model. Click to show the log.');
        case 'downloading': {
          const pct = model.setupFraction !== undefined ? ` ${Math.round(model.setupFraction * 100)}%` : '';
          return view(`$(cloud-download) Presage downloading${pct}`, 'presage.showLog', 'normal', 'Downloading the model. Click to show the log.');
        }
        case 'loading':
        case 'loaded':
          return view('$(sync~spin) Presage loading', 'presage.showLog', 'normal', 'Loading the model. Click to show the log.');
        case 'failed':
          return view('$(warning) Presage: model not loaded', 'presage.selectModel', 'warning', 'The model could not be set up. Click to select another.');
        case 'none':
          return view('$(circle-slash) Presage: no model', 'presage.selectModel', 'warning', 'No model is set up. Click to select one.');
      }
      break;
    case 'error':
      return view('$(error) Presage error', 'presage.restartEngine', 'error', 'Click to restart the engine.');
    case 'generating':
      return view(`$(loading~spin) Presage generating${metrics(model)}`, 'presage.showStats', 'normal', 'Click to show stats.');
    case 'ready': {
      const demo = model.demo ? ' · demo' : '';
      if (!model.inlineEnabled) return view(`$(circle-slash) Presage ready${demo} · inline off`, 'presage.toggleInlineCompletions', 'normal', 'Click to turn inline completions on.');
      // Ready means the engine can answer AND the workspace is fully indexed; until then say how far indexing is.
      const pct = indexingPercent(model);
      if (pct !== undefined) return view(`$(sync~spin) Presage indexing ${pct}%${demo}${metrics(model)}`, 'presage.showStats', 'normal', 'Completions work already; the workspace index is still filling. Click to show stats.');
      if (model.demo) return view(`$(beaker) Presage ready · demo${metrics(model)}`, 'presage.selectModel', 'normal', 'Click to select a real model.');
      return view(`$(check) Presage ready${metrics(model)}`, 'presage.showStats', 'normal', 'Click to show stats.');
    }
  }
  return view('$(sync~spin) Presage starting', 'presage.showLog', 'normal', 'Click to show the log.');
}
