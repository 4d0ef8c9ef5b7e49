// The product default drafter. Every step it gathers many candidate continuations (each occurrence of the
// context's end in the request's own text, its references, the workspace documents and earlier outputs, plus
// the drafts of any extra drafters), merges them into one trie (shared prefixes once) and keeps the nodes with
// the highest estimated acceptance probability within the token budget. A candidate's estimate at depth k is
// first(source, matchLen) * survival(source, matchLen)^(k-1), both learned online from what the verifier
// accepted (reliability.ts); a node combines the candidates through it (noisy-or by default).
//
// This file is the request lifecycle and the global index (documents, earlier outputs, history, eviction);
// the candidate sources and their rating are hybridCandidates.ts.
import { DrafterBase } from './base';
import { DraftTrie, type Combine } from './draftTrie';
import { decodeHistory, encodeHistory } from './history';
import { ALIGNMENT, CandidateSources, CONTEXT, DOCUMENT, EXTRA, HISTORY, MAX_TRIE, NEXT, OWN, REFERENCE, SIMILARITY_LEVELS, SOURCE_NAMES, type Candidate, type HybridRequest } from './hybridCandidates';
import { Reliability } from './reliability';
import { TokenIndex } from './tokenIndex';
import type { Draft, Drafter } from './types';

/** Parameters of `hybrid`; every field has its default here. */
export const HYBRID_PARAMS = {
  /** Byte budget of the global index (documents plus earlier outputs); oldest outputs go first. */
  maxIndexBytes: 256 * 1024 * 1024,
  /** Byte budget of exportHistory(). */
  maxHistoryBytes: 16 * 1024 * 1024,
  /** Occurrences taken per index and step (the best rated of `scan`). */
  maxCandidates: 24,
  /** Occurrences examined per index and step (at least maxCandidates). */
  scan: 96,
  /** How candidates through one node combine: their normalised sum, a noisy-or, or the best one. */
  combine: 'noisy-or' as Combine,
  /** Propose the prompt text near the rewrite's alignment after novel output. */
  resync: true,
  /** Keep acceptance statistics apart for requests with and without references. */
  splitKinds: true,
  /**
   * Text of a token id (for example the tokenizer's decode of [id]). When given, tokens that end a line are
   * matched by the indentation that follows their last newline, so "):\n    " and "\n    " both lead to the
   * lines that start after them.
   */
  tokenText: undefined as ((id: number) => string) | undefined,
  /** Extra drafters whose drafts join the candidates (they receive every call too). */
  extra: [] as Drafter[],
};
export type HybridParams = typeof HYBRID_PARAMS;

export class HybridDrafter extends DrafterBase<HybridRequest> {
  readonly name = 'hybrid';
  private readonly _params: HybridParams;
  private readonly _global = new TokenIndex();
  private readonly _history: string[] = [];
  private _historyCounter = 0;
  /** Acceptance statistics, kept apart for requests with references (completions with workspace context) and without. */
  private readonly _reliabilityByKind = [new Reliability(SOURCE_NAMES.length * SIMILARITY_LEVELS), new Reliability(SOURCE_NAMES.length * SIMILARITY_LEVELS)];
  private readonly _sources: CandidateSources;

  constructor(params: Partial<HybridParams> = {}) {
    super();
    const p = (this._params = { ...HYBRID_PARAMS, ...params });
    p.scan = Math.max(p.maxCandidates, p.scan);
    const trie = new DraftTrie(SOURCE_NAMES, { combine: p.combine, maxNodes: MAX_TRIE, ties: 'heap' });
    this._sources = new CandidateSources(trie, this._reliabilityByKind[0]!, p);
  }

  protected open(requestId: string, prompt: readonly number[], references: readonly (readonly number[])[]): HybridRequest {
    const index = new TokenIndex();
    references.forEach((ref, i) => index.add(`ref${i}`, ref));
    const promptStart = index.length;
    index.append(CONTEXT, prompt);
    const kind = this._params.splitKinds && references.length > 0 ? 1 : 0;
    const st: HybridRequest = { index, promptStart, promptLength: prompt.length, generated: 0, last: null, candidates: [], kind, lines: new Map(), aligned: promptStart, alignedAt: 0, copying: false, restating: true };
    this._sources.indexLines(st, 0);
    for (const d of this._params.extra) d.begin(requestId, prompt, references);
    return st;
  }

  protected append(st: HybridRequest, tokens: readonly number[], requestId: string): void {
    this._sources.reliability = this._reliabilityByKind[st.kind]!;
    this._sources.learn(st, tokens);
    const from = st.index.length;
    const prompt = st.index.arena;
    for (let j = 0; j < tokens.length && st.restating; j++) {
      const k = st.generated + j;
      st.restating = k < st.promptLength && prompt[st.promptStart + k] === tokens[j];
    }
    st.index.append(CONTEXT, tokens);
    this._sources.indexLines(st, from);
    st.generated += tokens.length;
    for (const d of this._params.extra) d.observe(requestId, tokens);
  }

  protected draft(st: HybridRequest, maxTokens: number, requestId: string): Draft {
    const sources = this._sources;
    sources.reliability = this._reliabilityByKind[st.kind]!;
    const budget = Math.min(maxTokens, MAX_TRIE - 1);
    const ctx = st.index.arena;
    const end = st.index.length;
    // Scan more occurrences than are kept: the best-rated ones go into the trie.
    const scan = this._params.scan;
    const q = { maxMatch: 64, maxResults: scan, maxVisit: 2 * scan };
    const local = st.index.query(ctx, end, { ...q, skip: end - 1 });
    const global = this._global.query(ctx, end, q);
    sources.trie.reset();
    st.candidates = [];
    let bestMatch = 0;
    const aligned = sources.align(st, local);
    const expected = st.aligned + (st.generated - st.alignedAt);
    const promptEnd = st.promptStart + st.promptLength;
    let next = -1;
    local.forEach((o, i) => {
      if (o.pos + 1 >= expected && o.pos < promptEnd && (next < 0 || o.pos < local[next]!.pos)) next = i;
    });
    const pool: Candidate[] = [];
    local.forEach((o, i) => {
      bestMatch = Math.max(bestMatch, o.matchLen);
      const source = i === next ? NEXT : o.pos < st.promptStart ? REFERENCE : OWN;
      sources.rate(st, { source, matchLen: o.matchLen, arena: ctx, from: o.pos + 1, end }, budget, pool);
    });
    sources.lineCandidates(st, budget, pool);
    sources.substituteCandidates(st, budget, pool);
    sources.keepBest(st, pool);
    const garena = this._global.arena;
    for (const o of global) {
      bestMatch = Math.max(bestMatch, o.matchLen);
      const source = this._global.sequenceAt(o.pos)?.startsWith('doc:') ? DOCUMENT : HISTORY;
      sources.rate(st, { source, matchLen: o.matchLen, arena: garena, from: o.pos + 1, end: this._global.length }, budget, pool);
    }
    sources.keepBest(st, pool);
    if (this._params.resync && !aligned && st.copying) sources.resync(st, budget);
    // A rewrite usually starts by restating its input: while the output so far equals the prompt's beginning,
    // the prompt's next tokens are a candidate (rated by how many tokens agreed so far).
    else if (st.restating && st.generated < st.promptLength) sources.candidate(st, { source: ALIGNMENT, matchLen: Math.max(1, st.generated), arena: ctx, from: st.promptStart + st.generated, end }, budget);
    for (const d of this._params.extra) {
      const extra = d.propose(requestId, budget);
      if (extra.tokens.length === 0) continue;
      const trust = sources.reliability.first(EXTRA * SIMILARITY_LEVELS, extra.matchLen);
      sources.trie.insertDraft(extra, (p) => trust * p, EXTRA);
    }
    const draft = sources.trie.select(budget, bestMatch);
    st.last = draft;
    return draft;
  }

  protected override close(_st: HybridRequest, requestId: string, output?: readonly number[]): void {
    for (const d of this._params.extra) d.end(requestId, output);
  }

  protected override learn(output: readonly number[]): void {
    const id = `out${this._historyCounter++}`;
    this._global.add(id, output);
    this._history.push(id);
    this._evict();
  }

  override setDocument(docId: string, tokens: readonly number[]): void {
    super.setDocument(docId, tokens);
    this._global.add(`doc:${docId}`, tokens);
    this._evict();
    for (const d of this._params.extra) d.setDocument(docId, tokens);
  }

  override removeDocument(docId: string): void {
    this._global.remove(`doc:${docId}`);
    for (const d of this._params.extra) d.removeDocument(docId);
  }

  override clearHistory(): void {
    for (const id of this._history) this._global.remove(id);
    this._history.length = 0;
    for (const d of this._params.extra) d.clearHistory();
  }

  override exportHistory(): Uint8Array {
    return encodeHistory(this._history.map((id) => this._global.sequence(id)), this._params.maxHistoryBytes);
  }

  override importHistory(data: Uint8Array): void {
    for (const seq of decodeHistory(data, 'hybrid')) {
      const id = `out${this._historyCounter++}`;
      this._global.add(id, seq);
      this._history.push(id);
    }
    this._evict();
  }

  override estimateBytes(): number {
    let bytes = this._global.estimateBytes();
    for (const st of this.liveRequests()) bytes += st.index.estimateBytes();
    for (const d of this._params.extra) bytes += d.estimateBytes();
    return bytes;
  }

  /** Learned first-token acceptance rate of a source ('context', 'reference', 'history', …) at a match length. */
  reliability(source: (typeof SOURCE_NAMES)[number], matchLen: number): { first: number; survival: number } {
    const rel = this._sources.reliability;
    const i = SOURCE_NAMES.indexOf(source) * SIMILARITY_LEVELS + SIMILARITY_LEVELS - 1;
    return { first: rel.first(i, matchLen), survival: rel.survival(i, matchLen) };
  }

  private _evict(): void {
    const dropped = new Set(this._global.evict(this._params.maxIndexBytes, (id) => id.startsWith('doc:')));
    if (dropped.size > 0) {
      const kept = this._history.filter((id) => !dropped.has(id));
      this._history.length = 0;
      this._history.push(...kept);
    }
  }
}
