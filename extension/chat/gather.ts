// Collects workspace context for a chat question: the active editor, mentioned files, and files defining the
// symbols the question names. Bounded in files, bytes, time and snippet budget; secrets (the shared policy of
// engine/protocol/fileSafety.ts, by name and by content) and version-control folders are never used.
import * as vscode from 'vscode';
import { FileSafety } from '../../engine/protocol/fileSafety';
import { config } from '../config';
import { definitionWindow, findSymbols, parseQuestion, selectSnippets, windowAround, type Snippet } from './context';

export interface GatherLimits {
  maxFiles: number;
  maxFileBytes: number;
  budgetChars: number;
  maxSnippets: number;
  timeBudgetMs: number;
}

export const DEFAULT_GATHER_LIMITS: GatherLimits = { maxFiles: 400, maxFileBytes: 256_000, budgetChars: 8000, maxSnippets: 6, timeBudgetMs: 1500 };

const CODE_GLOB = '**/*.{ts,tsx,js,jsx,mjs,cjs,py,go,rs,java,kt,c,h,cc,cpp,hpp,cs,rb,php,swift,scala,lua,sh,vue,svelte}';
const ALWAYS_EXCLUDED = ['**/node_modules/**', '**/.git/**', '**/dist/**', '**/out/**', '**/build/**', '**/.venv/**', '**/venv/**', '**/__pycache__/**', '**/target/**', '**/coverage/**'];

function excludeGlob(): string {
  const fromSettings = Object.keys(config.filesExclude());
  return `{${[...ALWAYS_EXCLUDED, ...fromSettings].map((g) => g.replace(/[{}]/g, '')).join(',')}}`;
}

/** The text of a file: the open document if there is one (unsaved edits count), else the disk, within limits. */
async function readText(uri: vscode.Uri, maxBytes: number): Promise<string | undefined> {
  const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
  if (open) return open.getText().length <= maxBytes ? open.getText() : undefined;
  try {
    const stat = await vscode.workspace.fs.stat(uri);
    if (stat.size > maxBytes) return undefined;
    const bytes = await vscode.workspace.fs.readFile(uri);
    if (bytes.subarray(0, 8000).includes(0)) return undefined; // binary
    return new TextDecoder('utf-8').decode(bytes);
  } catch {
    return undefined;
  }
}

export async function gatherContext(question: string, token: vscode.CancellationToken, limits: GatherLimits = DEFAULT_GATHER_LIMITS): Promise<Snippet[]> {
  const deadline = Date.now() + limits.timeBudgetMs;
  const refs = parseQuestion(question);
  const safety = new FileSafety(config.secretPatterns());
  const candidates: Snippet[] = [];
  const relative = (uri: vscode.Uri): string => vscode.workspace.asRelativePath(uri, false);
  const allowed = (uri: vscode.Uri): boolean => safety.check(uri.path) === undefined && safety.check(relative(uri)) === undefined;
  /** The file's text when it holds no secret either. */
  const readSafe = async (uri: vscode.Uri): Promise<string | undefined> => {
    const text = await readText(uri, limits.maxFileBytes);
    return text !== undefined && safety.secretContent(text, uri.path) === undefined ? text : undefined;
  };
  const addHits = (uri: vscode.Uri, text: string, base: number): boolean => {
    const hits = findSymbols(text, refs.symbols, refs.words);
    for (const hit of hits) {
      const w = definitionWindow(text, hit.line);
      candidates.push({ uri: uri.toString(), path: relative(uri), startLine: w.startLine, focusLine: hit.line, text: w.text, priority: base + (hit.definition ? 10 : 0) + (refs.symbols.includes(hit.symbol) ? 5 : 0) });
    }
    return hits.length > 0;
  };

  // 1. The active editor: the selection, or the lines around the cursor.
  const editor = vscode.window.activeTextEditor;
  const seen = new Set<string>();
  if (editor && allowed(editor.document.uri) && editor.document.uri.scheme !== 'output' && safety.secretContent(editor.document.getText(), editor.document.uri.path) === undefined) {
    const doc = editor.document;
    seen.add(doc.uri.toString());
    const text = doc.getText();
    if (!editor.selection.isEmpty) {
      const w = windowAround(text, editor.selection.start.line, 0, Math.min(80, editor.selection.end.line - editor.selection.start.line));
      candidates.push({ uri: doc.uri.toString(), path: relative(doc.uri), startLine: w.startLine, text: w.text, priority: 100 });
    } else {
      const w = windowAround(text, editor.selection.active.line, 15, 15);
      candidates.push({ uri: doc.uri.toString(), path: relative(doc.uri), startLine: w.startLine, text: w.text, priority: 40 });
    }
    if (text.length <= limits.maxFileBytes) addHits(doc.uri, text, 75);
  }

  const trusted = vscode.workspace.isTrusted;
  const exclude = excludeGlob();
  // 2. Files the question names (in restricted mode: only among the open documents).
  for (const name of refs.files) {
    if (token.isCancellationRequested || Date.now() > deadline) break;
    const matches = trusted
      ? await vscode.workspace.findFiles(name.includes('/') ? `{${name},**/${name}}` : `**/${name}`, exclude, 3, token)
      : vscode.workspace.textDocuments.filter((d) => d.uri.path.endsWith(`/${name}`)).map((d) => d.uri);
    for (const uri of matches) {
      if (!allowed(uri) || seen.has(uri.toString())) continue;
      seen.add(uri.toString());
      const text = await readSafe(uri);
      if (text === undefined) continue;
      if (!addHits(uri, text, 85)) {
        const w = windowAround(text, 0, 0, 60);
        candidates.push({ uri: uri.toString(), path: relative(uri), startLine: 0, text: w.text, priority: 70 });
      }
    }
  }

  // 3. Definitions of the symbols the question names, across the workspace.
  if (refs.symbols.length + refs.words.length > 0) {
    const pool = trusted ? await vscode.workspace.findFiles(CODE_GLOB, exclude, limits.maxFiles, token) : vscode.workspace.textDocuments.map((d) => d.uri);
    for (const uri of pool) {
      if (token.isCancellationRequested || Date.now() > deadline) break;
      if (!allowed(uri) || seen.has(uri.toString())) continue;
      seen.add(uri.toString());
      const text = await readSafe(uri);
      if (text !== undefined) addHits(uri, text, 60);
    }
  }
  return selectSnippets(candidates, limits.budgetChars, limits.maxSnippets);
}
