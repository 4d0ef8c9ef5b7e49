// Finds the tree-sitter runtime and grammar .wasm files, both from the repository (node_modules) and from an
// installed extension where the engine runs as the bundled dist/engine.js.
import fs from 'node:fs';
import path from 'node:path';

/** Grammar file names (tree-sitter-<name>.wasm) by VS Code language id. */
export const GRAMMAR_BY_LANGUAGE: Readonly<Record<string, string>> = {
  typescript: 'typescript',
  typescriptreact: 'tsx',
  javascript: 'javascript',
  javascriptreact: 'javascript',
  python: 'python',
  go: 'go',
  rust: 'rust',
  java: 'java',
  c: 'cpp',
  cpp: 'cpp',
  csharp: 'c-sharp',
  ruby: 'ruby',
  shellscript: 'bash',
};

function roots(): string[] {
  const out: string[] = [];
  const env = process.env.PRESAGE_TREE_SITTER_DIR;
  if (env) out.push(env);
  // Bundled: dist/engine.js (dist/ or dist/tree-sitter/ may hold copies); in the repo: engine/syntax/.
  out.push(__dirname, path.join(__dirname, 'tree-sitter'));
  for (let dir = __dirname, i = 0; i < 6; i++, dir = path.dirname(dir)) out.push(path.join(dir, 'node_modules'));
  out.push(path.join(process.cwd(), 'node_modules'));
  return out;
}

function firstExisting(candidates: string[]): string | undefined {
  return candidates.find((p) => {
    try {
      return fs.statSync(p).isFile();
    } catch {
      return false;
    }
  });
}

/** Path of web-tree-sitter's runtime wasm, or undefined when it cannot be found. */
export function runtimeWasmPath(): string | undefined {
  const name = 'web-tree-sitter.wasm';
  return firstExisting(roots().flatMap((r) => [path.join(r, name), path.join(r, 'web-tree-sitter', name)]));
}

/** Path of the grammar wasm for a VS Code language id, or undefined when there is no grammar for it. */
export function grammarWasmPath(language: string): string | undefined {
  const grammar = GRAMMAR_BY_LANGUAGE[language];
  if (!grammar) return undefined;
  const name = `tree-sitter-${grammar}.wasm`;
  return firstExisting(roots().flatMap((r) => [path.join(r, name), path.join(r, '@vscode', 'tree-sitter-wasm', 'wasm', name)]));
}
