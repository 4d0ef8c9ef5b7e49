// Builds the synthetic rewrite data from local source trees: every language module's examples, kept only when the
// edited file parses, split by package (held-out packages never reach training), balanced per language and kind.
// Writes train.jsonl (with the product's own base-model rewrite prompt and target token ids) and heldout.jsonl
// (benchmark cases: the file around the selection, the selection and the expected output).
//
// Usage: npx tsx engine/train/rewrite/generate.ts --tokenizer models/demo --out .cache/rewrite
//          [--per-kind 2500] [--heldout-per-kind 120] [--max-tokens 768] [--fixture engine/bench/fixtures/rewrite-heldout.jsonl]
import fs from 'node:fs';
import path from 'node:path';
import { buildRewritePrompt } from '../../prompt/chat';
import { loadTokenizer } from '../../tokenizer';
import { CORPUS_HELDOUT, walkSources, type WalkRules } from '../sourceTree';
import { editParses, parseSource } from './parse';
import { REWRITE_KINDS, makeRng, type LanguageRewrites, type RewriteExample, type RewriteLanguage } from './types';
import { javascriptRewrites, typescriptRewrites } from './typescript';

interface Root {
  language: RewriteLanguage;
  dir: string;
  ext: RegExp;
  /** The package a file belongs to, for the split. */
  packageOf(rel: string): string;
  /** The package's license, where the tree holds packages under different ones. */
  licenseOf?(pkg: string): string;
}

// Permissive licenses only, as the demo model's corpus (corpus.py); the other trees are PSF, BSD-3 and MIT/Apache.
const PERMISSIVE = /^\(?(MIT|ISC|Apache-2\.0|BSD-[23]-Clause|0BSD)( OR .*)?\)?$/;

function npmLicense(pkg: string): string {
  try {
    const manifest = JSON.parse(fs.readFileSync(path.join('node_modules', pkg, 'package.json'), 'utf8')) as { license?: unknown };
    return typeof manifest.license === 'string' ? manifest.license : '';
  } catch {
    return '';
  }
}

const npmPackage = (rel: string): string => {
  const parts = rel.split(path.sep);
  const i = parts.lastIndexOf('node_modules');
  const rest = parts.slice(i + 1);
  return rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0] ?? rel;
};

const ROOTS: Root[] = [
  { language: 'typescript', dir: 'node_modules', ext: /\.(ts|mts|cts)$/, packageOf: (rel) => npmPackage(path.join('node_modules', rel)), licenseOf: npmLicense },
  { language: 'javascript', dir: 'node_modules', ext: /\.(js|mjs|cjs)$/, packageOf: (rel) => npmPackage(path.join('node_modules', rel)), licenseOf: npmLicense },
  { language: 'python', dir: '/usr/lib/python3.11', ext: /\.py$/, packageOf: (rel) => rel.split(path.sep)[0]!.replace(/\.py$/, '') },
  { language: 'go', dir: '/usr/share/go-1.19/src', ext: /\.go$/, packageOf: (rel) => path.dirname(rel) },
  { language: 'rust', dir: '/usr/lib/rustlib/src/rust/library', ext: /\.rs$/, packageOf: (rel) => rel.split(path.sep).slice(0, 3).join('/') },
];

function isHeldout(pkg: string): boolean {
  // The demo model's own held-out packages stay held out here too.
  if (CORPUS_HELDOUT.has(pkg)) return true;
  let h = 2166136261;
  for (let i = 0; i < pkg.length; i++) h = Math.imul(h ^ pkg.charCodeAt(i), 16777619) >>> 0;
  return h % 10 === 0;
}

/** Sources with this extension, less tests, fixtures, vendored, declaration, minified and bundled files. */
const walkRules = (ext: RegExp): WalkRules => ({
  maxDepth: 14,
  skipDirs: ['test', 'tests', 'testdata', '__pycache__', 'vendor', 'fixtures'],
  accept: (name) => ext.test(name) && !/\.d\.[mc]?ts$|\.min\.|_test\.go$|\.bundle\./.test(name),
});

function looksGenerated(text: string): boolean {
  const lines = text.split('\n');
  return Math.max(...lines.map((l) => l.length)) > 400 || text.length / lines.length > 100 || /@generated|DO NOT EDIT|sourceMappingURL=/.test(text.slice(0, 2000) + text.slice(-300));
}

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : fallback;
}

/** Up to `chars` of whole lines before and after the selection: the file the benchmark's case edits. */
function context(source: string, ex: RewriteExample, chars: number): { prefix: string; suffix: string } {
  let a = Math.max(0, ex.start - chars);
  if (a > 0) a = source.indexOf('\n', a) + 1;
  let b = Math.min(source.length, ex.end + chars);
  if (b < source.length) b = Math.max(ex.end, source.lastIndexOf('\n', b));
  return { prefix: source.slice(a, ex.start), suffix: source.slice(ex.end, b) };
}

interface Kept extends RewriteExample { package: string; path: string; prefix: string; suffix: string }

async function main(): Promise<void> {
  const modules: Partial<Record<RewriteLanguage, LanguageRewrites>> = { typescript: typescriptRewrites, javascript: javascriptRewrites };
  for (const [file, name] of [['./python', 'pythonRewrites'], ['./go', 'goRewrites'], ['./rust', 'rustRewrites']] as const) {
    try {
      const mod = (await import(file)) as Record<string, LanguageRewrites>;
      if (mod[name]) modules[mod[name].language] = mod[name];
    } catch (err) {
      console.error(`skipping ${file}: ${(err as Error).message}`);
    }
  }
  const tokenizer = loadTokenizer(arg('tokenizer', 'models/demo'));
  const outDir = arg('out', '.cache/rewrite');
  const perKind = Number(arg('per-kind', '2500'));
  const heldoutPerKind = Number(arg('heldout-per-kind', '120'));
  const maxTokens = Number(arg('max-tokens', '768'));
  const filesPerPackage = Number(arg('files-per-package', '40'));
  const fileSep = tokenizer.tokenId('<file_sep>');
  if (fileSep === undefined) throw new Error('the tokenizer has no <file_sep> token');
  const rng = makeRng(20261201);
  const pools = new Map<string, Kept[]>();
  const stats: Record<string, number> = {};
  for (const root of ROOTS) {
    const rewrites = modules[root.language];
    if (!rewrites) continue;
    const perPackage = new Map<string, number>();
    for (const file of walkSources(root.dir, walkRules(root.ext))) {
      const rel = path.relative(root.dir, file);
      const pkg = root.packageOf(rel);
      if ((perPackage.get(pkg) ?? 0) >= filesPerPackage) continue;
      if (root.licenseOf && !PERMISSIVE.test(root.licenseOf(pkg))) {
        perPackage.set(pkg, filesPerPackage);
        continue;
      }
      const size = fs.statSync(file).size;
      if (size < 300 || size > 80_000) continue;
      const source = fs.readFileSync(file, 'utf8');
      if (source.includes('\uFFFD') || looksGenerated(source)) continue;
      perPackage.set(pkg, (perPackage.get(pkg) ?? 0) + 1);
      const tree = await parseSource(root.language, source);
      let examples: RewriteExample[] = [];
      try {
        if (!tree.rootNode.hasError) examples = rewrites.generate(source, tree, rng);
      } finally {
        tree.delete();
      }
      const split = isHeldout(pkg) ? 'heldout' : 'train';
      for (const ex of examples) {
        stats[`made.${root.language}`] = (stats[`made.${root.language}`] ?? 0) + 1;
        if (source.slice(ex.start, ex.end) !== ex.selection || !(await editParses(root.language, source, ex))) {
          stats[`rejected.${root.language}`] = (stats[`rejected.${root.language}`] ?? 0) + 1;
          continue;
        }
        const key = `${split}|${ex.language}|${ex.kind}`;
        const pool = pools.get(key) ?? [];
        pool.push({ ...ex, package: pkg, path: path.join(root.dir, rel), ...context(source, ex, 1500) });
        pools.set(key, pool);
      }
    }
  }
  fs.mkdirSync(outDir, { recursive: true });
  const counts: Record<string, number> = {};
  const write = (split: 'train' | 'heldout', cap: number): Kept[] => {
    const lines: string[] = [];
    const kept: Kept[] = [];
    for (const [key, pool] of [...pools].sort(([a], [b]) => a.localeCompare(b))) {
      if (!key.startsWith(`${split}|`)) continue;
      const language = key.split('|')[1] as RewriteLanguage;
      // An even share per language: a kind's cap is split across the languages that have it.
      const languagesWithKind = new Set([...pools.keys()].filter((k) => k.startsWith(`${split}|`) && k.endsWith(`|${key.split('|')[2]}`)).map((k) => k.split('|')[1]));
      const quota = Math.ceil(cap / languagesWithKind.size);
      const shuffled = pool.map((e) => ({ e, r: rng.next() })).sort((a, b) => a.r - b.r).map((x) => x.e);
      let n = 0;
      for (const ex of shuffled) {
        if (n >= quota) break;
        const input = { instruction: ex.instruction, selection: ex.selection, language };
        const ids = buildRewritePrompt(tokenizer, 'plain', input, { maxPromptTokens: 4096 }).ids;
        const target = [...tokenizer.encode(`${ex.output}\n`), fileSep];
        if (ids.length + target.length > maxTokens) continue;
        n++;
        kept.push(ex);
        const base = { kind: ex.kind, language, package: ex.package, path: ex.path, instruction: ex.instruction, selection: ex.selection, output: ex.output };
        lines.push(JSON.stringify(split === 'train' ? { ...base, ids, target } : { id: `${language}-${ex.kind}-${n}`, ...base, prefix: ex.prefix, suffix: ex.suffix }));
      }
      counts[key] = n;
    }
    fs.writeFileSync(path.join(outDir, `${split}.jsonl`), lines.join('\n') + '\n');
    return kept;
  };
  write('train', perKind);
  write('heldout', heldoutPerKind);
  console.log(JSON.stringify({ counts, stats, kinds: REWRITE_KINDS }));
}

void main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
