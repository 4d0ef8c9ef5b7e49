// A healed completion is generated with the backed-up text (`removed`) in front of it; the stop rules, the streamed
// deltas and the result all speak of the text after the cursor, so that part is taken off everywhere.
import { stripHealed } from '../prompt/healing';

export interface HealedView {
  /** A stop rule on the text after the cursor, as a rule on the generated text. */
  stopAt(rule: (text: string) => number): (generated: string) => number;
  /** Streamed deltas of the generated text, as deltas of the text after the cursor. */
  onDelta(sink: (delta: string) => void): (delta: string) => void;
  text(generated: string): string;
}

export function healedView(removed: string): HealedView {
  return {
    stopAt: (rule) => (generated) => {
      if (generated.length < removed.length) return -1;
      const cut = rule(stripHealed(generated, removed));
      return cut < 0 ? -1 : cut + removed.length;
    },
    onDelta: (sink) => {
      let skip = removed.length;
      return (delta) => {
        const kept = delta.slice(Math.min(skip, delta.length));
        skip = Math.max(0, skip - delta.length);
        if (kept) sink(kept);
      };
    },
    text: (generated) => stripHealed(generated, removed),
  };
}
