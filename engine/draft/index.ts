// Drafter registry: every drafter by its name, `hybrid` being the product default.
import type { Drafter } from './types';
import { NoDrafter } from './none';
import { HybridDrafter, type HybridOptions } from './hybrid';
import { PromptLookupDrafter, type PromptLookupOptions } from './pld';
import { SuffixAutomatonDrafter, type SuffixAutomatonOptions } from './sam';
import { ReferenceCopyDrafter, type ReferenceCopyOptions } from './llma';
import { SuffixDecodingDrafter, type SuffixDecodingOptions } from './suffixDecoding';

export const DRAFTER_NAMES = ['suffix', 'sam', 'llma', 'pld', 'hybrid', 'none'] as const;
export type DrafterName = (typeof DRAFTER_NAMES)[number];

export interface DrafterOptions {
  suffix?: SuffixDecodingOptions;
  pld?: PromptLookupOptions;
  sam?: SuffixAutomatonOptions;
  llma?: ReferenceCopyOptions;
  hybrid?: HybridOptions;
}

export function isDrafterName(name: string): name is DrafterName {
  return (DRAFTER_NAMES as readonly string[]).includes(name);
}

export function createDrafter(name: DrafterName | string, options: DrafterOptions = {}): Drafter {
  switch (name) {
    case 'none':
      return new NoDrafter();
    case 'pld':
      return new PromptLookupDrafter(options.pld);
    case 'suffix':
      return new SuffixDecodingDrafter(options.suffix);
    case 'hybrid':
      return new HybridDrafter(options.hybrid);
    case 'sam':
      return new SuffixAutomatonDrafter(options.sam);
    case 'llma':
      return new ReferenceCopyDrafter(options.llma);
    default:
      throw new Error(`unknown drafter '${name}' (expected one of ${DRAFTER_NAMES.join(', ')})`);
  }
}
