// The status bar as a state machine: engine states (from presage/status and the client's lifecycle) in, what the
// status bar item shows (text, tooltip, click command) out. No vscode import: rendering data only.
import type { EngineState, StatusParams } from '../../engine/protocol';

/** The client's own view of the engine process. */
export type ProcessPhase = 'starting' | 'running' | 'restarting' | 'stopped' | 'gave-up';

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
  /** The back end that generates, and (remote) the last health check's round trip. */
  backend?: 'local' | 'remote';
  latencyMs?: number;
}

export type StatusEvent =
  | { type: 'status'; params: StatusParams }
  | { type: 'phase'; phase: ProcessPhase; message?: string }
  | { type: 'pid'; pid: number | undefined }
  | { type: 'model'; model: string | undefined }
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
      if (p.tokensPerS !== undefined && Number.isFinite(p.tokensPerS)) next.tokensPerS = p.tokensPerS;
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
      }
      return next;
    }
    case 'pid':
      return event.pid === undefined ? (({ pid: _, ...rest }) => rest)(model) : { ...model, pid: event.pid };
    case 'model':
      return event.model === undefined ? (({ model: _, ...rest }) => rest)(model) : { ...model, model: event.model };
    case 'load-progress': {
      const f = Math.min(1, Math.max(0, event.fraction));
      return { ...model, engine: 'loading', loadFraction: Number.isFinite(f) ? f : 0, ...(event.message ? { message: event.message } : {}) };
    }
    case 'inline-enabled':
      return { ...model, inlineEnabled: event.enabled };
  }
}

function metrics(model: StatusModel): string {
  const parts: string[] = [];
  if (model.backend === 'remote') parts.push(model.latencyMs !== undefined ? `remote ${Math.round(model.latencyMs)} ms` : 'remote');
  if (model.tokensPerS !== undefined && model.tokensPerS > 0) parts.push(`${Math.round(model.tokensPerS)} tok/s`);
  if (model.mat !== undefined && model.mat > 0) parts.push(`MAT ${model.mat.toFixed(1)}`);
  return parts.map((p) => ` · ${p}`).join('');
}

export function renderStatus(model: StatusModel): StatusView {
  const lines = [
    `Presage engine: ${model.phase === 'running' ? model.engine : model.phase}`,
    model.pid !== undefined ? `PID ${model.pid}` : 'no engine process',
    model.model ? `Model: ${model.model}` : '',
    model.backend === 'remote' ? `Back end: remote${model.latencyMs !== undefined ? `, health check ${model.latencyMs.toFixed(1)} ms` : ''}` : '',
    model.tokensPerS !== undefined ? `Last completion: ${model.tokensPerS.toFixed(1)} tokens/s${model.mat !== undefined ? `, MAT ${model.mat.toFixed(2)}` : ''}` : '',
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
      return view('$(circle-slash) Presage: no model', 'presage.selectModel', 'warning', 'No model is set up. Click to select one.');
    case 'error':
      return view('$(error) Presage error', 'presage.restartEngine', 'error', 'Click to restart the engine.');
    case 'generating':
      return view(`$(loading~spin) Presage generating${metrics(model)}`, 'presage.showStats', 'normal', 'Click to show stats.');
    case 'ready':
      if (!model.inlineEnabled) return view(`$(circle-slash) Presage ready · inline off`, 'presage.toggleInlineCompletions', 'normal', 'Click to turn inline completions on.');
      return view(`$(check) Presage ready${metrics(model)}`, 'presage.showStats', 'normal', 'Click to show stats.');
  }
}
