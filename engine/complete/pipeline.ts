// The completion pipeline: the stages' stop rules run while the text streams (the earliest cut wins, so generation
// ends as soon as one fires), then once more on the finished text, which is trimmed and dropped when it damages
// the file's parse. Every stage can be switched off (the quality benchmark's ablation).
import { blockEndRule, type BlockEndFactory } from './blockEnd';
import { lineModeRule } from './lineMode';
import { DEFAULT_MAX_LINES, maxLinesRule } from './maxLines';
import { damagesParse } from './parseDamage';
import { repetitionRule } from './repetition';
import { suffixOverlapRule } from './suffixOverlap';
import type { CursorContext, StageName, StopRule } from './types';

export interface PipelineOptions {
  /** Stages switched off. */
  disabled?: ReadonlySet<StageName>;
  maxLines?: number;
  blockEndFactory?: BlockEndFactory;
  onWarning?: (message: string) => void;
}

export interface FinishedCompletion {
  text: string;
  /** The stage that cut or dropped the text, if any. */
  stoppedBy: StageName | undefined;
}

export class CompletionPipeline {
  private _stoppedBy: StageName | undefined;

  constructor(private readonly _ctx: CursorContext, private readonly _rules: readonly [StageName, StopRule][], private readonly _checkParse: boolean) {}

  /** The stage whose rule stopped the stream, if one did. */
  get stoppedBy(): StageName | undefined {
    return this._stoppedBy;
  }

  /** The streaming stop rule for the decoder: where to cut the text so far, or -1. */
  readonly stopAt = (text: string): number => this._cut(text, false);

  private _cut(text: string, final: boolean): number {
    let best = -1;
    for (const [name, rule] of this._rules) {
      const cut = rule(text, final);
      if (cut >= 0 && cut <= text.length && (best < 0 || cut < best)) {
        best = cut;
        this._stoppedBy = name;
      }
    }
    return best;
  }

  /** The text the inline provider shows: the rules on the whole text, trailing blanks trimmed, parse checked. */
  async finish(text: string): Promise<FinishedCompletion> {
    const cut = this._cut(text, true);
    let out = (cut >= 0 ? text.slice(0, cut) : text).replace(/\s+$/, '');
    if (out.trim() === '') out = '';
    if (out && this._checkParse && (await damagesParse(this._ctx.language, this._ctx.prefix, out, this._ctx.suffix))) {
      // Keep the first line when it alone does no harm; drop the suggestion otherwise.
      this._stoppedBy = 'parseDamage';
      const first = out.slice(0, Math.max(0, out.indexOf('\n'))).trimEnd();
      out = first.trim() && !(await damagesParse(this._ctx.language, this._ctx.prefix, first, this._ctx.suffix)) ? first : '';
    }
    return { text: out, stoppedBy: this._stoppedBy };
  }
}

export async function createCompletionPipeline(ctx: CursorContext, options: PipelineOptions = {}): Promise<CompletionPipeline> {
  const off = options.disabled ?? new Set<StageName>();
  const rules: [StageName, StopRule][] = [];
  if (!off.has('lineMode')) {
    const rule = lineModeRule(ctx);
    if (rule) rules.push(['lineMode', rule]);
  }
  if (!off.has('blockEnd')) rules.push(['blockEnd', await blockEndRule(ctx, options.blockEndFactory, (err) => options.onWarning?.(`block-end rule for ${ctx.language}: ${err.message}`))]);
  if (!off.has('repetition')) rules.push(['repetition', repetitionRule()]);
  if (!off.has('suffixOverlap')) rules.push(['suffixOverlap', suffixOverlapRule(ctx)]);
  if (!off.has('maxLines')) rules.push(['maxLines', maxLinesRule(options.maxLines ?? DEFAULT_MAX_LINES)]);
  return new CompletionPipeline(ctx, rules, !off.has('parseDamage'));
}
