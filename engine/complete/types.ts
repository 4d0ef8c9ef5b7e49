// The completion pipeline's shared shapes: what a stage knows about the cursor, and what a stop rule returns.

/** The text around the cursor, as the inline provider sends it. */
export interface CursorContext {
  /** VS Code language id (typescript, python, go, rust…). */
  language: string;
  prefix: string;
  suffix: string;
}

/**
 * A stop rule on the completion text so far (the text after the cursor): the index at which to cut it, or -1 to go
 * on. `final` is true once generation has ended, when an unfinished last line may be judged too.
 */
export type StopRule = (text: string, final: boolean) => number;

/** The stages, in the order they run; each can be switched off (benchmark ablation). */
export const STAGES = ['lineMode', 'blockEnd', 'repetition', 'suffixOverlap', 'maxLines', 'parseDamage'] as const;
export type StageName = (typeof STAGES)[number];

/** The cursor's line before and after the cursor. */
export function cursorLine(ctx: Pick<CursorContext, 'prefix' | 'suffix'>): { before: string; after: string } {
  const nl = ctx.suffix.indexOf('\n');
  return { before: ctx.prefix.slice(ctx.prefix.lastIndexOf('\n') + 1), after: nl < 0 ? ctx.suffix : ctx.suffix.slice(0, nl) };
}
