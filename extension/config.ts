// The one place that reads settings. Each setting declares what a change to it triggers (like rust-analyzer's
// requiresServerReloadOpts); the context listens to onDidChangeConfiguration once and fires `onDidChangeConfig`
// with the triggered reactions. In restricted mode VS Code ignores workspace values of the restricted settings
// (presage.model, presage.enginePath, presage.backend, presage.remote.*): only the user's own values apply, so an
// untrusted folder cannot send your code to a server of its choosing.
import * as vscode from 'vscode';
import { DEVICES, type Device } from '../engine/protocol';

export type { Device } from '../engine/protocol';
/** 'auto': int8/int4 on a CPU for models above 1 B parameters (extension/model/presets.ts), else none. */
export type Quantization = 'auto' | 'none' | 'int8' | 'int4';
export type TraceLevel = 'off' | 'messages' | 'verbose';

/** What a settings change must set off. */
export type ConfigTrigger =
  /** Spawn a new engine process (another engine bundle). */
  | 'restart-engine'
  /** Resolve and load the model again. */
  | 'reload-model'
  /** Rebuild the file filter and send the documents again. */
  | 'reindex'
  /** Apply the JSON-RPC trace level to the live connection. */
  | 'trace'
  /** Show inline completions on or off in the status bar. */
  | 'inline-toggle'
  /** Tell the engine which back end generates (local, or a remote server). */
  | 'backend'
  /** Nothing: the value is read at each use. */
  | 'none';

/** Every setting Presage reads, with what a change to it triggers. */
export const SETTING_TRIGGERS: Readonly<Record<string, ConfigTrigger>> = {
  'presage.model': 'reload-model',
  'presage.device': 'reload-model',
  'presage.quantization': 'reload-model',
  'presage.enginePath': 'restart-engine',
  // The back end choice also decides whether the local model is loaded: reload-model re-applies both.
  'presage.backend': 'reload-model',
  'presage.remote.fallbackToLocal': 'reload-model',
  'presage.remote.url': 'backend',
  'presage.remote.model': 'backend',
  'presage.inlineCompletions.enabled': 'inline-toggle',
  'presage.inlineCompletions.maxTokens': 'none',
  'presage.inlineCompletions.timeBudgetMs': 'none',
  // The engine also gets the user patterns at initialize; until its next start the extension's filter holds them.
  'presage.index.secretPatterns': 'reindex',
  'presage.index.maxFileBytes': 'reindex',
  'files.exclude': 'reindex',
  'presage.trace.server': 'trace',
};

/** The reactions a configuration change calls for (`affects` is the event's affectsConfiguration). */
export function triggersFor(affects: (section: string) => boolean): Set<ConfigTrigger> {
  const out = new Set<ConfigTrigger>();
  for (const [setting, trigger] of Object.entries(SETTING_TRIGGERS)) if (trigger !== 'none' && affects(setting)) out.add(trigger);
  // A restart loads the model and resends the documents anyway.
  if (out.has('restart-engine')) {
    out.delete('reload-model');
    out.delete('reindex');
  }
  return out;
}

function section(): vscode.WorkspaceConfiguration {
  return vscode.workspace.getConfiguration('presage');
}

function oneOf<T extends string>(value: unknown, allowed: readonly T[], fallback: T): T {
  return typeof value === 'string' && (allowed as readonly string[]).includes(value) ? (value as T) : fallback;
}

function positive(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : fallback;
}

export const config = {
  model: (): string => (section().get<string>('model') ?? '').trim(),
  enginePath: (): string => (section().get<string>('enginePath') ?? '').trim(),
  device: (): Device => oneOf(section().get('device'), DEVICES, 'auto'),
  quantization: (): Quantization => oneOf(section().get('quantization'), ['auto', 'none', 'int8', 'int4'], 'auto'),
  inlineEnabled: (): boolean => section().get<boolean>('inlineCompletions.enabled') !== false,
  maxTokens: (): number => Math.round(positive(section().get('inlineCompletions.maxTokens'), 128)),
  timeBudgetMs: (): number => positive(section().get('inlineCompletions.timeBudgetMs'), 2000),
  secretPatterns: (): string[] => {
    const v = section().get<unknown>('index.secretPatterns');
    return Array.isArray(v) ? v.filter((p): p is string => typeof p === 'string' && p.trim().length > 0) : [];
  },
  maxFileBytes: (): number => positive(section().get('index.maxFileBytes'), 1_000_000),
  backend: (): 'local' | 'remote' => oneOf(section().get('backend'), ['local', 'remote'], 'local'),
  remoteUrl: (): string => (section().get<string>('remote.url') ?? '').trim(),
  remoteModel: (): string => (section().get<string>('remote.model') ?? '').trim(),
  remoteFallbackToLocal: (): boolean => section().get<boolean>('remote.fallbackToLocal') === true,
  /** The local model is needed unless a remote back end serves without fallback. */
  needsLocalModel: (): boolean => config.backend() !== 'remote' || config.remoteFallbackToLocal(),
  trace: (): TraceLevel => oneOf(section().get('trace.server'), ['off', 'messages', 'verbose'], 'off'),
  filesExclude: (): Record<string, boolean> => {
    const v = vscode.workspace.getConfiguration('files').get<Record<string, unknown>>('exclude') ?? {};
    return Object.fromEntries(Object.entries(v).filter(([, on]) => on === true)) as Record<string, boolean>;
  },
  setInlineEnabled: (enabled: boolean): Thenable<void> => section().update('inlineCompletions.enabled', enabled, vscode.ConfigurationTarget.Global),
  setModel: (model: string): Thenable<void> => section().update('model', model, vscode.ConfigurationTarget.Global),
};

export type Config = typeof config;
