// The `none` drafter: always the empty draft (plain autoregressive decoding, MAT exactly 1).
import { DrafterBase } from './base';
import { EMPTY_DRAFT, type Draft } from './types';

/** `none` has no parameters. */
export const NONE_PARAMS = {};
export type NoneParams = typeof NONE_PARAMS;

export class NoDrafter extends DrafterBase<null> {
  readonly name: string = 'none';
  protected open(): null {
    return null;
  }
  protected append(): void {}
  protected draft(): Draft {
    return { ...EMPTY_DRAFT, tokens: [], parents: [], probs: [] };
  }
}
