// Prompt lookup decoding (PLD): the n-gram baseline (HF prompt_lookup, vLLM ngram, llama.cpp ngram).
// The last n context tokens (n from maxNgram down to minNgram) are looked up in the request's own context;
// the tokens that followed their most recent earlier occurrence become a linear draft.
//
// "Prompt" means everything the request was given: its references (the workspace around the cursor) and its
// prompt, plus the tokens generated so far. That is the definition of the published PLD baseline: on the
// public replay set it gives MAT 3.70 / edit 6.55 / complete 1.64, whereas the prompt alone gives 3.63 / 6.55 /
// 1.58. Workspace documents set with setDocument are not searched: PLD stays a per-request baseline.
import { DrafterBase } from './base';
import { MAX_TOKEN_ID } from './tokens';
import type { Draft } from './types';

/** Parameters of `pld`; every field has its default here. */
export const PLD_PARAMS = {
  /** Longest n-gram tried first (at most 3: keys of n > 2 chain through one interned bigram id). */
  maxNgram: 3,
  /** Shortest n-gram tried last. */
  minNgram: 1,
  /** Also search the references given to begin() (see the header). */
  includeReferences: true,
};
export type PromptLookupParams = typeof PLD_PARAMS;

const TOKEN_SPACE = MAX_TOKEN_ID + 1;
/** Marks the boundary between concatenated segments (a reference and the prompt); never matched or copied. */
const SEPARATOR = -1;

/** A growable token buffer with a running n-gram index: key → continuation position of its latest occurrence. */
class NgramContext {
  tokens = new Int32Array(256);
  length = 0;
  private readonly _last: Map<number, number>[];
  /** Interned bigrams so that a trigram key (bigramId, token) stays below 2^53. */
  private readonly _bigramIds = new Map<number, number>();

  constructor(private readonly _maxNgram: number) {
    this._last = [];
    for (let n = 0; n <= _maxNgram; n++) this._last.push(new Map());
  }

  push(token: number): void {
    if (this.length === this.tokens.length) {
      const grown = new Int32Array(this.tokens.length * 2);
      grown.set(this.tokens);
      this.tokens = grown;
    }
    this.tokens[this.length++] = token;
    if (token === SEPARATOR) return;
    // Index the n-grams that end just before this token: their continuation (this token) is now known.
    const end = this.length - 1;
    for (let n = 1; n <= this._maxNgram; n++) {
      const key = this._key(end - n, n, true);
      if (key < 0) break;
      this._last[n]!.set(key, end);
    }
  }

  /** Continuation position of the latest earlier occurrence of the last n tokens, or -1. */
  lookup(n: number): number {
    if (this.length < n) return -1;
    const key = this._key(this.length - n, n, false);
    if (key < 0) return -1;
    return this._last[n]!.get(key) ?? -1;
  }

  entries(): number {
    let total = this._bigramIds.size;
    for (const m of this._last) total += m.size;
    return total;
  }

  /** Exact key of tokens[start, start+n), or -1 when it spans a separator (or an unseen bigram on lookup). */
  private _key(start: number, n: number, intern: boolean): number {
    if (start < 0) return -1;
    const t = this.tokens;
    for (let i = start; i < start + n; i++) if (t[i]! < 0) return -1;
    if (n === 1) return t[start]!;
    const pair = t[start]! * TOKEN_SPACE + t[start + 1]!;
    if (n === 2) return pair;
    let id = this._bigramIds.get(pair);
    if (id === undefined) {
      if (!intern) return -1;
      id = this._bigramIds.size;
      this._bigramIds.set(pair, id);
    }
    let key = id;
    for (let i = start + 2; i < start + n; i++) key = key * TOKEN_SPACE + t[i]!;
    return key;
  }
}

export class PromptLookupDrafter extends DrafterBase<NgramContext> {
  readonly name = 'pld';
  private readonly _params: PromptLookupParams;

  constructor(params: Partial<PromptLookupParams> = {}) {
    super();
    const p = (this._params = { ...PLD_PARAMS, ...params });
    if (!Number.isInteger(p.maxNgram) || p.maxNgram < 1 || p.maxNgram > 3) {
      throw new Error(`pld: maxNgram must be 1, 2 or 3, got ${String(params.maxNgram)}`);
    }
    if (!Number.isInteger(p.minNgram) || p.minNgram < 1 || p.minNgram > p.maxNgram) {
      throw new Error(`pld: minNgram must be an integer in [1, maxNgram], got ${String(params.minNgram)}`);
    }
  }

  protected open(_requestId: string, prompt: readonly number[], references: readonly (readonly number[])[]): NgramContext {
    const ctx = new NgramContext(this._params.maxNgram);
    if (this._params.includeReferences) {
      // References come first so that the prompt's own occurrences are the most recent ones.
      for (const ref of references) {
        for (const t of ref) ctx.push(t);
        ctx.push(SEPARATOR);
      }
    }
    for (const t of prompt) ctx.push(t);
    return ctx;
  }

  protected append(ctx: NgramContext, tokens: readonly number[]): void {
    for (const t of tokens) ctx.push(t);
  }

  protected draft(ctx: NgramContext, budget: number): Draft {
    const draft: Draft = { tokens: [], parents: [], probs: [], score: 0, matchLen: 0 };
    for (let n = this._params.maxNgram; n >= this._params.minNgram; n--) {
      const pos = ctx.lookup(n);
      if (pos < 0) continue;
      // Longer matches make a continuation more likely; the per-token rate is a heuristic for ranking.
      const rate = 1 - 1 / (n + 2);
      let p = 1;
      for (let j = 0; j < budget && pos + j < ctx.length; j++) {
        const t = ctx.tokens[pos + j]!;
        if (t === SEPARATOR) break;
        p *= rate;
        draft.tokens.push(t);
        draft.parents.push(j - 1);
        draft.probs.push(p);
        draft.score += p;
      }
      draft.matchLen = n;
      break;
    }
    return draft;
  }

  /** Live requests: 4 bytes per token plus about 40 bytes per map entry. */
  override estimateBytes(): number {
    let bytes = 0;
    for (const ctx of this.liveRequests()) bytes += ctx.tokens.byteLength + 40 * ctx.entries();
    return bytes;
  }
}
