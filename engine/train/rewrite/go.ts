// Go rewrite examples: rename a binding, add a parameter, change a literal, log at entry, delete a statement and
// sort an import block, each made from one parsed Go source file by tree-sitter.
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
  'width', 'pos', 'acc', 'tmp', 'nextItem', 'lineCount', 'byteCount', 'startPos', 'endPos', 'curNode',
] as const;

const PARAMETER_POOL = [
  { name: 'verbose', type: 'bool' },
  { name: 'limit', type: 'int' },
  { name: 'name', type: 'string' },
  { name: 'ctx', type: 'context.Context' },
  { name: 'timeout', type: 'time.Duration' },
] as const;

const STRING_POOL = [
  'default', 'latin-1', 'config', 'output', 'pending', 'ready', 'localhost', 'debug', 'info', 'warning', 'json',
  'admin', 'none', 'example', 'primary', 'backup', 'unknown', 'main', 'status', 'enabled',
] as const;

/** Calls to these are builtins or conversions to predeclared types, not functions that could take a parameter. */
const BUILTINS = new Set([
  'append', 'cap', 'clear', 'close', 'complex', 'copy', 'delete', 'imag', 'len', 'make', 'max', 'min', 'new',
  'panic', 'print', 'println', 'real', 'recover',
  'any', 'bool', 'byte', 'comparable', 'complex64', 'complex128', 'error', 'float32', 'float64', 'int', 'int8',
  'int16', 'int32', 'int64', 'rune', 'string', 'uint', 'uint8', 'uint16', 'uint32', 'uint64', 'uintptr',
]);

const DELETABLE = new Set([
  'expression_statement', 'assignment_statement', 'short_var_declaration', 'inc_statement', 'dec_statement',
]);

const STRING_LITERALS = new Set(['interpreted_string_literal', 'raw_string_literal']);

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function hasWord(text: string, word: string): boolean {
  return new RegExp(`(?<![\\w$])${escapeRegExp(word)}(?![\\w$])`).test(text);
}

/** Whether this identifier declares a name (parameter, var/const, `:=`, range, type-switch alias, func name). */
function isDeclaration(id: Node): boolean {
  const parent = id.parent;
  if (!parent) return false;
  switch (parent.type) {
    case 'parameter_declaration':
    case 'variadic_parameter_declaration':
    case 'var_spec':
    case 'const_spec':
    case 'function_declaration':
    case 'type_parameter_declaration':
      return true;
    case 'expression_list': {
      const holder = parent.parent;
      if (!holder) return false;
      if (['short_var_declaration', 'range_clause', 'receive_statement'].includes(holder.type)) {
        return holder.childForFieldName('left')?.id === parent.id;
      }
      return holder.type === 'type_switch_statement' && holder.childForFieldName('alias')?.id === parent.id;
    }
    default:
      return false;
  }
}

/** `Point{x: 1}`: the key may be a struct field or a map key variable; a rename there would be a guess. */
function isCompositeKey(id: Node): boolean {
  const element = id.parent;
  const keyed = element?.parent;
  return element?.type === 'literal_element' && keyed?.type === 'keyed_element' && keyed.namedChild(0)?.id === element.id;
}

interface Candidate {
  name: string;
  declaration: Node;
  /** References must lie in [from, to) for every identifier of this name to mean this binding. */
  from: number;
  to: number;
}

/** The scope a local declaration statement opens: the rest of its block, if/for/switch statement or case clause. */
function localScope(statement: Node): Node | undefined {
  let scope = statement.parent;
  if (scope && (scope.type === 'statement_list' || scope.type === 'for_clause' || scope.type === 'var_spec_list')) {
    scope = scope.parent;
  }
  return scope ?? undefined;
}

function renameCandidates(fn: Node): Candidate[] {
  const out: Candidate[] = [];
  const params = fn.childForFieldName('parameters');
  const body = fn.childForFieldName('body');
  if (!body) return out;
  for (const decl of params?.namedChildren ?? []) {
    if (!decl || (decl.type !== 'parameter_declaration' && decl.type !== 'variadic_parameter_declaration')) continue;
    for (const name of decl.childrenForFieldName('name')) {
      if (name) out.push({ name: name.text, declaration: name, from: body.startIndex, to: body.endIndex });
    }
  }
  for (const node of descendants(body)) {
    if (node.type === 'short_var_declaration') {
      const scope = localScope(node);
      const left = node.childForFieldName('left');
      if (!scope || !left) continue;
      for (const id of left.namedChildren) {
        if (id?.type === 'identifier') out.push({ name: id.text, declaration: id, from: node.endIndex, to: scope.endIndex });
      }
    } else if (node.type === 'var_spec') {
      const statement = node.parent?.type === 'var_spec_list' ? node.parent.parent : node.parent;
      const scope = statement && localScope(statement);
      if (!statement || !scope) continue;
      for (const id of node.childrenForFieldName('name')) {
        if (id) out.push({ name: id.text, declaration: id, from: statement.endIndex, to: scope.endIndex });
      }
    }
  }
  return out;
}

function renameExample(fn: Node, selection: Selection, rng: Rng): RewriteExample | undefined {
  const nodes = [...descendants(fn)];
  const identifiers = nodes.filter((n) => n.type === 'identifier');
  const strings = nodes.filter((n) => STRING_LITERALS.has(n.type)).map((n) => n.text);
  const usable = renameCandidates(fn).filter((c) => {
    if (c.name === '_') return false;
    const same = identifiers.filter((id) => id.text === c.name);
    if (same.filter(isDeclaration).length !== 1) return false;
    if (same.some(isCompositeKey)) return false;
    if (strings.some((s) => hasWord(s, c.name))) return false;
    const references = same.filter((id) => id.id !== c.declaration.id);
    if (references.length === 0) return false;
    return references.every((id) => id.startIndex >= c.from && id.endIndex <= c.to);
  });
  if (usable.length === 0) return undefined;
  const chosen = rng.pick(usable);
  const fresh = RENAME_POOL.filter((name) => name !== chosen.name && !hasWord(selection.text, name));
  if (fresh.length === 0) return undefined;
  const newName = rng.pick(fresh);
  const edits = identifiers
    .filter((id) => id.text === chosen.name)
    .map((id) => ({ start: id.startIndex, end: id.endIndex, text: newName }));
  return example('rename', `Rename ${chosen.name} to ${newName}`, selection, edited(selection, edits));
}

function declaredTypeNames(tree: Tree): Set<string> {
  const names = new Set<string>();
  for (const node of descendants(tree.rootNode)) {
    if (node.type === 'type_spec' || node.type === 'type_alias') {
      const name = node.childForFieldName('name');
      if (name) names.add(name.text);
    }
  }
  return names;
}

function addParameterExample(
  source: string, fn: Node, selection: Selection, typeNames: Set<string>, rng: Rng,
): RewriteExample | undefined {
  const params = fn.childForFieldName('parameters');
  const body = fn.childForFieldName('body');
  if (!params || !body) return undefined;
  const lastParam = params.namedChildren.filter((c) => c && !isComment(c)).pop();
  if (lastParam?.type === 'variadic_parameter_declaration') return undefined;
  const fnName = fn.childForFieldName('name')?.text;
  const locals = new Set([...descendants(fn)].filter((n) => n.type === 'identifier' && isDeclaration(n)).map((n) => n.text));
  const call = [...descendants(body)].find((n) => {
    if (n.type !== 'call_expression') return false;
    const callee = n.childForFieldName('function');
    if (callee?.type !== 'identifier') return false;
    const name = callee.text;
    return !BUILTINS.has(name) && !typeNames.has(name) && !locals.has(name) && name !== fnName;
  });
  const args = call?.childForFieldName('arguments');
  if (!call || !args) return undefined;
  if (args.namedChildren.some((a) => a?.type === 'variadic_argument') || args.text.includes('...')) return undefined;
  const options = PARAMETER_POOL.filter((p) => !hasWord(selection.text, p.name));
  if (options.length === 0) return undefined;
  const param = rng.pick(options);
  const paramEdit = appendToList(source, params, `${param.name} ${param.type}`);
  const argEdit = appendToList(source, args, param.name);
  if (!paramEdit || !argEdit) return undefined;
  const callee = call.childForFieldName('function')!.text;
  return example(
    'add-parameter', `Add a parameter ${param.name} ${param.type} and pass it to ${callee}`,
    selection, edited(selection, [paramEdit, argEdit]),
  );
}

/** A different plausible value for a literal's source text, or undefined for forms we leave alone. */
function changedLiteral(node: Node, selection: Selection, rng: Rng): string | undefined {
  const text = node.text;
  if (node.type === 'int_literal') {
    if (!/^(0|[1-9]\d{0,8})$/.test(text)) return undefined;
    const value = Number(text);
    return String(value === 0 ? 1 : rng.next() < 0.5 ? value * 2 : value + 1);
  }
  if (node.type === 'float_literal') {
    const match = /^(\d{1,6})\.(\d{1,4})$/.exec(text);
    if (!match) return undefined;
    const digits = match[2]!.length;
    const value = Number(text);
    const next = value === 0 || rng.next() < 0.5 ? value + 1 : value * 2;
    return next.toFixed(digits);
  }
  if (node.type === 'interpreted_string_literal') {
    if (!/^"[\w.:/ -]{1,40}"$/.test(text) || !/[A-Za-z]/.test(text)) return undefined;
    const options = STRING_POOL.filter((w) => `"${w}"` !== text && !selection.text.includes(`"${w}"`));
    return options.length === 0 ? undefined : `"${rng.pick(options)}"`;
  }
  return undefined;
}

function changeLiteralExample(fn: Node, selection: Selection, rng: Rng): RewriteExample | undefined {
  const body = fn.childForFieldName('body');
  if (!body) return undefined;
  const literals = [...descendants(body)].filter(
    (n) => ['int_literal', 'float_literal', 'interpreted_string_literal'].includes(n.type) &&
      occurrences(selection.text, n.text) === 1,
  );
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
  if (!body || !name || open?.type !== '{') return undefined;
  // One-line bodies (`{ return x }`) have no line to put the call on.
  const openLineEnd = lineEnd(source, open.endIndex);
  if (source.slice(open.endIndex, openLineEnd).trim() !== '' || openLineEnd >= body.endIndex) return undefined;
  const declaresLog = [...descendants(fn)].some((n) => n.type === 'identifier' && n.text === 'log' && isDeclaration(n));
  if (declaresLog) return undefined;
  const firstLine = openLineEnd + 1;
  const firstContent = source.slice(firstLine, body.endIndex).search(/\S/);
  const contentIndex = firstLine + firstContent;
  const indent = contentIndex >= body.endIndex - 1
    ? indentationAt(source, body.endIndex - 1) + '\t'
    : indentationAt(source, contentIndex);
  const line = `${indent}log.Println("${name} called")\n`;
  return example('log-entry', `Log when ${name} is called`, selection,
    edited(selection, [{ start: firstLine, end: firstLine, text: line }]));
}

function deleteStatementExample(source: string, fn: Node, selection: Selection, rng: Rng): RewriteExample | undefined {
  const body = fn.childForFieldName('body');
  if (!body) return undefined;
  const statements = [...descendants(body)].filter((n) => {
    if (!DELETABLE.has(n.type) || n.parent?.type !== 'statement_list') return false;
    const siblings = n.parent.namedChildren.filter((c) => c && !isComment(c));
    if (siblings.length < 2) return false;
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

function sortImportsExample(source: string, decl: Node): RewriteExample | undefined {
  const list = decl.namedChildren.find((c) => c?.type === 'import_spec_list');
  if (!list) return undefined;
  const children = list.children.filter((c): c is Node => c !== null);
  const specs = children.filter((c) => c.type === 'import_spec');
  // Only `(`, the specs and `)`: a comment or anything else inside makes the order meaningful.
  if (specs.length < 3 || specs.length !== children.length - 2) return undefined;
  const selection = lineSelection(source, decl);
  const lines = selection.text.split('\n');
  if (lines.length !== specs.length + 2 || lines[0]!.trim() !== 'import (' || lines[lines.length - 1]!.trim() !== ')') {
    return undefined;
  }
  const specLines = lines.slice(1, -1);
  if (specLines.some((line, i) => line.trim() !== specs[i]!.text)) return undefined;
  const sorted = [...specLines].sort(ordinal);
  if (sorted.every((line, i) => line === specLines[i])) return undefined;
  return example('sort-imports', 'Sort the imports', selection, [lines[0]!, ...sorted, lines[lines.length - 1]!].join('\n'));
}

function example(kind: RewriteKind, instruction: string, selection: Selection, output: string): RewriteExample {
  return {
    kind, language: 'go', instruction, selection: selection.text, output, start: selection.start, end: selection.end,
  };
}

export const goRewrites: LanguageRewrites = {
  language: 'go',
  generate(source: string, tree: Tree, rng: Rng): RewriteExample[] {
    const byKind = new Map<RewriteKind, RewriteExample[]>();
    const add = (ex: RewriteExample | undefined): void => {
      if (!ex || ex.output === ex.selection || !fitsSelection(ex.selection)) return;
      const list = byKind.get(ex.kind) ?? [];
      list.push(ex);
      byKind.set(ex.kind, list);
    };
    const typeNames = declaredTypeNames(tree);
    for (const node of tree.rootNode.namedChildren) {
      if (!node) continue;
      if (node.type === 'import_declaration') {
        add(sortImportsExample(source, node));
        continue;
      }
      if (node.type !== 'function_declaration' && node.type !== 'method_declaration') continue;
      const selection = lineSelection(source, node);
      if (source.slice(selection.start, node.startIndex).trim() !== '' || !fitsSelection(selection.text)) continue;
      add(renameExample(node, selection, rng));
      add(addParameterExample(source, node, selection, typeNames, rng));
      add(changeLiteralExample(node, selection, rng));
      add(logEntryExample(source, node, selection));
      add(deleteStatementExample(source, node, selection, rng));
    }
    return [...byKind.values()].flatMap((list) => shuffled(list, rng).slice(0, MAX_PER_KIND));
  },
};
