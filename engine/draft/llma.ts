// LLMA, inference with reference (arXiv 2304.04487): when the last tokens of the context match a span of a
// reference document, the tokens that follow that span are copied as a linear draft.
//
// Reference documents are the request's references, its prompt (for an edit, the prompt is the document
// being rewritten) and the workspace documents. Generated tokens are not a reference: copying from them is
// PLD's and SAM's job. Once a span is chosen the copy stays aligned with it while the output keeps matching,
// as in LLMA; otherwise the most recent occurrence with the longest match (up to maxMatch tokens, at least
// minMatch) is chosen among the candidates of a bigram hash chain and of a unigram chain.
//
// Workspace documents share one index. New documents and new versions of edited ones are appended; an old
// version stays as dead text until dead text outweighs live text, then the index is rebuilt lazily (amortized
// O(1) per token). A removed document is dropped at once (rebuilt at the next begin or propose). LLMA keeps
// no history across requests.
import { DrafterBase } from './base';
import { growInt32, MAX_TOKEN_ID } from './tokens';
import type { Draft } from './types';

/** Parameters of `llma`; every field has its default here. */
export const LLMA_PARAMS = {
  /** Shortest context suffix that triggers a copy (1, as in LLMA's scripts). */
  minMatch: 1,
  /** Longest suffix compared when ranking occurrences. */
  maxMatch: 8,
  /** Tokens copied per draft, k - 1 with LLMA's k = 20; the draft budget caps it too. */
  copyLength: 19,
  /** Occurrences examined per hash chain. */
  maxCandidates: 32,
  /** Search the request's prompt as a reference. */
  promptAsReference: true,
  /** Per-token decay of the estimated acceptance along the draft. */
  decay: 0.9,
};
export type ReferenceCopyParams = typeof LLMA_PARAMS;

const SEPARATOR = -1;
const TOKEN_SPACE = MAX_TOKEN_ID + 1;

/** Concatenated documents with hash chains: for each position, the previous one ending the same uni/bigram. */
export class ReferenceIndex {
  text = new Int32Array(256);
  length = 0;
  private _prevUni = new Int32Array(256);
  private _prevBi = new Int32Array(256);
  private readonly _headUni = new Map<number, number>();
  private readonly _headBi = new Map<number, number>();

  append(tokens: ArrayLike<number>): void {
    for (let i = 0; i < tokens.length; i++) this._push(tokens[i]!);
    this._push(SEPARATOR);
  }

  /** Most recent positions (newest first) where the unigram (or bigram) ending at a position equals the key. */
  *candidates(last: number, beforeLast: number | undefined, max: number): Generator<number> {
    let seen = 0;
    if (beforeLast !== undefined) {
      for (let p = this._headBi.get(beforeLast * TOKEN_SPACE + last) ?? -1; p >= 0 && seen < max; p = this._prevBi[p]!, seen++) yield p;
    }
    seen = 0;
    for (let p = this._headUni.get(last) ?? -1; p >= 0 && seen < max; p = this._prevUni[p]!, seen++) yield p;
  }

  estimateBytes(): number {
    return this.text.byteLength * 3 + 40 * (this._headUni.size + this._headBi.size);
  }

  private _push(token: number): void {
    const pos = this.length;
    if (pos === this.text.length) {
      const size = pos * 2;
      this.text = growInt32(this.text, size);
      this._prevUni = growInt32(this._prevUni, size);
      this._prevBi = growInt32(this._prevBi, size);
    }
    this.text[pos] = token;
    this.length = pos + 1;
    this._prevUni[pos] = -1;
    this._prevBi[pos] = -1;
    if (token === SEPARATOR) return;
    this._prevUni[pos] = this._headUni.get(token) ?? -1;
    this._headUni.set(token, pos);
    const before = pos > 0 ? this.text[pos - 1]! : SEPARATOR;
    if (before !== SEPARATOR) {
      const key = before * TOKEN_SPACE + token;
      this._prevBi[pos] = this._headBi.get(key) ?? -1;
      this._headBi.set(key, pos);
    }
  }
}

interface LlmaRequest {
  local: ReferenceIndex;
  /** Prompt plus generated tokens. */
  context: number[];
  /** The span being copied: its index and the position of the next token to copy, or null. */
  source: ReferenceIndex | null;
  sourcePos: number;
  sourceMatch: number;
}

export class ReferenceCopyDrafter extends DrafterBase<LlmaRequest> {
  readonly name = 'llma';
  private readonly _params: ReferenceCopyParams;
  private readonly _documents = new Map<string, Int32Array>();
  private _workspace = new ReferenceIndex();
  private _stale = false;
  private _liveTokens = 0;
  private _deadTokens = 0;

  constructor(params: Partial<ReferenceCopyParams> = {}) {
    super();
    const p = (this._params = { ...LLMA_PARAMS, ...params });
    integer(p.minMatch, 'minMatch', 1);
    integer(p.maxMatch, 'maxMatch', p.minMatch);
    integer(p.copyLength, 'copyLength', 1);
    integer(p.maxCandidates, 'maxCandidates', 1);
    if (!(p.decay > 0 && p.decay <= 1)) throw new Error(`llma: decay must be in (0, 1], got ${p.decay}`);
  }

  protected open(_requestId: string, prompt: readonly number[], references: readonly (readonly number[])[]): LlmaRequest {
    const local = new ReferenceIndex();
    for (const ref of references) local.append(ref);
    if (this._params.promptAsReference) local.append(prompt);
    this._ensureWorkspace();
    return { local, context: [...prompt], source: null, sourcePos: -1, sourceMatch: 0 };
  }

  protected append(req: LlmaRequest, tokens: readonly number[]): void {
    for (const t of tokens) {
      req.context.push(t);
      // Stay aligned with the copied span while the output follows it.
      if (req.source && req.sourcePos < req.source.length && req.source.text[req.sourcePos] === t) {
        req.sourcePos++;
        req.sourceMatch++;
      } else {
        req.source = null;
      }
    }
  }

  protected draft(req: LlmaRequest, maxTokens: number): Draft {
    const budget = Math.min(this._params.copyLength, maxTokens);
    const draft: Draft = { tokens: [], parents: [], probs: [], score: 0, matchLen: 0 };
    this._ensureWorkspace();
    if (!req.source || !this._canCopy(req.source, req.sourcePos)) this._findSource(req);
    const source = req.source;
    if (!source) return draft;
    const m = Math.min(req.sourceMatch, this._params.maxMatch);
    let p = m / (m + 1);
    for (let pos = req.sourcePos; draft.tokens.length < budget && pos < source.length; pos++) {
      const t = source.text[pos]!;
      if (t === SEPARATOR) break;
      draft.parents.push(draft.tokens.length - 1);
      draft.tokens.push(t);
      draft.probs.push(p);
      draft.score += p;
      p *= this._params.decay;
    }
    draft.matchLen = req.sourceMatch;
    return draft;
  }

  override setDocument(docId: string, tokens: readonly number[]): void {
    super.setDocument(docId, tokens);
    const copy = Int32Array.from(tokens);
    const old = this._documents.get(docId);
    this._documents.set(docId, copy);
    this._liveTokens += copy.length - (old?.length ?? 0);
    if (old) this._deadTokens += old.length;
    if (this._deadTokens > this._liveTokens) this._stale = true;
    if (!this._stale) this._workspace.append(copy);
    this.notePeak();
  }

  override removeDocument(docId: string): void {
    const old = this._documents.get(docId);
    if (!old) return;
    this._documents.delete(docId);
    this._liveTokens -= old.length;
    this._stale = true;
  }

  override estimateBytes(): number {
    let bytes = this._workspace.estimateBytes();
    for (const doc of this._documents.values()) bytes += doc.byteLength;
    for (const req of this.liveRequests()) bytes += req.local.estimateBytes() + 8 * req.context.length;
    return bytes;
  }

  /** A position can be copied from when it holds a token (not a separator or the end). */
  private _canCopy(index: ReferenceIndex, pos: number): boolean {
    return pos >= 0 && pos < index.length && index.text[pos] !== SEPARATOR;
  }

  /** The longest (then most recent, local before workspace) occurrence of the context's suffix. */
  private _findSource(req: LlmaRequest): void {
    req.source = null;
    req.sourcePos = -1;
    req.sourceMatch = 0;
    const ctx = req.context;
    const n = ctx.length;
    if (n === 0) return;
    const last = ctx[n - 1]!;
    const beforeLast = n >= 2 ? ctx[n - 2] : undefined;
    for (const index of [req.local, this._workspace]) {
      let bestEnd = -1;
      let bestMatch = req.sourceMatch;
      for (const end of index.candidates(last, beforeLast, this._params.maxCandidates)) {
        if (!this._canCopy(index, end + 1)) continue;
        let m = 1;
        while (m < this._params.maxMatch && m < n && end - m >= 0 && index.text[end - m] === ctx[n - 1 - m]) m++;
        // Longer wins; among equals the newest (chains mix bigram and unigram order, so compare positions).
        if (m >= this._params.minMatch && (m > bestMatch || (m === bestMatch && bestEnd >= 0 && end > bestEnd))) {
          bestEnd = end;
          bestMatch = m;
        }
      }
      if (bestEnd >= 0) {
        req.source = index;
        req.sourcePos = bestEnd + 1;
        req.sourceMatch = bestMatch;
        if (bestMatch === this._params.maxMatch) return;
      }
    }
  }

  private _ensureWorkspace(): void {
    if (!this._stale) return;
    const index = new ReferenceIndex();
    for (const doc of this._documents.values()) index.append(doc);
    this._workspace = index;
    this._deadTokens = 0;
    this._stale = false;
    for (const req of this.liveRequests()) if (req.source !== req.local) req.source = null;
  }
}

function integer(value: number, name: string, min: number): number {
  if (!Number.isInteger(value) || value < min) throw new Error(`llma: ${name} must be an integer ≥ ${min}, got ${value}`);
  return value;
}
