// Mechanical rewrites of TypeScript and JavaScript functions, made from real files with tree-sitter. Each kind has
// one canonical output for its instruction, so a small model can learn it exactly.
import type { Node, Tree } from 'web-tree-sitter';
import {
  descendants, fitsSelection, lineSelection, type LanguageRewrites, type RewriteExample, type RewriteKind, type RewriteLanguage, type Rng,
} from './types';

const PER_KIND = 4;
const NEW_NAMES = ['value', 'item', 'result', 'entry', 'record', 'payload', 'current', 'node', 'text', 'index', 'total', 'buffer', 'target', 'source', 'options', 'count', 'label', 'state'];
const TS_PARAMS = ['verbose: boolean', 'timeoutMs: number', 'signal: AbortSignal', 'label: string', 'retries: number'];
const JS_PARAMS = ['verbose', 'timeoutMs', 'signal', 'label', 'retries'];
const WORDS = ['ready', 'pending', 'default', 'error', 'utf8', 'latin1', 'hidden', 'visible', 'json', 'text', 'done', 'closed'];

/** Nodes whose identifier children declare a name (params, variables, catch clauses, inner functions). */
const DECLARING_PARENTS = new Set([
  'variable_declarator', 'formal_parameters', 'required_parameter', 'optional_parameter', 'assignment_pattern', 'rest_pattern',
  'catch_clause', 'arrow_function', 'function_declaration', 'function_expression', 'function', 'generator_function_declaration',
  'class_declaration', 'array_pattern', 'pair_pattern', 'object_pattern',
]);

interface FunctionSite {
  node: Node;
  name: string;
  params: Node;
  body: Node;
  selection: { start: number; end: number; text: string };
}

function functionSites(tree: Tree, source: string): FunctionSite[] {
  const out: FunctionSite[] = [];
  for (const node of descendants(tree.rootNode)) {
    let fn: Node | null = null;
    let name: string | undefined;
    let outer: Node = node;
    if (node.type === 'function_declaration' || node.type === 'method_definition' || node.type === 'generator_function_declaration') {
      fn = node;
      name = node.childForFieldName('name')?.text;
    } else if (node.type === 'lexical_declaration' && node.namedChildren.length === 1) {
      const decl = node.namedChildren[0]!;
      const value = decl.childForFieldName('value');
      if (decl.type === 'variable_declarator' && value && (value.type === 'arrow_function' || value.type === 'function_expression' || value.type === 'function')) {
        fn = value;
        name = decl.childForFieldName('name')?.text;
      }
    }
    if (!fn || !name) continue;
    if (outer.parent?.type === 'export_statement') outer = outer.parent;
    const params = fn.childForFieldName('parameters');
    const body = fn.childForFieldName('body');
    if (!params || params.type !== 'formal_parameters' || !body || body.type !== 'statement_block') continue;
    const selection = lineSelection(source, outer);
    // The function must own its lines: nothing before it on its first line.
    if (source.slice(selection.start, outer.startIndex).trim() !== '' || !fitsSelection(selection.text)) continue;
    if (body.namedChildren.length === 0 || body.startPosition.row === body.endPosition.row) continue;
    out.push({ node: outer, name, params, body, selection });
  }
  return out;
}

/** Text edits at source offsets, applied to the selection. */
interface Edit { start: number; end: number; text: string }

function applyEdits(site: FunctionSite, edits: Edit[]): string {
  let text = site.selection.text;
  for (const e of [...edits].sort((a, b) => b.start - a.start)) {
    text = text.slice(0, e.start - site.selection.start) + e.text + text.slice(e.end - site.selection.start);
  }
  return text;
}

function indentOf(source: string, offset: number): string {
  const lineStart = source.lastIndexOf('\n', offset - 1) + 1;
  return /^[ \t]*/.exec(source.slice(lineStart))![0];
}

/** The file's indentation unit: a tab, or the smallest positive step between space indents. */
function indentUnit(source: string): string {
  const lines = source.split('\n');
  if (lines.filter((l) => l.startsWith('\t')).length > lines.filter((l) => l.startsWith('  ')).length) return '\t';
  let unit = 0;
  let prev = 0;
  for (const line of lines) {
    if (!line.trim()) continue;
    const n = /^ */.exec(line)![0].length;
    const step = Math.abs(n - prev);
    if (step > 0 && (unit === 0 || step < unit)) unit = step;
    prev = n;
  }
  return ' '.repeat(unit >= 2 && unit <= 8 ? unit : 2);
}

function sample<T>(items: T[], rng: Rng, n = PER_KIND): T[] {
  const pool = items.slice();
  const out: T[] = [];
  while (pool.length && out.length < n) out.push(pool.splice(rng.int(pool.length), 1)[0]!);
  return out;
}

function occurrences(text: string, needle: string): number {
  let n = 0;
  for (let i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + 1)) n++;
  return n;
}

function hasWord(text: string, word: string): boolean {
  return new RegExp(`(^|[^\\w$])${word.replace(/\$/g, '\\$')}($|[^\\w$])`).test(text);
}

class Maker {
  readonly out: RewriteExample[] = [];
  constructor(readonly language: RewriteLanguage, readonly source: string, readonly sites: FunctionSite[], readonly rng: Rng) {}

  add(kind: RewriteKind, site: { selection: { start: number; end: number; text: string } }, instruction: string, output: string): void {
    if (output === site.selection.text || !fitsSelection(output)) return;
    this.out.push({ kind, language: this.language, instruction, selection: site.selection.text, output, start: site.selection.start, end: site.selection.end });
  }

  rename(): void {
    for (const site of sample(this.sites, this.rng, PER_KIND * 2)) {
      const nodes = [...descendants(site.node)];
      const idents = nodes.filter((n) => n.type === 'identifier');
      const declared = new Map<string, number>();
      for (const n of idents) if (n.parent && DECLARING_PARENTS.has(n.parent.type)) declared.set(n.text, (declared.get(n.text) ?? 0) + 1);
      const shorthand = new Set(nodes.filter((n) => n.type.startsWith('shorthand_property_identifier')).map((n) => n.text));
      const candidates = [...declared].filter(([name, count]) => count === 1 && name !== site.name && name.length > 1 && !shorthand.has(name) && !['arguments', 'undefined', 'require'].includes(name));
      // The declaration must be inside this function (a parameter or local), not the function's own name.
      const locals = candidates.filter(([name]) => idents.some((n) => n.text === name && n.parent && DECLARING_PARENTS.has(n.parent.type) && n.startIndex > site.params.startIndex));
      if (!locals.length) continue;
      const [old] = this.rng.pick(locals);
      const fresh = NEW_NAMES.filter((n) => !hasWord(site.selection.text, n) && n !== old);
      if (!fresh.length) continue;
      const name = this.rng.pick(fresh);
      const edits = idents.filter((n) => n.text === old).map((n) => ({ start: n.startIndex, end: n.endIndex, text: name }));
      this.add('rename', site, `Rename ${old} to ${name}`, applyEdits(site, edits));
    }
  }

  addParameter(): void {
    const made: FunctionSite[] = [];
    for (const site of sample(this.sites, this.rng, PER_KIND * 2)) {
      if (made.length >= PER_KIND) break;
      const params = site.params.namedChildren;
      if (params.some((p) => p.type !== 'identifier' && p.type !== 'required_parameter')) continue;
      if (params.some((p) => p.type === 'required_parameter' && (p.childForFieldName('pattern')?.type !== 'identifier' || p.childForFieldName('value')))) continue;
      const call = [...descendants(site.body)].find((n) => n.type === 'call_expression' && n.childForFieldName('function')?.type === 'identifier' && n.childForFieldName('arguments')?.type === 'arguments');
      if (!call) continue;
      const callee = call.childForFieldName('function')!.text;
      if (callee === 'require' || callee === site.name) continue;
      const pool = (this.language === 'typescript' ? TS_PARAMS : JS_PARAMS).filter((p) => !hasWord(site.selection.text, p.split(':')[0]!));
      if (!pool.length) continue;
      const decl = this.rng.pick(pool);
      const name = decl.split(':')[0]!;
      const edits = [appendToList(this.source, site.params, decl), appendToList(this.source, call.childForFieldName('arguments')!, name)];
      made.push(site);
      this.add('add-parameter', site, `Add a parameter ${decl} and pass it to ${callee}`, applyEdits(site, edits));
    }
  }

  changeLiteral(): void {
    for (const site of sample(this.sites, this.rng, PER_KIND * 2)) {
      const literals = [...descendants(site.body)].filter((n) =>
        (n.type === 'number' && /^\d+(\.\d+)?$/.test(n.text)) || (n.type === 'string' && n.text.length >= 3 && n.text.length <= 40 && !n.text.includes('\\') && !n.text.includes('\n')));
      const unique = literals.filter((n) => occurrences(site.selection.text, n.text) === 1);
      if (!unique.length) continue;
      const lit = this.rng.pick(unique);
      const replacement = lit.type === 'number' ? newNumber(lit.text, this.rng) : newString(lit.text, this.rng);
      if (!replacement || occurrences(site.selection.text, replacement) > 0) continue;
      this.add('change-literal', site, `Change ${lit.text} to ${replacement}`, applyEdits(site, [{ start: lit.startIndex, end: lit.endIndex, text: replacement }]));
    }
  }

  toConst(): void {
    for (const site of sample(this.sites, this.rng, PER_KIND * 2)) {
      const nodes = [...descendants(site.body)];
      const assigned = new Set<string>();
      for (const n of nodes) {
        const target = n.type === 'assignment_expression' || n.type === 'augmented_assignment_expression' ? n.childForFieldName('left')
          : n.type === 'update_expression' ? n.childForFieldName('argument')
            : n.type === 'for_in_statement' ? n.childForFieldName('left') : null;
        if (target) for (const id of descendants(target)) if (id.type === 'identifier') assigned.add(id.text);
      }
      const edits: Edit[] = [];
      for (const decl of nodes.filter((n) => n.type === 'lexical_declaration' || n.type === 'variable_declaration')) {
        const keyword = decl.child(0)!;
        if (keyword.text !== 'let' && keyword.text !== 'var') continue;
        if (decl.parent?.type === 'for_statement' || decl.parent?.type === 'for_in_statement') continue;
        const declarators = decl.namedChildren.filter((d) => d.type === 'variable_declarator');
        const names = declarators.map((d) => d.childForFieldName('name'));
        if (declarators.some((d) => !d.childForFieldName('value')) || names.some((n) => !n || n.type !== 'identifier')) continue;
        if (names.some((n) => assigned.has(n!.text))) continue;
        // var is function-scoped and hoisted: only where block scope changes nothing (the body's own block, no use before).
        if (keyword.text === 'var') {
          if (decl.parent?.id !== site.body.id) continue;
          if (nodes.some((n) => n.type === 'identifier' && n.startIndex < decl.startIndex && names.some((m) => m!.text === n.text))) continue;
        }
        edits.push({ start: keyword.startIndex, end: keyword.endIndex, text: 'const' });
      }
      if (!edits.length) continue;
      this.add('const', site, 'Use const for variables that are never reassigned', applyEdits(site, edits));
    }
  }

  logEntry(): void {
    for (const site of sample(this.sites, this.rng)) {
      const first = site.body.namedChildren[0]!;
      if (first.startPosition.row === site.body.startPosition.row) continue;
      const indent = indentOf(this.source, first.startIndex);
      const lineStart = this.source.lastIndexOf('\n', first.startIndex - 1) + 1;
      this.add('log-entry', site, `Log when ${site.name} is called`, applyEdits(site, [{ start: lineStart, end: lineStart, text: `${indent}console.log("${site.name} called");\n` }]));
    }
  }

  tryCatch(): void {
    const unit = indentUnit(this.source);
    for (const site of sample(this.sites, this.rng)) {
      const stmts = site.body.namedChildren.filter((n) => n.type !== 'comment');
      // A derived constructor must reach super() before anything else; leave constructors alone.
      if (site.name === 'constructor' || !stmts.length || (stmts.length === 1 && stmts[0]!.type === 'try_statement')) continue;
      if ([...descendants(site.body)].some((n) => n.type === 'template_string' && n.text.includes('\n'))) continue;
      const first = site.body.namedChildren[0]!;
      const last = site.body.namedChildren[site.body.namedChildren.length - 1]!;
      if (first.startPosition.row === site.body.startPosition.row || last.endPosition.row === site.body.endPosition.row) continue;
      const indent = indentOf(this.source, first.startIndex);
      const start = this.source.lastIndexOf('\n', first.startIndex - 1) + 1;
      const inner = this.source.slice(start, last.endIndex).split('\n').map((l) => (l.trim() ? unit + l : l)).join('\n');
      const text = `${indent}try {\n${inner}\n${indent}} catch (err) {\n${indent}${unit}console.error(err);\n${indent}${unit}throw err;\n${indent}}`;
      this.add('try-catch', site, `Wrap the body of ${site.name} in try/catch`, applyEdits(site, [{ start, end: last.endIndex, text }]));
    }
  }

  deleteStatement(): void {
    for (const site of sample(this.sites, this.rng, PER_KIND * 2)) {
      const stmts = [...descendants(site.body)].filter((n) =>
        n.type === 'expression_statement' && n.startPosition.row === n.endPosition.row && n.parent?.type === 'statement_block' &&
        n.parent.namedChildren.length > 1 && this.source.slice(this.source.lastIndexOf('\n', n.startIndex - 1) + 1, n.startIndex).trim() === '' &&
        /^\s*$/.test(this.source.slice(n.endIndex, this.source.indexOf('\n', n.endIndex) >= 0 ? this.source.indexOf('\n', n.endIndex) : undefined)));
      const unique = stmts.filter((n) => occurrences(site.selection.text, n.text) === 1 && n.endIndex < site.selection.end);
      if (!unique.length) continue;
      const stmt = this.rng.pick(unique);
      const start = this.source.lastIndexOf('\n', stmt.startIndex - 1) + 1;
      const end = this.source.indexOf('\n', stmt.endIndex) + 1;
      this.add('delete-statement', site, `Delete the line ${stmt.text}`, applyEdits(site, [{ start, end, text: '' }]));
    }
  }

  sortImports(tree: Tree): void {
    const top = tree.rootNode.namedChildren;
    for (let i = 0; i < top.length;) {
      let j = i;
      while (j < top.length && top[j]!.type === 'import_statement' && top[j]!.startPosition.row === top[j]!.endPosition.row &&
        (j === i || top[j]!.startPosition.row === top[j - 1]!.endPosition.row + 1)) j++;
      if (j - i >= 3) {
        const run = top.slice(i, j);
        const key = (n: Node): string => n.childForFieldName('source')?.text.slice(1, -1) ?? n.text;
        const sorted = run.map((n, k) => ({ n, k })).sort((a, b) => (key(a.n) < key(b.n) ? -1 : key(a.n) > key(b.n) ? 1 : a.k - b.k)).map((e) => e.n.text);
        const start = this.source.lastIndexOf('\n', run[0]!.startIndex - 1) + 1;
        const selection = { start, end: run[run.length - 1]!.endIndex, text: this.source.slice(start, run[run.length - 1]!.endIndex) };
        if (run[0]!.startIndex === start && fitsSelection(selection.text)) this.add('sort-imports', { selection }, 'Sort the imports', sorted.join('\n'));
      }
      i = Math.max(j, i + 1);
    }
  }
}

/** Appends an item to a parameter or argument list, keeping its layout (one line, or one item per line). */
function appendToList(source: string, list: Node, item: string): Edit {
  const items = list.namedChildren.filter((n) => n.type !== 'comment');
  const close = list.endIndex - 1;
  if (!items.length) return { start: list.startIndex + 1, end: close, text: item };
  const last = items[items.length - 1]!;
  const between = source.slice(last.endIndex, close);
  if (between.includes('\n')) {
    // One item per line: a new line with the last item's indentation, keeping a trailing comma if there is one.
    const indent = indentOf(source, last.startIndex);
    const trailing = between.trimStart().startsWith(',');
    return trailing
      ? { start: last.endIndex + between.indexOf(',') + 1, end: last.endIndex + between.indexOf(',') + 1, text: `\n${indent}${item},` }
      : { start: last.endIndex, end: last.endIndex, text: `,\n${indent}${item}` };
  }
  return { start: last.endIndex, end: close, text: `, ${item}` };
}

function newNumber(text: string, rng: Rng): string | undefined {
  const value = Number(text);
  if (!Number.isFinite(value)) return undefined;
  if (text.includes('.')) return String(Number((value * 2).toFixed(4)));
  const candidates = value === 0 ? [1] : [value * 2, value + 1, value * 10];
  return String(rng.pick(candidates));
}

function newString(text: string, rng: Rng): string {
  const quote = text[0]!;
  return `${quote}${rng.pick(WORDS)}${quote}`;
}

function makeRewrites(language: RewriteLanguage): LanguageRewrites {
  return {
    language,
    generate(source: string, tree: Tree, rng: Rng): RewriteExample[] {
      if (tree.rootNode.hasError) return [];
      const maker = new Maker(language, source, functionSites(tree, source), rng);
      maker.rename();
      maker.addParameter();
      maker.changeLiteral();
      maker.toConst();
      maker.logEntry();
      maker.tryCatch();
      maker.deleteStatement();
      maker.sortImports(tree);
      return maker.out;
    },
  };
}

export const typescriptRewrites = makeRewrites('typescript');
export const javascriptRewrites = makeRewrites('javascript');
