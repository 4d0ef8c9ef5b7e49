// The syntax-aware stop rule for inline completions (tree-sitter): a multi-line completion ends at the end of the
// block or statement that the cursor is in.
//
// Modes, decided from the text around the cursor:
// - text after the cursor on its line: a single-line completion, cut at the first newline;
// - the cursor line has code before the cursor that is not a finished statement: cut at the end of that statement
//   (the child of the innermost block that holds it, e.g. the whole `function` when the cursor follows its `{`);
// - otherwise (blank line, or after a finished statement): cut at the end of the enclosing block; at top level,
//   at the end of the first declaration the completion writes.
// A cut is only reported once the completion has gone on past it with more code, so the node is known to be finished.
// The CommonJS build, also once bundled: the ES build needs import.meta.url, which a CommonJS bundle lacks.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- see above: the ES build cannot be bundled as CommonJS
import TreeSitter = require('web-tree-sitter');
import { grammarWasmPath, runtimeWasmPath } from './wasmPaths';

const { Edit, Language, Parser } = TreeSitter;
type Language = TreeSitter.Language;
type Parser = TreeSitter.Parser;
type Node = TreeSitter.Node;
type Tree = TreeSitter.Tree;

export type BlockEndRule = (completion: string) => number;

/** Nodes whose children are statements or members (the "blocks"). Statement lists (Go) are looked through. */
const CONTAINERS = new Set([
  'program', 'module', 'source_file', 'translation_unit', 'compilation_unit',
  'statement_block', 'class_body', 'switch_body', 'enum_body', 'interface_body', 'object_type',
  'block', 'declaration_list', 'field_declaration_list', 'match_block', 'compound_statement',
  'constructor_body', 'do_block', 'body_statement',
]);
const TOP_LEVEL = new Set(['program', 'module', 'source_file', 'translation_unit', 'compilation_unit']);
const TRANSPARENT = new Set(['statement_list']);

/** Keep at most this much of the prefix (cut at a line start); enough for the enclosing declarations. */
const MAX_PREFIX_CHARS = 60_000;
const MAX_SUFFIX_CHARS = 2_000;

let initialized: Promise<void> | undefined;
const languages = new Map<string, Promise<Language>>();
const parsers = new Map<string, Parser>();

function init(): Promise<void> {
  initialized ??= (async () => {
    const runtime = runtimeWasmPath();
    if (!runtime) throw new Error('web-tree-sitter.wasm not found (set PRESAGE_TREE_SITTER_DIR)');
    await Parser.init({ locateFile: () => runtime });
  })();
  return initialized;
}

/** The shared parser for a VS Code language id (undefined when there is no grammar). */
export async function parserFor(language: string): Promise<Parser | undefined> {
  const file = grammarWasmPath(language);
  if (!file) return undefined;
  await init();
  let lang = languages.get(file);
  if (!lang) {
    lang = Language.load(file);
    languages.set(file, lang);
    lang.catch(() => languages.delete(file));
  }
  const loaded = await lang;
  let parser = parsers.get(file);
  if (!parser) {
    parser = new Parser();
    parser.setLanguage(loaded);
    parsers.set(file, parser);
  }
  return parser;
}

/** Base trees are freed when their rule is garbage collected (the wasm heap is not). */
const baseTrees = new FinalizationRegistry<Tree>((tree) => tree.delete());

function endPoint(text: string): { row: number; column: number } {
  let row = 0;
  let last = -1;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) {
    row++;
    last = i;
  }
  return { row, column: text.length - last - 1 };
}

function isBlank(s: string): boolean {
  return s.trim().length === 0;
}

function isContainer(node: Node): boolean {
  return CONTAINERS.has(node.type);
}

/** The nearest ancestor of `node` (or itself) whose parent is a block; with that block. */
function statementOf(node: Node): { statement: Node; container: Node } | undefined {
  let current: Node | null = node;
  while (current) {
    let parent: Node | null = current.parent;
    while (parent && TRANSPARENT.has(parent.type)) parent = parent.parent;
    if (!parent) return undefined;
    if (isContainer(parent)) return { statement: current, container: parent };
    current = parent;
  }
  return undefined;
}

/** Where the block ends; before its closing token when the suffix already supplies that token. */
function blockCut(block: Node, suffix: string): number {
  const last = block.lastChild;
  if (last && !last.isNamed && last.text.length > 0 && suffix.trimStart().startsWith(last.text)) {
    const before = last.previousSibling;
    return before ? before.endIndex : last.startIndex;
  }
  return block.endIndex;
}

function firstNonBlank(text: string, from: number): number {
  for (let i = from; i < text.length; i++) if (!/\s/.test(text[i]!)) return i;
  return -1;
}

function lastNonBlank(text: string, before: number): number {
  for (let i = before - 1; i >= 0; i--) if (!/\s/.test(text[i]!)) return i;
  return -1;
}

/** The cut (offset in the full text) for one parse, or -1. */
function cutIn(root: Node, text: string, cursor: number, limit: number, suffix: string): number {
  const lineStart = text.lastIndexOf('\n', cursor - 1) + 1;
  const codeBefore = !isBlank(text.slice(lineStart, cursor));
  const firstCode = firstNonBlank(text, cursor);
  if (firstCode < 0 || firstCode >= limit) return -1;

  let target: Node | undefined;
  let block: Node | undefined;
  if (codeBefore) {
    const at = root.descendantForIndex(lastNonBlank(text, cursor));
    const found = at ? statementOf(at) : undefined;
    if (found && found.statement.endIndex > cursor) target = found.statement;
  }
  if (!target) {
    const at = root.descendantForIndex(firstCode);
    const found = at ? statementOf(at) : undefined;
    if (!found) return -1;
    // A block the completion opened itself? Blocks without an opening token (Python) start at their first
    // statement: look at their owner instead.
    const c = found.container;
    const opener = c.firstChild && !c.firstChild.isNamed ? c : (c.parent ?? c);
    if (TOP_LEVEL.has(found.container.type) || opener.startIndex >= cursor) target = found.statement;
    else block = found.container;
  }
  const node = (target ?? block)!;
  if (!node.isNamed || node.type === 'ERROR' || node.hasError || node.isMissing) return -1;
  const end = block ? blockCut(block, suffix) : node.endIndex;
  if (end <= cursor || end > limit) return -1;
  // Finished only when the completion goes on with more code after it.
  const next = firstNonBlank(text, end);
  return next >= 0 && next < limit ? end : -1;
}

/**
 * A stop rule for completions inserted between `prefix` and `suffix`: returns the index in the completion where it
 * should be cut, or -1 to go on. Resolves to undefined for languages without a grammar.
 */
export async function createBlockEndRule(language: string, prefix: string, suffix: string): Promise<BlockEndRule | undefined> {
  const parser = await parserFor(language);
  if (!parser) return undefined;
  const newline = suffix.indexOf('\n');
  if (!isBlank(newline >= 0 ? suffix.slice(0, newline) : suffix)) {
    // Text after the cursor on its line: complete that line only.
    return (completion) => completion.indexOf('\n');
  }
  let head = prefix;
  if (head.length > MAX_PREFIX_CHARS) {
    const from = head.indexOf('\n', head.length - MAX_PREFIX_CHARS);
    head = from >= 0 ? head.slice(from + 1) : head.slice(head.length - MAX_PREFIX_CHARS);
  }
  // The suffix is parsed too: it closes the blocks that enclose the cursor.
  let tail = suffix;
  if (tail.length > MAX_SUFFIX_CHARS) {
    const to = tail.lastIndexOf('\n', MAX_SUFFIX_CHARS);
    tail = tail.slice(0, to >= 0 ? to : MAX_SUFFIX_CHARS);
  }
  const cursor = head.length;
  const base = parser.parse(head + tail);
  if (!base) return undefined;
  const start = endPoint(head);
  const rule: BlockEndRule = (completion) => {
    // Every cut needs code after a finished node; on the cursor's own line that is not worth a parse.
    if (completion.indexOf('\n') < 0) return -1;
    const text = head + completion + tail;
    const edited = base.copy();
    const added = endPoint(completion);
    edited.edit(new Edit({
      startIndex: cursor, oldEndIndex: cursor, newEndIndex: cursor + completion.length,
      startPosition: start, oldEndPosition: start,
      newEndPosition: added.row === 0 ? { row: start.row, column: start.column + added.column } : { row: start.row + added.row, column: added.column },
    }));
    const tree = parser.parse(text, edited);
    edited.delete();
    if (!tree) return -1;
    try {
      const cut = cutIn(tree.rootNode, text, cursor, cursor + completion.length, tail);
      return cut < 0 ? -1 : cut - cursor;
    } finally {
      tree.delete();
    }
  };
  baseTrees.register(rule, base);
  return rule;
}
