// The one base every drafter extends (like llama.cpp's common_speculative_impl): it owns the per-request map,
// checks tokens and budgets, keeps the counters, and defaults the optional capabilities. A drafter implements
// the four hooks (open, append, draft, and optionally close) and overrides only the capabilities it has.
import { acceptedLength } from './draftTrie';
import { checkTokens, draftBudget } from './tokens';
import { EMPTY_DRAFT, type Draft, type Drafter, type DrafterStats } from './types';

interface RequestSlot<R> {
  state: R;
  /** The last draft proposed, judged by the next observe. */
  last: Draft | null;
}

export abstract class DrafterBase<R = unknown> implements Drafter {
  abstract readonly name: string;
  private readonly _slots = new Map<string, RequestSlot<R>>();
  private readonly _stats: DrafterStats = { drafts: 0, proposedTokens: 0, acceptedTokens: 0, draftMs: 0, peakBytes: 0 };

  // ---- the verbs (final: drafters implement the hooks below) ----

  begin(requestId: string, prompt: readonly number[], references: readonly (readonly number[])[] = []): void {
    checkTokens(prompt, `${this.name}: prompt of ${requestId}`);
    references.forEach((ref, i) => checkTokens(ref, `${this.name}: reference ${i} of ${requestId}`));
    this._slots.set(requestId, { state: this.open(requestId, prompt, references), last: null });
    this.notePeak();
  }

  observe(requestId: string, tokens: readonly number[]): void {
    const slot = this._slot(requestId);
    checkTokens(tokens, `${this.name}: tokens observed for ${requestId}`);
    if (slot.last) this._stats.acceptedTokens += acceptedLength(slot.last, tokens, 0);
    slot.last = null;
    this.append(slot.state, tokens, requestId);
  }

  propose(requestId: string, maxTokens: number): Draft {
    const slot = this._slot(requestId);
    const budget = draftBudget(maxTokens, this.name);
    if (budget === 0) return { ...EMPTY_DRAFT, tokens: [], parents: [], probs: [] };
    const t0 = performance.now();
    const draft = this.draft(slot.state, budget, requestId);
    this._stats.draftMs += performance.now() - t0;
    this._stats.drafts++;
    this._stats.proposedTokens += draft.tokens.length;
    slot.last = draft;
    return draft;
  }

  end(requestId: string, output?: readonly number[]): void {
    const slot = this._slots.get(requestId);
    if (slot) {
      this.notePeak();
      this._slots.delete(requestId);
      this.close(slot.state, requestId, output);
    }
    if (output && output.length > 0) {
      checkTokens(output, `${this.name}: output of ${requestId}`);
      this.learn(output);
      this.notePeak();
    }
  }

  // ---- optional capabilities, defaulted ----

  /** Documents are checked and ignored unless the drafter indexes them. */
  setDocument(docId: string, tokens: readonly number[]): void {
    checkTokens(tokens, `${this.name}: document ${docId}`);
  }

  removeDocument(_docId: string): void {}

  clearHistory(): void {}

  exportHistory(): Uint8Array {
    return new Uint8Array(0);
  }

  importHistory(data: Uint8Array): void {
    if (data.length !== 0) throw new Error(`${this.name}: keeps no history, expected an empty buffer, got ${data.length} bytes`);
  }

  estimateBytes(): number {
    return 0;
  }

  // ---- counters and request bookkeeping ----

  stats(): DrafterStats {
    return { ...this._stats };
  }

  /** Highest estimateBytes() seen so far. */
  peakBytes(): number {
    return this._stats.peakBytes;
  }

  hasRequest(requestId: string): boolean {
    return this._slots.has(requestId);
  }

  // ---- hooks ----

  /** Builds the state of a new request (tokens already checked). */
  protected abstract open(requestId: string, prompt: readonly number[], references: readonly (readonly number[])[]): R;
  /** Appends accepted tokens to a request's context (tokens already checked). */
  protected abstract append(state: R, tokens: readonly number[], requestId: string): void;
  /** A draft tree of at most budget (≥ 1) nodes continuing the request's context. */
  protected abstract draft(state: R, budget: number, requestId: string): Draft;
  /** Frees what a request holds outside its state (its state is dropped by the base). */
  protected close(_state: R, _requestId: string, _output?: readonly number[]): void {}
  /** Learns a finished request's output (tokens already checked); drafters without history ignore it. */
  protected learn(_output: readonly number[]): void {}

  /** The state of a live request; a clear error when it was never begun or has ended. */
  protected request(requestId: string): R {
    return this._slot(requestId).state;
  }

  /** States of the live requests (for estimateBytes and index rebuilds). */
  protected *liveRequests(): Generator<R> {
    for (const slot of this._slots.values()) yield slot.state;
  }

  /** Records estimateBytes() in the peak counter; drafters call it after their own index changes. */
  protected notePeak(): void {
    const bytes = this.estimateBytes();
    if (bytes > this._stats.peakBytes) this._stats.peakBytes = bytes;
  }

  private _slot(requestId: string): RequestSlot<R> {
    const slot = this._slots.get(requestId);
    if (!slot) throw new Error(`${this.name}: unknown request '${requestId}' (call begin first)`);
    return slot;
  }
}
