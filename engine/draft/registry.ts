// Every drafter by name (like llama.cpp's common_speculative_type_from_name_map), with its parameters struct
// (every field defaulted and commented in the drafter's own file, like common_params_speculative). The CLI, the
// benchmarks and the engine create drafters only through here, and contract.test.ts runs over every entry.
//
// Adding a drafter: one file that extends DrafterBase (base.ts) with a *_PARAMS struct, and one entry below.
import { HYBRID_PARAMS, HybridDrafter } from './hybrid';
import { LLMA_PARAMS, ReferenceCopyDrafter } from './llma';
import { NONE_PARAMS, NoDrafter } from './none';
import { PLD_PARAMS, PromptLookupDrafter } from './pld';
import { SAM_PARAMS, SuffixAutomatonDrafter } from './sam';
import { SPECULATOR_PARAMS, SpeculatorDrafter } from './speculator';
import { SUFFIX_PARAMS, SuffixDecodingDrafter } from './suffixDecoding';
import type { Drafter } from './types';

export interface DrafterEntry<P extends object> {
  /** One line for help texts. */
  summary: string;
  /** The parameters and their defaults. */
  defaults: Readonly<P>;
  create(params: Partial<P>): Drafter;
  /**
   * True when every draft path continues an occurrence of the context's own end in the text the drafter was
   * given; false when it also proposes other spans of that text (hybrid: line starts, a rewrite's alignment).
   */
  anchored: boolean;
}

function entry<P extends object>(e: DrafterEntry<P>): DrafterEntry<P> {
  return e;
}

export const DRAFTERS = {
  suffix: entry({ summary: 'SuffixDecoding: per-request and global suffix trees, best-first by count', defaults: SUFFIX_PARAMS, create: (p) => new SuffixDecodingDrafter(p), anchored: true }),
  sam: entry({ summary: 'SAM-Decoding: suffix automata over the request, its references and the workspace', defaults: SAM_PARAMS, create: (p) => new SuffixAutomatonDrafter(p), anchored: true }),
  llma: entry({ summary: 'LLMA: copies from reference documents (references, prompt, workspace)', defaults: LLMA_PARAMS, create: (p) => new ReferenceCopyDrafter(p), anchored: true }),
  pld: entry({ summary: 'prompt lookup: n-gram copy from the request itself (the baseline)', defaults: PLD_PARAMS, create: (p) => new PromptLookupDrafter(p), anchored: true }),
  hybrid: entry({ summary: 'the product default: many candidates in one trie, rated by learned acceptance', defaults: HYBRID_PARAMS, create: (p) => new HybridDrafter(p), anchored: false }),
  speculator: entry({ summary: 'MLP speculator: top-k n-grams from the base model\'s last hidden state (the decoder runs it; no draft without one)', defaults: SPECULATOR_PARAMS, create: (p) => new SpeculatorDrafter({ ...p, withHybrid: false }), anchored: false }),
  'hybrid+speculator': entry({ summary: 'hybrid with the MLP speculator\'s n-grams merged into its tree (plain hybrid without a speculator)', defaults: SPECULATOR_PARAMS, create: (p) => new SpeculatorDrafter({ ...p, withHybrid: true }), anchored: false }),
  none: entry({ summary: 'no drafting (plain autoregressive decoding)', defaults: NONE_PARAMS, create: () => new NoDrafter(), anchored: true }),
};

export type DrafterName = keyof typeof DRAFTERS;
type ParamsOf<N extends DrafterName> = (typeof DRAFTERS)[N]['defaults'];
/** Parameters per drafter type; what a name does not use is ignored. */
export type DrafterParams = { [N in DrafterName]?: Partial<ParamsOf<N>> };

export const DRAFTER_NAMES = Object.keys(DRAFTERS) as DrafterName[];

export function isDrafterName(name: string): name is DrafterName {
  return Object.prototype.hasOwnProperty.call(DRAFTERS, name);
}

export function createDrafter(name: string, params: DrafterParams = {}): Drafter {
  if (!isDrafterName(name)) throw new Error(`unknown drafter '${name}' (expected one of ${DRAFTER_NAMES.join(', ')})`);
  const e = DRAFTERS[name] as DrafterEntry<object>;
  return e.create(params[name] ?? {});
}
