// Python rewrite examples: seven mechanical edits ('const' has no Python counterpart) made from one parsed file.
// Every output follows one canonical form per (kind, instruction), so the fine-tune learns a single answer.
import type { Node, Tree } from 'web-tree-sitter';
import {
  descendants, fitsSelection, lineSelection,
  type LanguageRewrites, type RewriteExample, type RewriteKind, type Rng,
} from './types';
import { indentationAt, lineEnd, lineStart, occurrences, shuffled } from './edits';

/** The driver samples among these; more per file would over-weight long files. */
const MAX_PER_KIND = 4;

const RENAME_POOL = [
  'value', 'item', 'result', 'entry', 'record', 'payload', 'current', 'node', 'text', 'index',
  'data', 'element', 'target', 'source', 'buffer', 'state', 'options', 'config', 'handle', 'chunk',
];
const RENAME_PREFIXES = ['total', 'current', 'new', 'local', 'raw', 'next', 'first', 'parsed'];
const PARAMETER_POOL = ['timeout', 'verbose', 'encoding', 'context', 'retries', 'strict', 'callback', 'options'];
const STRING_POOL = [
  'latin-1', 'default', 'error', 'unknown', 'missing', 'pending', 'active', 'result', 'output', 'config',
  'value', 'name', 'ready', 'closed', 'ascii', 'utf-16', 'warning', 'done', 'empty', 'invalid',
];

/** Calls to these are not helpers one would thread a new parameter through. */
const BUILTINS = new Set([
  'abs', 'all', 'any', 'ascii', 'bin', 'bool', 'breakpoint', 'bytearray', 'bytes', 'callable', 'chr', 'classmethod',
  'compile', 'complex', 'delattr', 'dict', 'dir', 'divmod', 'enumerate', 'eval', 'exec', 'filter', 'float', 'format',
  'frozenset', 'getattr', 'globals', 'hasattr', 'hash', 'help', 'hex', 'id', 'input', 'int', 'isinstance',
  'issubclass', 'iter', 'len', 'list', 'locals', 'map', 'max', 'memoryview', 'min', 'next', 'object', 'oct', 'open',
  'ord', 'pow', 'print', 'property', 'range', 'repr', 'reversed', 'round', 'set', 'setattr', 'slice', 'sorted',
  'staticmethod', 'str', 'sum', 'super', 'tuple', 'type', 'vars', 'zip', '__import__',
]);

/** Nodes that open a new Python scope (a comprehension's targets do not leak into the function). */
const SCOPE_TYPES = new Set([
  'function_definition', 'lambda', 'class_definition',
  'list_comprehension', 'set_comprehension', 'dictionary_comprehension', 'generator_expression',
]);

/** Containers an assignment target can sit in (`a, (b, c) = ...`, `for *rest in ...`). */
const TARGET_PATTERNS = new Set(['pattern_list', 'tuple_pattern', 'list_pattern', 'list_splat_pattern']);

// ---- small tree and text helpers -------------------------------------------------------------------------------

function kids(node: Node): Node[] {
  return node.children.filter((c): c is Node => c !== null);
}

function namedKids(node: Node): Node[] {
  return node.namedChildren.filter((c): c is Node => c !== null && c.type !== 'comment');
}

function sameNode(a: Node | null | undefined, b: Node): boolean {
  return !!a && a.startIndex === b.startIndex && a.endIndex === b.endIndex && a.type === b.type;
}

function isField(parent: Node, field: string, child: Node): boolean {
  return sameNode(parent.childForFieldName(field), child);
}

/** Whether the node is the first thing on its line (only indentation before it). */
function startsLine(source: string, node: Node): boolean {
  return source.slice(lineStart(source, node.startIndex), node.startIndex).trim() === '';
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Offsets of `word` in text as a whole identifier (not part of a longer name). */
function wordOffsets(text: string, word: string): number[] {
  const re = new RegExp(`(?<![A-Za-z0-9_])${escapeRegExp(word)}(?![A-Za-z0-9_])`, 'g');
  return [...text.matchAll(re)].map((m) => m.index!);
}

/** Replaces [from, to) ranges (offsets into text); the ranges must not overlap. */
function applyEdits(text: string, edits: { from: number; to: number; insert: string }[]): string {
  let out = text;
  for (const e of [...edits].sort((a, b) => b.from - a.from)) out = out.slice(0, e.from) + e.insert + out.slice(e.to);
  return out;
}

/**
 * The file's indent unit: the smallest positive step from a block header's indentation to its body's.
 * Tabs when the file indents with tabs; four spaces when nothing is indented.
 */
export function detectIndentUnit(source: string, tree: Tree): string {
  let unit: string | undefined;
  for (const node of descendants(tree.rootNode)) {
    if (node.type !== 'block' || !node.parent || node.startPosition.row <= node.parent.startPosition.row) continue;
    const header = indentationAt(source, node.parent.startIndex);
    const body = indentationAt(source, node.startIndex);
    if (!body.startsWith(header) || body.length <= header.length) continue;
    const step = body.slice(header.length);
    if (unit === undefined || step.length < unit.length) unit = step;
  }
  if (unit === undefined) return '    ';
  return unit.includes('\t') ? '\t' : unit;
}

// ---- function selections --------------------------------------------------------------------------------------

interface FunctionSite {
  node: Node;
  name: string;
  body: Node;
  /** Selection offsets in the source and its text. */
  start: number;
  end: number;
  text: string;
  /** The body's statements, comments left out. */
  statements: Node[];
  docstring: Node | undefined;
}

function isDocstringStatement(node: Node): boolean {
  if (node.type !== 'expression_statement') return false;
  const inner = namedKids(node);
  return inner.length === 1 && inner[0]!.type === 'string';
}

/** Top-level functions and methods (of top-level or nested classes), whose body starts on its own line. */
function functionSites(source: string, tree: Tree): FunctionSite[] {
  const sites: FunctionSite[] = [];
  for (const node of descendants(tree.rootNode)) {
    if (node.type !== 'function_definition' || node.hasError) continue;
    let owner = node.parent;
    if (owner?.type === 'decorated_definition') owner = owner.parent;
    const topLevel = owner?.type === 'module';
    const method = owner?.type === 'block' && owner.parent?.type === 'class_definition';
    if (!topLevel && !method) continue;
    const name = node.childForFieldName('name')?.text;
    const body = node.childForFieldName('body');
    if (!name || !body || body.endIndex !== node.endIndex || !startsLine(source, node)) continue;
    const statements = namedKids(body);
    if (statements.length === 0 || statements[0]!.startPosition.row <= node.startPosition.row) continue;
    if (!statements.every((s) => startsLine(source, s))) continue;
    const selection = lineSelection(source, node);
    if (!fitsSelection(selection.text)) continue;
    sites.push({
      node, name, body, ...selection, statements,
      docstring: isDocstringStatement(statements[0]!) ? statements[0] : undefined,
    });
  }
  return sites;
}

function example(
  kind: RewriteKind, instruction: string, sel: { start: number; end: number; text: string }, output: string,
): RewriteExample {
  return { kind, language: 'python', instruction, selection: sel.text, output, start: sel.start, end: sel.end };
}

// ---- rename ---------------------------------------------------------------------------------------------------

/** The nearest enclosing scope node of a node (the node itself does not count). */
function scopeOf(node: Node): Node | null {
  for (let p = node.parent; p; p = p.parent) if (SCOPE_TYPES.has(p.type)) return p;
  return null;
}

/** Whether an identifier is a name being bound (assigned, a parameter, a loop or `as` target, declared). */
function isBindingIdentifier(id: Node): boolean {
  let child = id;
  let parent = id.parent;
  while (parent && TARGET_PATTERNS.has(parent.type)) {
    child = parent;
    parent = parent.parent;
  }
  if (!parent) return false;
  switch (parent.type) {
    case 'parameters': case 'lambda_parameters': case 'as_pattern_target': case 'dictionary_splat_pattern':
    case 'global_statement': case 'nonlocal_statement':
      return true;
    case 'default_parameter': case 'typed_default_parameter': case 'named_expression':
      return isField(parent, 'name', child);
    case 'typed_parameter':
      return !isField(parent, 'type', child);
    case 'assignment': case 'augmented_assignment': case 'for_statement': case 'for_in_clause':
      return isField(parent, 'left', child);
    default:
      return false;
  }
}

/** Identifier occurrences of a name that are not references to a variable: `obj.name` and `f(name=...)`. */
function isMemberOrKeyword(id: Node): boolean {
  const parent = id.parent;
  if (!parent) return false;
  if (parent.type === 'attribute') return isField(parent, 'attribute', id);
  if (parent.type === 'keyword_argument') return isField(parent, 'name', id);
  return false;
}

function insideType(node: Node, types: ReadonlySet<string>, stop: Node): boolean {
  for (let p = node.parent; p && !sameNode(p, stop); p = p.parent) if (types.has(p.type)) return true;
  return false;
}

const STRING_TYPES = new Set(['string']);
const IMPORT_TYPES = new Set(['dotted_name', 'aliased_import', 'import_statement', 'import_from_statement']);
const PATTERN_MATCH_TYPES = new Set(['case_clause', 'case_pattern']);

/**
 * The identifier nodes to rename when `name` is a local binding of the function, or undefined when renaming it
 * cannot be done by renaming identifiers alone (shadowed, declared global, in a string, an import, a comment...).
 */
function renameTargets(site: FunctionSite, name: string): Node[] | undefined {
  const fn = site.node;
  const params = fn.childForFieldName('parameters');
  const returnType = fn.childForFieldName('return_type');
  const targets: Node[] = [];
  const accounted = new Set<number>();
  for (const node of descendants(fn)) {
    if (node.type !== 'identifier' || node.text !== name) continue;
    accounted.add(node.startIndex - site.start);
    if (isMemberOrKeyword(node)) continue;
    const parent = node.parent;
    if (!parent) return undefined;
    if (sameNode(fn.childForFieldName('name'), node)) return undefined;
    if ((parent.type === 'function_definition' || parent.type === 'class_definition') && isField(parent, 'name', node)) {
      return undefined;
    }
    if (insideType(node, STRING_TYPES, fn) || insideType(node, IMPORT_TYPES, fn)) return undefined;
    if (insideType(node, PATTERN_MATCH_TYPES, fn)) return undefined;
    if (parent.type === 'global_statement' || parent.type === 'nonlocal_statement') return undefined;
    if (returnType && node.startIndex >= returnType.startIndex && node.endIndex <= returnType.endIndex) return undefined;
    const binding = isBindingIdentifier(node);
    const scope = scopeOf(node);
    const ownScope = sameNode(scope, fn);
    if (binding && !ownScope) return undefined; // a nested scope rebinds the name
    // Inside the function's own parameter list only the parameter itself is this binding: defaults and
    // annotations are evaluated in the enclosing scope.
    if (params && node.startIndex >= params.startIndex && node.endIndex <= params.endIndex && !binding) return undefined;
    targets.push(node);
  }
  // Every textual occurrence must be an identifier seen above (not in a comment or string content).
  for (const offset of wordOffsets(site.text, name)) if (!accounted.has(offset)) return undefined;
  return targets.length > 0 ? targets : undefined;
}

/** Parameters and assigned names of the function's own scope, in order of first appearance. */
function localBindings(site: FunctionSite): string[] {
  const names: string[] = [];
  for (const node of descendants(site.node)) {
    if (node.type !== 'identifier' || !isBindingIdentifier(node) || !sameNode(scopeOf(node), site.node)) continue;
    const parent = node.parent!;
    if (parent.type === 'global_statement' || parent.type === 'nonlocal_statement') continue;
    if (node.text === 'self' || node.text === 'cls' || node.text === '_' || names.includes(node.text)) continue;
    names.push(node.text);
  }
  return names;
}

function newName(old: string, selection: string, rng: Rng): string | undefined {
  const stem = old.replace(/^_+/, '');
  const derived = stem && /^[a-z][a-z0-9_]*$/.test(stem) && !stem.includes('__')
    ? RENAME_PREFIXES.map((p) => `${p}_${stem}`) : [];
  const pool = rng.next() < 0.5 && derived.length > 0 ? derived : RENAME_POOL;
  const free = pool.filter((n) => n !== old && wordOffsets(selection, n).length === 0);
  return free.length > 0 ? rng.pick(free) : undefined;
}

function renameExamples(sites: FunctionSite[], rng: Rng): RewriteExample[] {
  const out: RewriteExample[] = [];
  for (const site of sites) {
    for (const old of localBindings(site)) {
      const targets = renameTargets(site, old);
      if (!targets) continue;
      const name = newName(old, site.text, rng);
      if (!name) continue;
      const output = applyEdits(site.text, targets.map((t) => ({
        from: t.startIndex - site.start, to: t.endIndex - site.start, insert: name,
      })));
      out.push(example('rename', `Rename ${old} to ${name}`, site, output));
    }
  }
  return out;
}

// ---- add-parameter --------------------------------------------------------------------------------------------

/**
 * The edit that appends `item` to a parenthesised list (parameters or call arguments). One item per line stays
 * one item per line (the new item under the last, same indentation); otherwise `, item` after the last item.
 */
function appendToList(source: string, list: Node, item: string): { at: number; insert: string } | undefined {
  const open = kids(list)[0];
  if (!open || open.type !== '(') return undefined;
  const items = namedKids(list);
  if (items.length === 0) return { at: open.endIndex, insert: item };
  const last = items[items.length - 1]!;
  const rows = items.map((i) => i.startPosition.row);
  const onePerLine = last.startPosition.row > open.startPosition.row && new Set(rows).size === rows.length
    && items.every((i) => startsLine(source, i));
  return onePerLine
    ? { at: last.endIndex, insert: `,\n${indentationAt(source, last.startIndex)}${item}` }
    : { at: last.endIndex, insert: `, ${item}` };
}

const VARIADIC_PARAMETERS = new Set(['list_splat_pattern', 'dictionary_splat_pattern', 'keyword_separator']);

/** The first call in the body (outside nested scopes) to a plain helper name with a parenthesised argument list. */
function firstHelperCall(site: FunctionSite): Node | undefined {
  for (const node of descendants(site.body)) {
    if (node.type !== 'call') continue;
    const callee = node.childForFieldName('function');
    const args = node.childForFieldName('arguments');
    if (!callee || callee.type !== 'identifier' || !args || args.type !== 'argument_list') continue;
    if (BUILTINS.has(callee.text) || /^[A-Z]/.test(callee.text)) continue;
    if (!sameNode(scopeOf(node), site.node)) continue;
    if (kids(args).some((c) => c.type === 'comment')) continue;
    return node;
  }
  return undefined;
}

function addParameterExamples(source: string, sites: FunctionSite[], rng: Rng): RewriteExample[] {
  const out: RewriteExample[] = [];
  for (const site of sites) {
    const params = site.node.childForFieldName('parameters');
    if (!params || kids(params).some((c) => c.type === 'comment')) continue;
    if ([...descendants(params)].some((n) => VARIADIC_PARAMETERS.has(n.type))) continue;
    const call = firstHelperCall(site);
    if (!call) continue;
    const free = PARAMETER_POOL.filter((n) => wordOffsets(site.text, n).length === 0);
    if (free.length === 0) continue;
    const name = rng.pick(free);
    const paramEdit = appendToList(source, params, `${name}=None`);
    const argEdit = appendToList(source, call.childForFieldName('arguments')!, `${name}=${name}`);
    if (!paramEdit || !argEdit) continue;
    const output = applyEdits(site.text, [paramEdit, argEdit].map((e) => ({
      from: e.at - site.start, to: e.at - site.start, insert: e.insert,
    })));
    const callee = call.childForFieldName('function')!.text;
    out.push(example('add-parameter', `Add a parameter ${name} and pass it to ${callee}`, site, output));
  }
  return out;
}

// ---- change-literal -------------------------------------------------------------------------------------------

function changedNumber(text: string, rng: Rng): string | undefined {
  if (/^(0|[1-9][0-9]*)$/.test(text)) {
    const value = Number(text);
    if (!Number.isSafeInteger(value * 2)) return undefined;
    if (value === 0) return '1';
    return String(rng.next() < 0.5 ? value * 2 : value + 1);
  }
  const float = /^([0-9]+)\.([0-9]+)$/.exec(text);
  if (float) {
    const decimals = float[2]!.length;
    const value = Number(text);
    const next = value === 0 ? 1 : value * 2;
    const out = next.toFixed(decimals);
    return out === text ? undefined : out;
  }
  return undefined;
}

function changedString(node: Node, rng: Rng): string | undefined {
  const parts = kids(node);
  const open = parts[0];
  const close = parts[parts.length - 1];
  if (!open || !close || open.type !== 'string_start' || close.type !== 'string_end') return undefined;
  if (/[fF]/.test(open.text) || /"""|'''/.test(open.text) || node.text.includes('\n')) return undefined;
  if (parts.some((p) => p.type === 'interpolation')) return undefined;
  const content = node.text.slice(open.text.length, node.text.length - close.text.length);
  const word = rng.pick(STRING_POOL.filter((w) => w !== content));
  return `${open.text}${word}${close.text}`;
}

function changeLiteralExamples(sites: FunctionSite[], rng: Rng): RewriteExample[] {
  const out: RewriteExample[] = [];
  for (const site of sites) {
    for (const node of descendants(site.body)) {
      let replacement: string | undefined;
      if (node.type === 'integer' || node.type === 'float') {
        if (occurrences(site.text, node.text) !== 1) continue;
        replacement = changedNumber(node.text, rng);
      } else if (node.type === 'string') {
        if (node.parent && isDocstringStatement(node.parent)) continue;
        if (node.parent?.type === 'interpolation' || insideType(node, STRING_TYPES, site.node)) continue;
        if (occurrences(site.text, node.text) !== 1) continue;
        replacement = changedString(node, rng);
      } else continue;
      if (!replacement || replacement === node.text) continue;
      const output = applyEdits(site.text, [{
        from: node.startIndex - site.start, to: node.endIndex - site.start, insert: replacement,
      }]);
      out.push(example('change-literal', `Change ${node.text} to ${replacement}`, site, output));
    }
  }
  return out;
}

// ---- log-entry and try-catch ----------------------------------------------------------------------------------

function logEntryExamples(source: string, sites: FunctionSite[]): RewriteExample[] {
  const out: RewriteExample[] = [];
  for (const site of sites) {
    const line = `print("${site.name} called")`;
    let edit: { at: number; insert: string };
    if (site.docstring) {
      const doc = site.docstring;
      if (source.slice(doc.endIndex, lineEnd(source, doc.endIndex)).trim() !== '') continue;
      edit = { at: doc.endIndex, insert: `\n${indentationAt(source, doc.startIndex)}${line}` };
    } else {
      const first = site.statements[0]!;
      edit = { at: lineStart(source, first.startIndex), insert: `${indentationAt(source, first.startIndex)}${line}\n` };
    }
    const output = applyEdits(site.text, [{ from: edit.at - site.start, to: edit.at - site.start, insert: edit.insert }]);
    out.push(example('log-entry', `Log when ${site.name} is called`, site, output));
  }
  return out;
}

/** Indents every line of [from, to) by unit, except blank lines and lines that continue a multi-line string. */
function indentRegion(source: string, from: number, to: number, unit: string, strings: Node[]): string {
  const lines = source.slice(from, to).split('\n');
  let offset = from;
  return lines.map((text) => {
    const lineStart = offset;
    offset += text.length + 1;
    if (text.trim() === '') return text;
    if (strings.some((s) => s.startIndex < lineStart && lineStart < s.endIndex)) return text;
    return unit + text;
  }).join('\n');
}

function tryCatchExamples(source: string, sites: FunctionSite[], unit: string): RewriteExample[] {
  const out: RewriteExample[] = [];
  for (const site of sites) {
    const body = site.docstring ? site.statements.slice(1) : site.statements;
    if (body.length === 0 || body.every((s) => s.type === 'pass_statement')) continue;
    // The region runs from the line after the header (or docstring) so comments above the first statement
    // move into the try block with it.
    let from: number;
    if (site.docstring) {
      const end = lineEnd(source, site.docstring.endIndex);
      if (source.slice(site.docstring.endIndex, end).trim() !== '') continue;
      from = end + 1;
    } else {
      const colon = kids(site.node).find((c) => c.type === ':' && c.startIndex < site.body.startIndex);
      if (!colon) continue;
      const end = lineEnd(source, colon.endIndex);
      if (!/^\s*(#.*)?$/.test(source.slice(colon.endIndex, end))) continue;
      from = end + 1;
    }
    const to = site.end;
    if (from >= to) continue;
    const indent = indentationAt(source, body[0]!.startIndex);
    const strings = [...descendants(site.body)].filter((n) => n.type === 'string' && n.text.includes('\n'));
    const wrapped = `${indent}try:\n${indentRegion(source, from, to, unit, strings)}\n`
      + `${indent}except Exception as err:\n${indent}${unit}print(err)\n${indent}${unit}raise`;
    const output = site.text.slice(0, from - site.start) + wrapped;
    out.push(example('try-catch', `Wrap the body of ${site.name} in try/except`, site, output));
  }
  return out;
}

// ---- delete-statement -----------------------------------------------------------------------------------------

function deleteStatementExamples(source: string, sites: FunctionSite[]): RewriteExample[] {
  const out: RewriteExample[] = [];
  for (const site of sites) {
    for (const block of descendants(site.body)) {
      if (block.type !== 'block') continue;
      const statements = namedKids(block);
      if (statements.length < 2) continue;
      for (const statement of statements) {
        if (statement.type !== 'expression_statement' || isDocstringStatement(statement)) continue;
        if (statement.startPosition.row !== statement.endPosition.row) continue;
        const first = lineStart(source, statement.startIndex);
        const last = lineEnd(source, statement.startIndex);
        const stripped = source.slice(first, last).trim();
        if (stripped !== statement.text || occurrences(site.text, stripped) !== 1) continue;
        const from = first - site.start;
        const to = last - site.start;
        // The whole line goes with its newline; the selection's last line takes the newline before it instead.
        const output = to < site.text.length
          ? site.text.slice(0, from) + site.text.slice(to + 1)
          : site.text.slice(0, from - 1);
        out.push(example('delete-statement', `Delete the line ${stripped}`, site, output));
      }
    }
  }
  return out;
}

// ---- sort-imports ---------------------------------------------------------------------------------------------

/** Python's default `sorted()` order of strings (code point order; UTF-16 differs only past the BMP). */
function byCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function sortImportExamples(source: string, tree: Tree): RewriteExample[] {
  const out: RewriteExample[] = [];
  const runs: Node[][] = [];
  let run: Node[] = [];
  for (const node of namedKids(tree.rootNode)) {
    const simple = (node.type === 'import_statement' || node.type === 'import_from_statement')
      && node.startPosition.row === node.endPosition.row && node.startPosition.column === 0
      && source.slice(node.startIndex, lineEnd(source, node.startIndex)) === node.text
      && !/^from\s+__future__\b/.test(node.text);
    const previous = run[run.length - 1];
    if (simple && previous && node.startPosition.row === previous.startPosition.row + 1) {
      run.push(node);
    } else {
      if (run.length > 0) runs.push(run);
      run = simple ? [node] : [];
    }
  }
  if (run.length > 0) runs.push(run);
  // Comments are extras, not statements: a comment line between two imports breaks the row adjacency above.
  for (const group of runs) {
    if (group.length < 3) continue;
    const lines = group.map((n) => n.text);
    const sorted = [...lines].sort(byCodePoint);
    if (sorted.every((line, i) => line === lines[i])) continue;
    const start = group[0]!.startIndex;
    const end = group[group.length - 1]!.endIndex;
    const text = source.slice(start, end);
    if (!fitsSelection(text)) continue;
    out.push(example('sort-imports', 'Sort the imports', { start, end, text }, sorted.join('\n')));
  }
  return out;
}

// ---- the language module --------------------------------------------------------------------------------------

export const pythonRewrites: LanguageRewrites = {
  language: 'python',
  generate(source: string, tree: Tree, rng: Rng): RewriteExample[] {
    // CRLF files would need every line rule twice; the corpus is LF, so they are left out.
    if (tree.rootNode.hasError || source.includes('\r')) return [];
    const unit = detectIndentUnit(source, tree);
    const sites = functionSites(source, tree);
    const perKind: RewriteExample[][] = [
      renameExamples(sites, rng),
      addParameterExamples(source, sites, rng),
      changeLiteralExamples(sites, rng),
      logEntryExamples(source, sites),
      tryCatchExamples(source, sites, unit),
      deleteStatementExamples(source, sites),
      sortImportExamples(source, tree),
    ];
    return perKind.flatMap((examples) => shuffled(examples, rng).slice(0, MAX_PER_KIND));
  },
};
