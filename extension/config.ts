// Typed access to the presage.* settings. In restricted mode VS Code ignores workspace values of the restricted
// settings (presage.model, presage.enginePath); only the user's own values apply.
import * as vscode from 'vscode';
import { DEVICES, type Device } from '../engine/protocol';

export type { Device } from '../engine/protocol';
export type Quantization = 'none' | 'int8' | 'int4';
export type TraceLevel = 'off' | 'messages' | 'verbose';

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
  quantization: (): Quantization => oneOf(section().get('quantization'), ['none', 'int8', 'int4'], 'none'),
  inlineEnabled: (): boolean => section().get<boolean>('inlineCompletions.enabled') !== false,
  maxTokens: (): number => Math.round(positive(section().get('inlineCompletions.maxTokens'), 128)),
  timeBudgetMs: (): number => positive(section().get('inlineCompletions.timeBudgetMs'), 2000),
  secretPatterns: (): string[] => {
    const v = section().get<unknown>('index.secretPatterns');
    return Array.isArray(v) ? v.filter((p): p is string => typeof p === 'string' && p.trim().length > 0) : [];
  },
  maxFileBytes: (): number => positive(section().get('index.maxFileBytes'), 1_000_000),
  trace: (): TraceLevel => oneOf(section().get('trace.server'), ['off', 'messages', 'verbose'], 'off'),
  filesExclude: (): Record<string, boolean> => {
    const v = vscode.workspace.getConfiguration('files').get<Record<string, unknown>>('exclude') ?? {};
    return Object.fromEntries(Object.entries(v).filter(([, on]) => on === true)) as Record<string, boolean>;
  },
  setInlineEnabled: (enabled: boolean): Thenable<void> => section().update('inlineCompletions.enabled', enabled, vscode.ConfigurationTarget.Global),
  setModel: (model: string): Thenable<void> => section().update('model', model, vscode.ConfigurationTarget.Global),
};
