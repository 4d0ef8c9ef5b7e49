// Picks the committed benchmark cases from the generator's held-out split: the same number per kind, taken in turn
// from each language that has the kind, so the benchmark runs without the source trees the data came from.
// Usage: npx tsx engine/train/rewrite/fixture.ts --heldout .cache/rewrite/heldout.jsonl \
//          --out engine/bench/fixtures/rewrite-heldout.jsonl [--per-kind 20]
import fs from 'node:fs';
import { makeRng, REWRITE_KINDS } from './types';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : fallback;
}

interface Case { kind: string; language: string; id: string }

const lines = fs.readFileSync(arg('heldout', '.cache/rewrite/heldout.jsonl'), 'utf8').split('\n').filter(Boolean);
const perKind = Number(arg('per-kind', '20'));
const rng = makeRng(7);
const picked: string[] = [];
for (const kind of REWRITE_KINDS) {
  const byLanguage = new Map<string, string[]>();
  for (const line of lines) {
    const c = JSON.parse(line) as Case;
    if (c.kind !== kind) continue;
    const list = byLanguage.get(c.language) ?? [];
    list.push(line);
    byLanguage.set(c.language, list);
  }
  const queues = [...byLanguage.values()].map((l) => l.map((x) => ({ x, r: rng.next() })).sort((a, b) => a.r - b.r).map((e) => e.x));
  let n = 0;
  for (let round = 0; n < perKind && queues.some((q) => q.length > round); round++) {
    for (const q of queues) if (n < perKind && q[round]) { picked.push(q[round]!); n++; }
  }
}
fs.writeFileSync(arg('out', 'engine/bench/fixtures/rewrite-heldout.jsonl'), picked.join('\n') + '\n');
console.log(JSON.stringify({ cases: picked.length }));
