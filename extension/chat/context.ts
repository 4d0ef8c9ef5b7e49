// Workspace context for a chat question: what the question mentions, where symbols are defined, and which
// snippets fit the budget. Pure: no vscode import; the host feeds it file texts.

export interface QuestionRefs {
  /** Paths or file names the question mentions (`@src/a.ts`, `shapes.ts`). */
  files: string[];
  /** Code-like identifiers (camelCase, snake_case, `quoted`, called()), most specific first. */
  symbols: string[];
  /** Plain words that may name a symbol; only matched against definitions. */
  words: string[];
}

const STOP_WORDS = new Set(
  'about above after again also another answer any anything because before being below between both called calls change class code could does doing done each even every example explain file files find from function functions give have here how into just know like line lines look make many method more most much must need only other over please return returns same should show some such than that their them then there these they thing this those through used uses using value variable very want what when where which while with without work works would write your'.split(
    ' ',
  ),
);

const FILE_MENTION = /(?:^|[\s(`'"])@([\w./\\-]+[\w])/g;
const FILE_NAME = /(?:^|[\s(`'"])((?:[\w-]+[/\\])*[\w-]+\.[A-Za-z][\w]{0,6})(?=$|[\s)`'",:;!?]|\.(?:\s|$))/g;
const IDENTIFIER = /[A-Za-z_$][\w$]*/g;

export function parseQuestion(question: string): QuestionRefs {
  const files = new Set<string>();
  for (const m of question.matchAll(FILE_MENTION)) files.add(m[1]!.replace(/\\/g, '/'));
  for (const m of question.matchAll(FILE_NAME)) {
    const name = m[1]!.replace(/\\/g, '/');
    // "e.g" and version-like tokens are not files: a file name has two or more characters before the dot.
    if (/^[A-Za-z_][\w-]+(\/[\w-]+)*\.[A-Za-z]\w*$/.test(name) || name.includes('/')) files.add(name);
  }
  const fileWords = new Set([...files].flatMap((f) => f.split(/[/.]/)));
  const quoted = [...question.matchAll(/`([^`\n]{1,80})`/g)].flatMap((m) => m[1]!.match(IDENTIFIER) ?? []);
  const called = [...question.matchAll(/([A-Za-z_$][\w$]*)\s*\(/g)].map((m) => m[1]!);
  const symbols: string[] = [];
  const words: string[] = [];
  const add = (list: string[], s: string): void => {
    if (s.length >= 3 && !symbols.includes(s) && !words.includes(s) && !fileWords.has(s)) list.push(s);
  };
  for (const s of [...quoted, ...called]) add(symbols, s);
  for (const m of question.matchAll(IDENTIFIER)) {
    const s = m[0];
    const sentenceStart = /(^|[.?!:]\s+)$/.test(question.slice(0, m.index));
    const codeLike = /[a-z][A-Z]/.test(s) || /[A-Z].*[A-Z]/.test(s.slice(1)) || s.includes('_') || s.includes('$');
    if (codeLike) add(symbols, s);
    else if (s.length >= 4 && !STOP_WORDS.has(s.toLowerCase()) && /^[a-z]/.test(s)) add(words, s);
    else if (/^[A-Z][a-z]+$/.test(s) && s.length >= 4 && !sentenceStart && !STOP_WORDS.has(s.toLowerCase())) add(words, s);
  }
  return { files: [...files].slice(0, 8), symbols: symbols.slice(0, 12), words: words.slice(0, 12) };
}

export interface SymbolHit {
  symbol: string;
  /** 0-based line of the hit. */
  line: number;
  /** Definitions rank above plain uses. */
  definition: boolean;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Where each symbol is defined (or, for code-like symbols, at least used) in a file's text. */
export function findSymbols(text: string, symbols: readonly string[], words: readonly string[], maxHits = 4): SymbolHit[] {
  const lines = text.split(/\r\n|\r|\n/);
  const hits: SymbolHit[] = [];
  const search = (name: string, allowUse: boolean): void => {
    const e = escapeRegExp(name);
    const def = new RegExp(
      `(?:\\b(?:function\\*?|class|interface|type|enum|def|fn|func|struct|trait|impl|const|let|var|val|module|namespace)\\s+${e}\\b)|(?:^\\s*(?:export\\s+|public\\s+|private\\s+|protected\\s+|static\\s+|async\\s+)*${e}\\s*(?:[:=(<]))`,
    );
    const use = new RegExp(`\\b${e}\\b`);
    let useLine = -1;
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!;
      if (line.length > 2000 || !line.includes(name)) continue;
      if (def.test(line)) {
        hits.push({ symbol: name, line: i, definition: true });
        return;
      }
      if (allowUse && useLine < 0 && use.test(line)) useLine = i;
    }
    if (useLine >= 0) hits.push({ symbol: name, line: useLine, definition: false });
  };
  for (const s of symbols) search(s, true);
  for (const w of words) search(w, false);
  return hits.sort((a, b) => Number(b.definition) - Number(a.definition)).slice(0, maxHits);
}

export interface Snippet {
  uri: string;
  /** Workspace-relative path, for labels. */
  path: string;
  /** 0-based first line. */
  startLine: number;
  text: string;
  /** 0-based line a citation should open at (the definition itself); defaults to startLine. */
  focusLine?: number;
  /** Higher first when the budget is short. */
  priority: number;
}

/** Lines [center - before, center + after] of a text, clamped, as a snippet body. */
export function windowAround(text: string, center: number, before: number, after: number): { startLine: number; text: string } {
  const lines = text.split(/\r\n|\r|\n/);
  const start = Math.max(0, Math.min(center, lines.length - 1) - before);
  const end = Math.min(lines.length, center + after + 1);
  return { startLine: start, text: lines.slice(start, end).join('\n') };
}

/** For a definition: its leading comments and decorators, then up to where its block seems to end (brace or indent), capped. */
export function definitionWindow(text: string, line: number, maxLines = 40): { startLine: number; text: string } {
  const lines = text.split(/\r\n|\r|\n/);
  let start = line;
  while (start > 0 && line - start < 10 && /^\s*(\/\/|#|\/\*|\*|@\w)/.test(lines[start - 1]!)) start--;
  const indent = (s: string): number => /^\s*/.exec(s)![0].length;
  const baseIndent = indent(lines[line] ?? '');
  let depth = 0;
  let end = line;
  for (let i = line; i < lines.length && i < line + maxLines; i++) {
    const l = lines[i]!;
    end = i;
    for (const c of l) {
      if (c === '{' || c === '(' || c === '[') depth++;
      else if (c === '}' || c === ')' || c === ']') depth--;
    }
    if (i > line && depth <= 0) {
      const closes = /^\s*[}\])]/.test(l);
      const dedented = l.trim() !== '' && indent(l) <= baseIndent && !closes;
      if (closes || dedented) {
        if (dedented) end = i - 1;
        break;
      }
    }
  }
  return { startLine: start, text: lines.slice(start, end + 1).join('\n') };
}

/** Keeps the best snippets within the budget: no duplicates or overlaps in one file, at most `maxSnippets`. */
export function selectSnippets(candidates: readonly Snippet[], budgetChars: number, maxSnippets: number): Snippet[] {
  const chosen: Snippet[] = [];
  let used = 0;
  const sorted = [...candidates].sort((a, b) => b.priority - a.priority);
  for (const c of sorted) {
    if (chosen.length >= maxSnippets) break;
    const cLines = c.text.split('\n').length;
    const overlaps = chosen.some((s) => s.uri === c.uri && c.startLine < s.startLine + s.text.split('\n').length && s.startLine < c.startLine + cLines);
    if (overlaps) continue;
    let text = c.text;
    if (used + text.length > budgetChars) {
      const room = budgetChars - used;
      if (room < 200) continue;
      text = text.slice(0, room);
      text = text.slice(0, Math.max(0, text.lastIndexOf('\n')));
      if (!text) continue;
    }
    chosen.push({ ...c, text });
    used += text.length;
  }
  return chosen;
}


/** "src/shapes.ts:17" (1-based line for people). */
export function sourceLabel(relativePath: string, line: number): string {
  return `${relativePath}:${line + 1}`;
}
