// Index benchmark: builds the global indexes over >= 1 M tokens of real code and reports bytes per indexed
// token and build throughput. The corpus: replay references (deduplicated), then source files under
// node_modules, in a fixed order so that runs are comparable.
import fs from 'node:fs';
import path from 'node:path';
import { TokenIndex } from '../draft/tokenIndex';
import { SuffixTree } from '../draft/suffixTree';
import { loadRecords } from './replay';

export interface IndexBenchResult {
  structure: string;
  tokens: number;
  bytes_per_token: number;
  build_tokens_per_s: number;
}

const SOURCE_EXT = new Set(['.ts', '.js', '.mjs', '.cjs', '.py']);

/** Texts of real code: the replay references, then node_modules sources, until `minChars` characters. */
export function collectCorpus(dataFiles: readonly string[], nodeModules: string, minChars: number): string[] {
  const seen = new Set<string>();
  const texts: string[] = [];
  let chars = 0;
  const add = (text: string): void => {
    if (text.length === 0 || seen.has(text)) return;
    seen.add(text);
    texts.push(text);
    chars += text.length;
  };
  for (const f of dataFiles) for (const r of loadRecords(f)) for (const ref of r.references) add(ref);
  const walk = (dir: string): void => {
    if (chars >= minChars) return;
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name));
    } catch {
      return;
    }
    for (const e of entries) {
      if (chars >= minChars) return;
      const full = path.join(dir, e.name);
      if (e.isDirectory()) walk(full);
      else if (e.isFile() && SOURCE_EXT.has(path.extname(e.name)) && !e.name.endsWith('.min.js')) {
        const st = fs.statSync(full);
        if (st.size > 0 && st.size < 512 * 1024) add(fs.readFileSync(full, 'utf8'));
      }
    }
  };
  walk(nodeModules);
  return texts;
}

function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Builds the token index `runs` times over the documents; median throughput, bytes from estimateBytes(). */
export function benchTokenIndex(docs: readonly Int32Array[], runs: number): IndexBenchResult {
  const tokens = docs.reduce((s, d) => s + d.length, 0);
  const rates: number[] = [];
  let bytes = 0;
  for (let r = 0; r < runs; r++) {
    const index = new TokenIndex();
    const t0 = performance.now();
    docs.forEach((d, i) => index.add(`d${i}`, d));
    rates.push(tokens / ((performance.now() - t0) / 1000));
    bytes = index.estimateBytes();
  }
  return { structure: 'token-index (arena + 3-gram and token hash chains)', tokens, bytes_per_token: round(bytes / tokens), build_tokens_per_s: Math.round(median(rates)) };
}

/** Builds a suffix tree (SuffixDecoding layout) over the documents. */
export function benchSuffixTree(docs: readonly Int32Array[], maxDepth: number, runs: number): IndexBenchResult {
  const tokens = docs.reduce((s, d) => s + d.length, 0);
  const rates: number[] = [];
  let bytes = 0;
  for (let r = 0; r < runs; r++) {
    const tree = new SuffixTree({ maxDepth });
    const t0 = performance.now();
    docs.forEach((d, i) => {
      tree.append(i, d);
      tree.seal(i);
    });
    rates.push(tokens / ((performance.now() - t0) / 1000));
    bytes = tree.estimateBytes();
  }
  return { structure: `suffix-tree (max depth ${maxDepth})`, tokens, bytes_per_token: round(bytes / tokens), build_tokens_per_s: Math.round(median(rates)) };
}

const round = (x: number): number => Math.round(x * 100) / 100;
