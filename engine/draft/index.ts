// The drafters' public surface: the registry (every drafter by name, with its parameters), the base every
// drafter extends, and the draft types.
export { createDrafter, DRAFTER_NAMES, DRAFTERS, isDrafterName, type DrafterEntry, type DrafterName, type DrafterParams } from './registry';
export { DrafterBase } from './base';
export { EMPTY_DRAFT, type Draft, type Drafter, type DrafterCapabilities, type DrafterStats, type DraftVerbs } from './types';
