// Repetition guard: a small model that loses its way loops (`p: Point; p: Point; …` thirty times on one line, the
// same line again and again). When a stretch of text repeats back to back beyond a bound, keep its first copy only.
import type { StopRule } from './types';

export interface RepetitionOptions {
  /** Longest repeating unit looked for, in characters (a line or an n-gram). */
  maxUnit?: number;
}

/** Copies needed before a unit counts as a loop: short units must repeat more often. */
function bound(unit: number): number {
  return unit >= 6 ? 3 : 4;
}

/** Code, not a ruler (`-----`), padding or a numeric table (`0, 0, 0, 0`): a letter and two distinct characters. */
function looksLikeCode(unit: string): boolean {
  return /\p{L}/u.test(unit) && new Set(unit.replace(/\s/g, '')).size >= 2;
}

/** The same line (ignoring indentation) three times in a row: the cut after the first. */
export function lineRepeatCut(text: string): number {
  let offset = 0;
  let runEnd = 0;
  let previous: string | undefined;
  let count = 0;
  for (const line of text.split('\n')) {
    const key = line.trim();
    if (key === previous && looksLikeCode(key)) {
      if (++count >= 3) return runEnd;
    } else {
      previous = key;
      count = 1;
      runEnd = offset + line.trimEnd().length;
    }
    offset += line.length + 1;
  }
  return -1;
}

/** The cut after the first copy of the earliest back-to-back repetition (an n-gram) beyond the bound, or -1. */
export function tandemCut(text: string, options: RepetitionOptions = {}): number {
  const maxUnit = Math.min(options.maxUnit ?? 80, Math.floor(text.length / 3));
  let best = -1;
  for (let u = 2; u <= maxUnit; u++) {
    const need = (bound(u) - 1) * u;
    let run = 0;
    for (let i = u; i < text.length; i++) {
      run = text.charCodeAt(i) === text.charCodeAt(i - u) ? run + 1 : 0;
      if (run < need) continue;
      const start = i - run + 1 - u;
      const unit = text.slice(start, start + u);
      if (looksLikeCode(unit)) {
        let cut = start + u;
        while (cut > start + 1 && /\s/.test(text[cut - 1]!)) cut--;
        if (best < 0 || cut < best) best = cut;
      }
      break;
    }
  }
  return best;
}

/** The earlier of the two cuts. */
export function repetitionCut(text: string, options: RepetitionOptions = {}): number {
  const a = tandemCut(text, options);
  const b = lineRepeatCut(text);
  return a < 0 ? b : b < 0 ? a : Math.min(a, b);
}

export function repetitionRule(options: RepetitionOptions = {}): StopRule {
  return (text) => repetitionCut(text, options);
}
