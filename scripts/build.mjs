// Bundles the engine, the extension and the webview scripts with esbuild (one entry per bundle).
import * as esbuild from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const args = new Set(process.argv.slice(2));
const engineOnly = args.has('--engine-only');
const quiet = args.has('--quiet');
const production = args.has('--production');

const common = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  sourcemap: true,
  minify: production,
  logLevel: quiet ? 'error' : 'info',
  absWorkingDir: root,
};

const bundles = [
  // The engine runs standalone (CLI, stdio server, HTTP server, benchmarks); native ORT stays external.
  { ...common, entryPoints: ['engine/main.ts'], outfile: 'dist/engine.js', external: ['onnxruntime-node'] },
];
if (!engineOnly) {
  bundles.push({ ...common, entryPoints: ['extension/main.ts'], outfile: 'dist/extension.js', external: ['vscode', 'onnxruntime-node'] });
  for (const entry of ['media/chat.ts']) {
    if (fs.existsSync(path.join(root, entry))) {
      bundles.push({ ...common, platform: 'browser', format: 'iife', target: 'es2022', entryPoints: [entry], outfile: `dist/media/${path.basename(entry, '.ts')}.js` });
    }
  }
}

await Promise.all(bundles.map((options) => esbuild.build(options)));
