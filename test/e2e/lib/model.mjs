// The model the e2e profile points `presage.model` at: a tiny random checkpoint from `make-tiny-model`,
// with the demo model's tokenizer when the repository has one (so CI needs nothing outside the clone).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export function tokenizerCandidates(root) {
  return [
    process.env.PRESAGE_E2E_TOKENIZER,
    path.join(root, 'models', 'demo'),
    path.join(root, '..', 'shared', 'tokenizers', 'gpt2'),
  ].filter((dir) => dir && fs.existsSync(path.join(dir, 'tokenizer.json')));
}

/** Small enough to load in a second and run fast on 2 CPU cores; head size 16 (a multiple of 8). */
export const TINY_MODEL_SHAPE = { arch: 'llama', layers: 2, hidden: 64, heads: 4, kvHeads: 2, intermediate: 128, seed: 7 };

/** Builds the tiny model into `outDir` with the bundled engine CLI; returns outDir or throws with the CLI output. */
export function buildTinyModel(root, outDir, shape = TINY_MODEL_SHAPE) {
  const [tokenizer] = tokenizerCandidates(root);
  if (!tokenizer) throw new Error('no tokenizer.json for make-tiny-model (set PRESAGE_E2E_TOKENIZER, or commit models/demo)');
  fs.rmSync(outDir, { recursive: true, force: true });
  const args = [
    path.join(root, 'dist', 'engine.js'), 'make-tiny-model',
    '--out', outDir, '--arch', shape.arch, '--layers', String(shape.layers), '--hidden', String(shape.hidden),
    '--heads', String(shape.heads), '--kv-heads', String(shape.kvHeads), '--intermediate', String(shape.intermediate),
    '--tokenizer', tokenizer, '--seed', String(shape.seed),
  ];
  const result = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8', env: { ...process.env, ORT_DISABLE_TELEMETRY: '1' } });
  if (result.status !== 0 || !fs.existsSync(path.join(outDir, 'config.json'))) {
    throw new Error(`make-tiny-model failed (exit ${result.status}): ${(result.stderr || result.stdout || '').trim().slice(-600)}`);
  }
  return outDir;
}

/** The demo model when it is committed (config.json present), else undefined. */
export function demoModel(root) {
  const dir = path.join(root, 'models', 'demo');
  return fs.existsSync(path.join(dir, 'config.json')) ? dir : undefined;
}
