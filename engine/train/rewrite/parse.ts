// Parsing for the rewrite generator: the engine's shared tree-sitter parsers, and the validity check every
// example must pass (the file with the edit applied parses without errors where the original did).
import type { Tree } from 'web-tree-sitter';
import { parserFor } from '../../syntax/blockEnd';
import type { RewriteExample, RewriteLanguage } from './types';

export async function parseSource(language: RewriteLanguage, source: string): Promise<Tree> {
  const parser = await parserFor(language);
  if (!parser) throw new Error(`no tree-sitter grammar for ${language}`);
  const tree = parser.parse(source);
  if (!tree) throw new Error(`tree-sitter could not parse the ${language} source`);
  return tree;
}

/** The source with the example's edit applied. */
export function applyExample(source: string, ex: Pick<RewriteExample, 'start' | 'end' | 'output'>): string {
  return source.slice(0, ex.start) + ex.output + source.slice(ex.end);
}

/** Whether the edited file parses cleanly (an example is kept only then; the original must parse cleanly too). */
export async function editParses(language: RewriteLanguage, source: string, ex: RewriteExample): Promise<boolean> {
  const tree = await parseSource(language, applyExample(source, ex));
  try {
    return !tree.rootNode.hasError;
  } finally {
    tree.delete();
  }
}
