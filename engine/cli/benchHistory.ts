// `bench-history [--sizes 1,4,16] [--runs 3] --json`
// Engine-start history load (read + check + import into the default drafter) at each size, as one JSON line.
import { benchHistoryLoad } from '../bench/historyLoad';
import { boolFlag, flag, numberFlag, parseArgs } from './args';

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, ['json']);
  const sizes = (flag(args, 'sizes') ?? '1,4,16').split(',').map((s) => Number(s.trim()));
  if (sizes.some((s) => !(s > 0 && s <= 256))) throw new Error(`bench-history: --sizes must be megabytes in (0, 256], got ${flag(args, 'sizes')}`);
  const runs = Math.max(1, Math.floor(numberFlag(args, 'runs', 3)));
  const results = benchHistoryLoad(sizes, runs);
  if (!boolFlag(args, 'json')) for (const r of results) process.stdout.write(`${r.layout} ${r.megabytes} MB (${r.sequences} completions): ${r.totalMs} ms (${r.msPerMegabyte} ms/MB)\n`);
  // Linear growth: ms per MB at the largest size over ms per MB at the smallest (about 1 when linear).
  const growth = (layout: string): number | undefined => {
    const rows = results.filter((r) => r.layout === layout);
    if (rows.length < 2) return undefined;
    return Math.round((rows.at(-1)!.msPerMegabyte / rows[0]!.msPerMegabyte) * 100) / 100;
  };
  process.stdout.write(JSON.stringify({ sizesMB: sizes, runs, drafter: 'hybrid', results, perMegabyteGrowth: { snapshot: growth('snapshot'), 'snapshot+log': growth('snapshot+log') } }) + '\n');
  return 0;
}
