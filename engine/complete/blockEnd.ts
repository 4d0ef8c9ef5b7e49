// The end of the enclosing block: the tree-sitter rule (engine/syntax/blockEnd.ts) where the language has a
// grammar, the indentation rule (indentBlockEnd.ts) otherwise or when the grammar fails to load.
import { indentBlockEndRule } from './indentBlockEnd';
import { createBlockEndRule } from '../syntax/blockEnd';
import type { CursorContext, StopRule } from './types';

export type BlockEndFactory = (language: string, prefix: string, suffix: string) => Promise<((completion: string) => number) | undefined>;

export async function blockEndRule(ctx: CursorContext, factory: BlockEndFactory = createBlockEndRule, onError?: (err: Error) => void): Promise<StopRule> {
  const syntax = await factory(ctx.language, ctx.prefix, ctx.suffix).catch((err: unknown) => {
    onError?.(err as Error);
    return undefined;
  });
  const rule = syntax ?? indentBlockEndRule(ctx.prefix);
  return (text) => rule(text);
}
