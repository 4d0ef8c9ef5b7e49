// Drafter construction for the decoding commands and the engine, by name.
import { PromptLookupDrafter } from '../draft/pld';
import type { Drafter } from '../draft/types';

export const DECODE_DRAFTER_NAMES = ['hybrid', 'suffix', 'sam', 'llma', 'pld', 'none'] as const;
export type DecodeDrafterName = (typeof DECODE_DRAFTER_NAMES)[number];

type Factory = (options?: Record<string, unknown>) => Drafter;
const factories = new Map<string, Factory>([['pld', () => new PromptLookupDrafter()]]);

/** Names this build can construct ('none' always). */
export function availableDrafters(): string[] {
  return [...factories.keys(), 'none'];
}

/** Builds a drafter; 'none' gives undefined (plain decoding). 'hybrid' falls back to the best available drafter. */
export function makeDrafter(name: string, options?: Record<string, unknown>): Drafter | undefined {
  if (name === 'none') return undefined;
  const factory = factories.get(name) ?? (name === 'hybrid' ? factories.get('pld') : undefined);
  if (!factory) throw new Error(`unknown drafter '${name}' (available: ${availableDrafters().join(', ')})`);
  return factory(options);
}
