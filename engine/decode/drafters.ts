// Drafter construction for the decoding commands and the engine, by name ('none' means plain decoding).
import { createDrafter, DRAFTER_NAMES, type DrafterParams } from '../draft/index';
import type { Drafter } from '../draft/types';

export function availableDrafters(): string[] {
  return [...DRAFTER_NAMES];
}

export function makeDrafter(name: string, options?: DrafterParams): Drafter | undefined {
  if (name === 'none') return undefined;
  return createDrafter(name, options);
}
