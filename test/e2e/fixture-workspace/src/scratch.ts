// Scratch file: the inline-completion scenario types here.
import { distance, midpoint } from './shapes';

export function describe(a: { x: number; y: number }, b: { x: number; y: number }): string {
  const d = distance(a, b);
  const m = midpoint(a, b);
  return `distance ${d} midpoint ${m.x},${m.y}`;
}

