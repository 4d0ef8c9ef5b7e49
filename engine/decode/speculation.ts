// Glue between the learned speculator and the drafters: after each verification the decoder hands the speculator
// the base model's last hidden state (of the node whose logits chose the pending token) and that token, and
// gives the resulting n-gram tree to a drafter that consumes speculations (engine/draft/speculator.ts).
// Drafters never see the model; the model never sees drafters; this file sees both.
import fs from 'node:fs';
import path from 'node:path';
import { isSpeculationConsumer, type Speculation, type StepCosts } from '../draft/speculator';
import type { Drafter } from '../draft/types';
import type { Model } from '../model/types';
import { loadSpeculatorCheckpoint } from '../model/speculator/checkpoint';
import { SpeculatorRuntime } from '../model/speculator/runtime';

/** What the decoder needs from a speculator. */
export interface SpeculationRunner {
  /** Heads (the deepest n-gram it proposes). */
  readonly depth: number;
  expand(hidden: Float32Array, lastToken: number, graftPaths: readonly (readonly number[])[]): Promise<Speculation>;
}

/**
 * Two rows continued per depth by default: past head 0 acceptance is mostly the top-1 chain, and each row costs a
 * vocabulary-sized matmul (expand on the demo speculator: 5.5 ms with 4 rows and three graft paths, 3.7 ms with 2
 * and one, on the loaded 2-core machine).
 */
export function runnerFromRuntime(runtime: SpeculatorRuntime, options: { expandPerDepth?: number; topK?: number[] } = {}): SpeculationRunner {
  return {
    depth: runtime.config.nPredict,
    expand: (hidden, lastToken, graftPaths) => runtime.expand(hidden, lastToken, { expandPerDepth: 2, ...options, graftPaths }),
  };
}

/**
 * Runs the speculator for the request's current context and hands the tree to the drafter. `row` is the index,
 * in the last forward's logit rows, of the node whose logits chose `lastToken`. With `costs` (the decoder's step
 * cost estimate) the drafter's gate may skip the run when the speculator's learned gain does not pay for its
 * time. Returns the milliseconds spent (0 when there is nothing to do: no runner, a drafter that does not consume
 * speculations, no hidden states, or a skipped step).
 */
export async function speculate(model: Model, runner: SpeculationRunner | undefined, drafter: Drafter | undefined, requestId: string, row: number, lastToken: number, maxDraft: number, costs?: StepCosts): Promise<number> {
  if (!runner || !drafter || !isSpeculationConsumer(drafter)) return 0;
  const all = model.lastHiddenStates?.();
  if (!all) return 0;
  const H = model.info.hiddenSize;
  if ((row + 1) * H > all.length) throw new Error(`speculate: hidden state row ${row} is not in the last forward's ${all.length / H} rows`);
  const tGate = performance.now();
  if (costs && !drafter.wantsSpeculation(requestId, maxDraft, costs)) return performance.now() - tGate;
  // the gate weighs the speculator's own time (the hybrid draft it computed is reused by the next propose)
  const t0 = performance.now();
  const paths = drafter.graftPaths(requestId, maxDraft, runner.depth);
  const tree = await runner.expand(all.subarray(row * H, (row + 1) * H), lastToken, paths);
  drafter.setSpeculation(requestId, tree, performance.now() - t0);
  return performance.now() - tGate;
}

/** Drafter names that consume a speculator's n-grams (the model then also returns its hidden states). */
export function usesSpeculator(drafterName: string | undefined): boolean {
  return drafterName !== undefined && drafterName.split('+').includes('speculator');
}

/**
 * Where a model's speculator lives: the explicit folder, else `<model>-speculator` beside it, else `<model>/speculator`.
 * Undefined when none of them holds a config.json.
 */
export function speculatorDirFor(modelDir: string, explicit?: string): string | undefined {
  if (explicit) return explicit;
  const trimmed = modelDir.replace(/[\\/]+$/, '');
  for (const dir of [`${trimmed}-speculator`, path.join(trimmed, 'speculator')]) {
    if (fs.existsSync(path.join(dir, 'config.json'))) return dir;
  }
  return undefined;
}

/**
 * Opens the speculator a drafter needs, checked against the base model; undefined (with a warning) when there is
 * none, so the drafter degrades (`speculator` drafts nothing, `hybrid+speculator` is hybrid).
 */
export async function openSpeculator(modelDir: string, drafterName: string | undefined, info: { hiddenSize: number; vocabSize: number }, options: { dir?: string; threads?: number; onWarning?: (m: string) => void } = {}): Promise<(SpeculationRunner & { dispose(): Promise<void> }) | undefined> {
  if (!usesSpeculator(drafterName)) return undefined;
  const dir = speculatorDirFor(modelDir, options.dir);
  if (!dir) {
    options.onWarning?.(`drafter ${drafterName}: no speculator for ${modelDir} (looked for ${modelDir.replace(/[\\/]+$/, '')}-speculator and ${path.join(modelDir, 'speculator')}); drafting without it`);
    return undefined;
  }
  const runtime = await SpeculatorRuntime.create(loadSpeculatorCheckpoint(dir, info), options.threads ? { threads: options.threads } : {});
  return { ...runnerFromRuntime(runtime), dispose: () => runtime.dispose() };
}
