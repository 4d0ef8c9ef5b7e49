// The synthetic rewrite data's shared vocabulary: each language module turns one parsed source file into examples
// of the mechanical edits, and the driver (generate.ts) splits, deduplicates and writes them.
import type { Node, Tree } from 'web-tree-sitter';

export const REWRITE_KINDS = [
  'rename', 'add-parameter', 'change-literal', 'const', 'log-entry', 'try-catch', 'delete-statement', 'sort-imports',
] as const;
export type RewriteKind = (typeof REWRITE_KINDS)[number];

/** VS Code language ids the generator covers. */
export type RewriteLanguage = 'typescript' | 'javascript' | 'python' | 'go' | 'rust';

export interface RewriteExample {
  kind: RewriteKind;
  language: RewriteLanguage;
  /** What a user would type into Rewrite Selection. */
  instruction: string;
  /** The selected text, exactly as it appears in the source at [start, end). */
  selection: string;
  /** The exact expected replacement of the selection. */
  output: string;
  /** Character offsets of the selection in the source file. */
  start: number;
  end: number;
}

/** A seeded random source, so the same corpus gives the same data on every run. */
export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  pick<T>(items: readonly T[]): T;
}

export function makeRng(seed: number): Rng {
  let s = seed >>> 0 || 1;
  const next = (): number => {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    return s / 4294967296;
  };
  const int = (n: number): number => Math.floor(next() * n);
  return { next, int, pick: (items) => items[int(items.length)]! };
}

/** One language's generator: every example it can make from one file (the driver samples among them). */
export interface LanguageRewrites {
  language: RewriteLanguage;
  generate(source: string, tree: Tree, rng: Rng): RewriteExample[];
}

/** Selections the fine-tune can hold: a function or block of at most this many lines and characters. */
export const MAX_SELECTION_LINES = 40;
export const MAX_SELECTION_CHARS = 1600;

export function fitsSelection(text: string): boolean {
  return text.length <= MAX_SELECTION_CHARS && text.split('\n').length <= MAX_SELECTION_LINES;
}

/** Every node of a subtree, depth first, in source order. */
export function* descendants(node: Node): Generator<Node> {
  yield node;
  for (const child of node.children) if (child) yield* descendants(child);
}

/** The selection of a node: whole lines, from the start of its first line (indentation included) to its end. */
export function lineSelection(source: string, node: Node): { start: number; end: number; text: string } {
  const start = source.lastIndexOf('\n', node.startIndex - 1) + 1;
  const end = node.endIndex;
  return { start, end, text: source.slice(start, end) };
}
