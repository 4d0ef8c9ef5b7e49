// Prompt lookup decoding (PLD): the n-gram baseline (HF prompt_lookup, vLLM ngram, llama.cpp ngram).
// The last n context tokens (n from maxNgram down to minNgram) are looked up in the request's own context;
// the tokens that followed their most recent earlier occurrence become a linear draft.
//
// "Prompt" means everything the request was given: its references (the workspace around the cursor) and its
// prompt, plus the tokens generated so far. That is the definition behind design.md §4's baseline: on the
// public replay set it gives MAT 3.70 / edit 6.55 / complete 1.64, whereas the prompt alone gives 3.63 / 6.55 /
// 1.58. Workspace documents set with setDocument are not searched: PLD stays a per-request baseline.
import type { Draft, Drafter } from './types';

export interface PromptLookupOptions {
  /** Longest n-gram tried first (default 3). */
  maxNgram?: number;
  /** Shortest n-gram tried last (default 1). */
  minNgram?: number;
  /** Also search the references given to begin() (default true, see the header). */
  includeReferences?: boolean;
}

/** Token ids must fit in 20 bits so that n-gram keys stay exact doubles. */
export const MAX_TOKEN_ID = (1 << 20) - 1;
const TOKEN_SPACE = 1 << 20;
/** Marks the boundary between concatenated segments (a reference and the prompt); never matched or copied. */
const SEPARATOR = -1;

/** The draft budget as a whole number of tokens; a negative or NaN budget is a caller bug. */
export function draftBudget(maxTokens: number, drafter: string): number {
  if (!(maxTokens >= 0)) throw new Error(`${drafter}: maxTokens must be a number ≥ 0, got ${String(maxTokens)}`);
  return Math.floor(maxTokens);
}

export function checkTokens(tokens: readonly number[], what: string): void {
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (!Number.isInteger(t) || t < 0 || t > MAX_TOKEN_ID) {
      throw new Error(`${what}: token ${i} is ${String(t)}, expected an integer id in [0, ${MAX_TOKEN_ID}]`);
    }
  }
}

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

export class PromptLookupDrafter implements Drafter {
  readonly name = 'pld';
  private readonly _maxNgram: number;
  private readonly _minNgram: number;
  private readonly _includeReferences: boolean;
  private readonly _requests = new Map<string, NgramContext>();
  private _peakBytes = 0;

  constructor(options: PromptLookupOptions = {}) {
    this._maxNgram = options.maxNgram ?? 3;
    this._minNgram = options.minNgram ?? 1;
    this._includeReferences = options.includeReferences ?? true;
    // Keys of n > 2 chain through one interned bigram id, so n is capped at 3 to keep keys exact.
    if (!Number.isInteger(this._maxNgram) || this._maxNgram < 1 || this._maxNgram > 3) {
      throw new Error(`pld: maxNgram must be 1, 2 or 3, got ${String(options.maxNgram)}`);
    }
    if (!Number.isInteger(this._minNgram) || this._minNgram < 1 || this._minNgram > this._maxNgram) {
      throw new Error(`pld: minNgram must be an integer in [1, maxNgram], got ${String(options.minNgram)}`);
    }
  }

  begin(requestId: string, prompt: readonly number[], references: readonly (readonly number[])[] = []): void {
    checkTokens(prompt, `pld: prompt of ${requestId}`);
    const ctx = new NgramContext(this._maxNgram);
    if (this._includeReferences) {
      // References come first so that the prompt's own occurrences are the most recent ones.
      for (const ref of references) {
        checkTokens(ref, `pld: reference of ${requestId}`);
        for (const t of ref) ctx.push(t);
        ctx.push(SEPARATOR);
      }
    }
    for (const t of prompt) ctx.push(t);
    this._requests.set(requestId, ctx);
    this._notePeak();
  }

  observe(requestId: string, tokens: readonly number[]): void {
    const ctx = this._request(requestId);
    checkTokens(tokens, `pld: tokens observed for ${requestId}`);
    for (const t of tokens) ctx.push(t);
    this._notePeak();
  }

  propose(requestId: string, maxTokens: number): Draft {
    const ctx = this._request(requestId);
    const budget = draftBudget(maxTokens, 'pld');
    const draft: Draft = { tokens: [], parents: [], probs: [], score: 0, matchLen: 0 };
    if (budget === 0) return draft;
    for (let n = this._maxNgram; n >= this._minNgram; n--) {
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

  end(requestId: string, _output?: readonly number[]): void {
    this._requests.delete(requestId);
  }

  /** PLD only searches the request itself: documents are accepted and ignored. */
  setDocument(_docId: string, tokens: readonly number[]): void {
    checkTokens(tokens, 'pld: document');
  }

  removeDocument(_docId: string): void {}

  clearHistory(): void {}

  /** PLD keeps no history across requests. */
  exportHistory(): Uint8Array {
    return new Uint8Array(0);
  }

  importHistory(data: Uint8Array): void {
    if (data.length !== 0) throw new Error(`pld: keeps no history, expected an empty buffer, got ${data.length} bytes`);
  }

  /** Live requests: 4 bytes per token plus about 40 bytes per map entry. */
  estimateBytes(): number {
    let bytes = 0;
    for (const ctx of this._requests.values()) bytes += ctx.tokens.byteLength + 40 * ctx.entries();
    return bytes;
  }

  /** Highest estimateBytes() seen so far. */
  peakBytes(): number {
    return this._peakBytes;
  }

  hasRequest(requestId: string): boolean {
    return this._requests.has(requestId);
  }

  private _request(requestId: string): NgramContext {
    const ctx = this._requests.get(requestId);
    if (!ctx) throw new Error(`pld: unknown request '${requestId}' (call begin first)`);
    return ctx;
  }

  private _notePeak(): void {
    const bytes = this.estimateBytes();
    if (bytes > this._peakBytes) this._peakBytes = bytes;
  }
}
