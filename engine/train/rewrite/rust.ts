// Rust rewrite examples: rename a binding, add a parameter, change a literal, log at entry, delete a statement and
// sort a run of `use` lines, each made from one parsed Rust source file by tree-sitter.
import type { Node, Tree } from 'web-tree-sitter';
import {
  descendants, fitsSelection, lineSelection,
  type LanguageRewrites, type RewriteExample, type RewriteKind, type Rng,
} from './types';
import { appendToList, edited, indentationAt, isComment, lineEnd, lineStart, occurrences, ordinal, shuffled, type Selection } from './edits';

/** The driver samples further; more than this per kind per file would let one big file dominate. */
const MAX_PER_KIND = 4;

const RENAME_POOL = [
  'value', 'item', 'result', 'entry', 'record', 'payload', 'current', 'node', 'text', 'index', 'total', 'buf',
  'count', 'offset', 'elem', 'key', 'val', 'data', 'input', 'output', 'target', 'source', 'prev', 'size',
  'width', 'pos', 'acc', 'tmp', 'next_item', 'line_count', 'byte_len', 'start_pos', 'end_pos', 'cur_node',
] as const;

const PARAMETER_POOL = [
  { name: 'verbose', type: 'bool' },
  { name: 'limit', type: 'usize' },
  { name: 'name', type: '&str' },
  { name: 'strict', type: 'bool' },
  { name: 'timeout', type: 'Duration' },
] as const;

const STRING_POOL = [
  'default', 'latin-1', 'config', 'output', 'pending', 'ready', 'localhost', 'debug', 'info', 'warning', 'json',
  'admin', 'none', 'example', 'primary', 'backup', 'unknown', 'main', 'status', 'enabled',
] as const;

/** Largest value of each integer suffix that a doubled literal could overflow. */
const SUFFIX_MAX: Readonly<Record<string, number>> = { u8: 255, i8: 127, u16: 65535, i16: 32767 };

const STRING_LITERALS = new Set(['string_literal', 'raw_string_literal']);

/** A list ending in an attribute or `...` takes no item after it. */
const UNEXTENDABLE: ReadonlySet<string> = new Set(['attribute_item', 'variadic_parameter']);

/** Patterns that bind the identifiers inside them (`(a, b)`, `Some(x)`, `ref mut x`, `x @ ..`). */
const PATTERN_NODES = new Set([
  'tuple_pattern', 'tuple_struct_pattern', 'struct_pattern', 'field_pattern', 'ref_pattern', 'mut_pattern',
  'slice_pattern', 'or_pattern', 'captured_pattern', 'reference_pattern', 'remaining_field_pattern',
]);

/** In a macro's token tree these neighbours make an identifier a path segment, field, key or macro name. */
const AMBIGUOUS_BEFORE = new Set(['.', '::', '$']);
const AMBIGUOUS_AFTER = new Set(['::', '!', ':', '=']);

function hasWord(text: string, word: string): boolean {
  return new RegExp(`(?<!\\w)${word.replace(/[^\w]/g, '\\$&')}(?!\\w)`).test(text);
}

function hasAncestor(node: Node, types: ReadonlySet<string>, stop: Node): boolean {
  for (let p = node.parent; p && p.id !== stop.id; p = p.parent) if (types.has(p.type)) return true;
  return false;
}

/** Whether this identifier is bound by a pattern (let, parameter, closure, for, match, if/while let) or names an item. */
function isDeclaration(id: Node): boolean {
  let child = id;
  for (let parent = id.parent; parent; child = parent, parent = parent.parent) {
    if (parent.type === 'closure_parameters' || parent.type === 'match_pattern') return true;
    if (parent.childForFieldName('pattern')?.id === child.id) return true;
    if (child.id === id.id && ['function_item', 'const_item', 'static_item'].includes(parent.type)) {
      return parent.childForFieldName('name')?.id === id.id;
    }
    if (!PATTERN_NODES.has(parent.type)) return false;
  }
  return false;
}

/** Identifiers with this name that are not references to a local: path segments, labels, macro names, attributes. */
function isReference(id: Node, fn: Node): boolean {
  const parent = id.parent;
  if (!parent) return false;
  if (['scoped_identifier', 'scoped_type_identifier', 'lifetime', 'label', 'use_list'].includes(parent.type)) return false;
  if (parent.type === 'macro_invocation' && parent.childForFieldName('macro')?.id === id.id) return false;
  return !hasAncestor(id, new Set(['attribute_item', 'inner_attribute_item']), fn);
}

/** A use inside a macro's token tree whose role tree-sitter cannot tell (`.x`, `x::`, `x: 1`, `x = 1`, `$x`). */
function isAmbiguousInMacro(id: Node): boolean {
  if (id.parent?.type !== 'token_tree') return false;
  const before = id.previousSibling?.type;
  const after = id.nextSibling?.type;
  return (before !== undefined && AMBIGUOUS_BEFORE.has(before)) || (after !== undefined && AMBIGUOUS_AFTER.has(after));
}

interface Candidate {
  name: string;
  declaration: Node;
  /** References must lie in [from, to) for every identifier of this name to mean this binding. */
  from: number;
  to: number;
}

function renameCandidates(fn: Node): Candidate[] {
  const out: Candidate[] = [];
  const params = fn.childForFieldName('parameters');
  const body = fn.childForFieldName('body');
  if (!body) return out;
  for (const param of params?.namedChildren ?? []) {
    const pattern = param?.type === 'parameter' ? param.childForFieldName('pattern') : null;
    if (pattern?.type === 'identifier') out.push({ name: pattern.text, declaration: pattern, from: body.startIndex, to: body.endIndex });
  }
  for (const node of descendants(body)) {
    if (node.type !== 'let_declaration' || node.parent?.type !== 'block') continue;
    const pattern = node.childForFieldName('pattern');
    if (pattern?.type === 'identifier') {
      out.push({ name: pattern.text, declaration: pattern, from: node.endIndex, to: node.parent.endIndex });
    }
  }
  return out;
}

function renameExample(fn: Node, selection: Selection, rng: Rng): RewriteExample | undefined {
  const nodes = [...descendants(fn)];
  // Macro definitions bind `$x` names by their own rules.
  if (nodes.some((n) => n.type === 'macro_definition')) return undefined;
  const identifiers = nodes.filter((n) => n.type === 'identifier');
  const strings = nodes.filter((n) => STRING_LITERALS.has(n.type)).map((n) => n.text);
  const shorthand = new Set(nodes
    .filter((n) => n.type === 'shorthand_field_identifier' || n.parent?.type === 'shorthand_field_initializer')
    .map((n) => n.text));
  const usable = renameCandidates(fn).filter((c) => {
    if (c.name === '_' || c.name.startsWith('r#') || shorthand.has(c.name)) return false;
    const same = identifiers.filter((id) => id.text === c.name);
    if (same.filter(isDeclaration).length !== 1) return false;
    if (same.some(isAmbiguousInMacro)) return false;
    if (strings.some((s) => hasWord(s, c.name))) return false;
    const references = same.filter((id) => id.id !== c.declaration.id && isReference(id, fn));
    if (references.length === 0) return false;
    return references.every((id) => id.startIndex >= c.from && id.endIndex <= c.to);
  });
  if (usable.length === 0) return undefined;
  const chosen = rng.pick(usable);
  const fresh = RENAME_POOL.filter((name) => name !== chosen.name && !hasWord(selection.text, name));
  if (fresh.length === 0) return undefined;
  const newName = rng.pick(fresh);
  const edits = identifiers
    .filter((id) => id.text === chosen.name && (id.id === chosen.declaration.id || isReference(id, fn)))
    .map((id) => ({ start: id.startIndex, end: id.endIndex, text: newName }));
  return example('rename', `Rename ${chosen.name} to ${newName}`, selection, edited(selection, edits));
}

function addParameterExample(source: string, fn: Node, selection: Selection, rng: Rng): RewriteExample | undefined {
  const params = fn.childForFieldName('parameters');
  const body = fn.childForFieldName('body');
  if (!params || !body || params.text.includes('...')) return undefined;
  const fnName = fn.childForFieldName('name')?.text;
  const locals = new Set([...descendants(fn)].filter((n) => n.type === 'identifier' && isDeclaration(n)).map((n) => n.text));
  const call = [...descendants(body)].find((n) => {
    if (n.type !== 'call_expression') return false;
    const callee = n.childForFieldName('function');
    if (callee?.type !== 'identifier') return false;
    const name = callee.text;
    // Uppercase callees are tuple structs and enum variants, not functions.
    return /^[a-z_]/.test(name) && !locals.has(name) && name !== fnName;
  });
  const args = call?.childForFieldName('arguments');
  if (!call || !args) return undefined;
  const options = PARAMETER_POOL.filter((p) => !hasWord(selection.text, p.name));
  if (options.length === 0) return undefined;
  const param = rng.pick(options);
  const paramEdit = appendToList(source, params, `${param.name}: ${param.type}`, UNEXTENDABLE);
  const argEdit = appendToList(source, args, param.name, UNEXTENDABLE);
  if (!paramEdit || !argEdit) return undefined;
  const callee = call.childForFieldName('function')!.text;
  return example(
    'add-parameter', `Add a parameter ${param.name}: ${param.type} and pass it to ${callee}`,
    selection, edited(selection, [paramEdit, argEdit]),
  );
}

/** A different plausible value for a literal's source text, or undefined for forms we leave alone. */
function changedLiteral(node: Node, selection: Selection, rng: Rng): string | undefined {
  const text = node.text;
  if (node.type === 'integer_literal') {
    const match = /^(0|[1-9]\d{0,8})(u8|u16|u32|u64|u128|usize|i8|i16|i32|i64|i128|isize)?$/.exec(text);
    if (!match) return undefined;
    const value = Number(match[1]);
    const suffix = match[2] ?? '';
    const next = value === 0 ? 1 : rng.next() < 0.5 ? value * 2 : value + 1;
    if (next > (SUFFIX_MAX[suffix] ?? Infinity)) return undefined;
    return `${next}${suffix}`;
  }
  if (node.type === 'float_literal') {
    const match = /^(\d{1,6})\.(\d{1,4})(f32|f64)?$/.exec(text);
    if (!match) return undefined;
    const value = Number(`${match[1]}.${match[2]}`);
    const next = value === 0 || rng.next() < 0.5 ? value + 1 : value * 2;
    return `${next.toFixed(match[2]!.length)}${match[3] ?? ''}`;
  }
  if (node.type === 'string_literal') {
    if (!/^"[\w.:/ -]{1,40}"$/.test(text) || !/[A-Za-z]/.test(text)) return undefined;
    const options = STRING_POOL.filter((w) => `"${w}"` !== text && !selection.text.includes(`"${w}"`));
    return options.length === 0 ? undefined : `"${rng.pick(options)}"`;
  }
  return undefined;
}

const MACRO_OR_ATTRIBUTE = new Set(['token_tree', 'macro_invocation', 'attribute_item', 'inner_attribute_item']);

function changeLiteralExample(fn: Node, selection: Selection, rng: Rng): RewriteExample | undefined {
  const body = fn.childForFieldName('body');
  if (!body) return undefined;
  const literals = [...descendants(body)].filter((n) => {
    if (!['integer_literal', 'float_literal', 'string_literal'].includes(n.type)) return false;
    // `pair.0` is a tuple field, not a number.
    if (n.parent?.type === 'field_expression') return false;
    // Strings in macros are format strings (`{x}` placeholders); attribute strings are configuration.
    if (n.type === 'string_literal' && hasAncestor(n, MACRO_OR_ATTRIBUTE, fn)) return false;
    return occurrences(selection.text, n.text) === 1;
  });
  for (const node of shuffled(literals, rng)) {
    const replacement = changedLiteral(node, selection, rng);
    if (!replacement || replacement === node.text) continue;
    const output = edited(selection, [{ start: node.startIndex, end: node.endIndex, text: replacement }]);
    return example('change-literal', `Change ${node.text} to ${replacement}`, selection, output);
  }
  return undefined;
}

function logEntryExample(source: string, fn: Node, selection: Selection): RewriteExample | undefined {
  const body = fn.childForFieldName('body');
  const name = fn.childForFieldName('name')?.text;
  const open = body?.firstChild;
  if (!body || !name || name.startsWith('r#') || open?.type !== '{') return undefined;
  // A `const fn` cannot print.
  if (fn.namedChildren.some((c) => c?.type === 'function_modifiers' && /\bconst\b/.test(c.text))) return undefined;
  // One-line bodies (`{ x + 1 }`) have no line to put the call on.
  const openLineEnd = lineEnd(source, open.endIndex);
  if (source.slice(open.endIndex, openLineEnd).trim() !== '' || openLineEnd >= body.endIndex) return undefined;
  const firstLine = openLineEnd + 1;
  const contentIndex = firstLine + source.slice(firstLine, body.endIndex).search(/\S/);
  const indent = contentIndex >= body.endIndex - 1
    ? indentationAt(source, body.endIndex - 1) + '    '
    : indentationAt(source, contentIndex);
  const line = `${indent}println!("${name} called");\n`;
  return example('log-entry', `Log when ${name} is called`, selection,
    edited(selection, [{ start: firstLine, end: firstLine, text: line }]));
}

function deleteStatementExample(source: string, fn: Node, selection: Selection, rng: Rng): RewriteExample | undefined {
  const body = fn.childForFieldName('body');
  if (!body) return undefined;
  const statements = [...descendants(body)].filter((n) => {
    const deletable = n.type === 'let_declaration' || (n.type === 'expression_statement' && n.text.endsWith(';'));
    if (!deletable || n.parent?.type !== 'block') return false;
    const siblings = n.parent.namedChildren.filter((c) => c && !isComment(c) && c.type !== 'empty_statement');
    if (siblings.length < 2 || n.previousNamedSibling?.type === 'attribute_item') return false;
    const start = lineStart(source, n.startIndex);
    const stripped = source.slice(start, lineEnd(source, start)).trim();
    return stripped === n.text && occurrences(selection.text, stripped) === 1;
  });
  if (statements.length === 0) return undefined;
  const chosen = rng.pick(statements);
  const start = lineStart(source, chosen.startIndex);
  const end = lineEnd(source, start) + 1;
  return example('delete-statement', `Delete the line ${chosen.text}`, selection,
    edited(selection, [{ start, end, text: '' }]));
}

/** A top-level `use` alone on its line, not carrying an attribute from the line above. */
function isSortableUse(source: string, node: Node): boolean {
  if (node.type !== 'use_declaration' || node.startPosition.column !== 0) return false;
  if (node.startPosition.row !== node.endPosition.row) return false;
  if (source.slice(node.startIndex, lineEnd(source, node.startIndex)) !== node.text) return false;
  const previous = node.previousSibling;
  return !(previous?.type === 'attribute_item' && previous.endPosition.row === node.startPosition.row - 1);
}

function sortImportsExamples(source: string, tree: Tree): RewriteExample[] {
  const out: RewriteExample[] = [];
  let run: Node[] = [];
  const flush = (): void => {
    if (run.length >= 3) {
      const first = run[0]!;
      const last = run[run.length - 1]!;
      const selection = { start: first.startIndex, end: last.endIndex, text: source.slice(first.startIndex, last.endIndex) };
      const lines = selection.text.split('\n');
      const sorted = [...lines].sort(ordinal);
      if (!sorted.every((line, i) => line === lines[i])) out.push(example('sort-imports', 'Sort the imports', selection, sorted.join('\n')));
    }
    run = [];
  };
  for (const node of tree.rootNode.children) {
    if (!node) continue;
    const previous = run[run.length - 1];
    if (previous && (!isSortableUse(source, node) || node.startPosition.row !== previous.endPosition.row + 1)) flush();
    if (isSortableUse(source, node)) run.push(node);
  }
  flush();
  return out;
}

function example(kind: RewriteKind, instruction: string, selection: Selection, output: string): RewriteExample {
  return {
    kind, language: 'rust', instruction, selection: selection.text, output, start: selection.start, end: selection.end,
  };
}

export const rustRewrites: LanguageRewrites = {
  language: 'rust',
  generate(source: string, tree: Tree, rng: Rng): RewriteExample[] {
    const byKind = new Map<RewriteKind, RewriteExample[]>();
    const add = (ex: RewriteExample | undefined): void => {
      if (!ex || ex.output === ex.selection || !fitsSelection(ex.selection)) return;
      const list = byKind.get(ex.kind) ?? [];
      list.push(ex);
      byKind.set(ex.kind, list);
    };
    for (const ex of sortImportsExamples(source, tree)) add(ex);
    for (const node of descendants(tree.rootNode)) {
      if (node.type !== 'function_item') continue;
      const selection = lineSelection(source, node);
      if (source.slice(selection.start, node.startIndex).trim() !== '' || !fitsSelection(selection.text)) continue;
      add(renameExample(node, selection, rng));
      add(addParameterExample(source, node, selection, rng));
      add(changeLiteralExample(node, selection, rng));
      add(logEntryExample(source, node, selection));
      add(deleteStatementExample(source, node, selection, rng));
    }
    return [...byKind.values()].flatMap((list) => shuffled(list, rng).slice(0, MAX_PER_KIND));
  },
};
