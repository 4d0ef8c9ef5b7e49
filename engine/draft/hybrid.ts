// The product default drafter. Every step it gathers many candidate continuations (each occurrence of the
// context's end in the request's own text, its references, the workspace documents and earlier outputs, plus
// the drafts of any extra drafters), merges them into one trie (shared prefixes once) and keeps the nodes with
// the highest estimated acceptance probability within the token budget. A candidate's estimate at depth k is
// first(source, matchLen) * survival(source, matchLen)^(k-1), both learned online from what the verifier
// accepted (reliability.ts); a node sums the candidates through it, normalised when they overlap.
import type { Draft, Drafter } from './types';
import { TokenIndex, type Occurrence } from './tokenIndex';
import { decodeHistory, encodeHistory } from './history';
import { Reliability } from './reliability';

export interface HybridOptions {
  /** Byte budget of the global index (documents plus earlier outputs); oldest outputs go first. */
  maxIndexBytes?: number;
  /** Byte budget of exportHistory(). */
  maxHistoryBytes?: number;
  /** Occurrences taken per index and step (the best rated of `scan`). */
  maxCandidates?: number;
  /** Occurrences examined per index and step. */
  scan?: number;
  /** How candidates through one node combine: their normalised sum, a noisy-or, or the best one (default noisy-or). */
  combine?: 'sum' | 'noisy-or' | 'max';
  /** Siblings compete for their parent's probability by their odds (default false: the learned rates are already marginal). */
  compete?: boolean;
  /** Propose the prompt text near the rewrite's alignment after novel output (default true). */
  resync?: boolean;
  /** Keep acceptance statistics apart for requests with and without references (default true). */
  splitKinds?: boolean;
  /**
   * Text of a token id (for example the tokenizer's decode of [id]). When given, tokens that end a line are
   * matched by the indentation that follows their last newline, so "):\n    " and "\n    " both lead to the
   * lines that start after them.
   */
  tokenText?: (id: number) => string;
  /** Extra drafters whose drafts join the candidates (they receive every call too). */
  extra?: Drafter[];
}

interface Candidate {
  source: number;
  /** Statistics cell: source and how similar the text before the match is (0–2). */
  cell?: number;
  /** Estimated probability that its first token is accepted. */
  first?: number;
  matchLen: number;
  arena: Int32Array;
  from: number;
  end: number;
}

interface RequestState {
  index: TokenIndex;
  /** Arena position where the prompt starts (the context is the index's open sequence). */
  promptStart: number;
  promptLength: number;
  generated: number;
  last: Draft | null;
  /** Candidates of the last proposal, judged when the accepted tokens arrive. */
  candidates: Candidate[];
  /** Index into the per-kind statistics. */
  kind: number;
  /** Arena positions of line-ending tokens by line-end class (only with tokenText). */
  lines: Map<number, number[]>;
  /** Where the output last copied the prompt from (continuation start), or -1: the rewrite's alignment. */
  aligned: number;
  /** Output length when the alignment was last fixed. */
  alignedAt: number;
  /** Whether the output has been seen copying the prompt (a rewrite): only then do resync candidates apply. */
  copying: boolean;
  /** Whether the output so far equals the beginning of the prompt. */
  restating: boolean;
}

const CONTEXT = '\u0000context';
/** Candidate sources, for the reliability statistics and the per-node `sources` of a draft. */
const SOURCE_NAMES = ['context', 'reference', 'history', 'document', 'alignment', 'extra', 'next', 'resume', 'shift', 'skip', 'line', 'substitute', 'substitute2', 'resync'] as const;
const OWN = 0;
const REFERENCE = 1;
const HISTORY = 2;
const DOCUMENT = 3;
const ALIGNMENT = 4;
const EXTRA = 5;
/** The occurrence in the prompt nearest at or after where the rewrite's copy is expected to continue. */
const NEXT = 6;
/** After novel output: the prompt where the copy stopped (an insertion), the same offset further on (a replacement
 * of equal length), the next spot after it that follows the context's last token (a deletion). */
const RESUME = 7;
const SHIFT = 8;
const SKIP = 9;
/** A line start in the request's text after a different token that ends a line with the same indentation. */
const LINE = 10;
/** Parallel code: the context before its last token matches, the token after differs, and the rest follows. */
const SUBSTITUTE = 11;
/** After novel output: the spots after the alignment whose preceding text best matches the context's end. */
const RESYNC = 13;
/** Prompt tokens after the alignment searched for resync spots, and how many spots are kept. */
const RESYNC_WINDOW = 256;
const RESYNC_KEEP = 3;
/** Line starts examined per step. */
const LINE_SCAN = 16;
const SUBSTITUTE_SCAN = 16;
/** Up to this many tokens may differ before the context's end. */
const SUBSTITUTED = 2;
const MAX_TRIE = 1024;
/** Cap on a node's conditional acceptance estimate (keeps its odds finite). */
const MAX_CONDITIONAL = 0.999;
/** Tokens compared before a match to tell apart occurrences with equal match lengths. */
const SIMILARITY_WINDOW = 8;
const SIMILARITY_LEVELS = 3;
/** A match this long inside the prompt counts as the output copying it. */
const RESYNC_MATCH = 6;

export class HybridDrafter implements Drafter {
  readonly name = 'hybrid';
  private readonly _global = new TokenIndex();
  private readonly _requests = new Map<string, RequestState>();
  private readonly _history: string[] = [];
  private _historyCounter = 0;
  private readonly _maxIndexBytes: number;
  private readonly _maxHistoryBytes: number;
  private readonly _maxCandidates: number;
  private readonly _scan: number;
  private readonly _extra: Drafter[];
  private readonly _resyncOn: boolean;
  private readonly _splitKinds: boolean;
  private readonly _tokenText: ((id: number) => string) | undefined;
  /** Line-end class of each token id, + 1 (0 = not computed yet, -1 + 1 = no newline). */
  private _lineClass = new Int32Array(0);
  private readonly _lineClassIds = new Map<string, number>();
  private readonly _combine: 'sum' | 'noisy-or' | 'max';
  private readonly _compete: boolean;
  /** Acceptance statistics, kept apart for requests with references (completions with workspace context) and without. */
  private readonly _reliabilityByKind = [new Reliability(SOURCE_NAMES.length * SIMILARITY_LEVELS), new Reliability(SOURCE_NAMES.length * SIMILARITY_LEVELS)];
  private _reliability = this._reliabilityByKind[0]!;
  // Trie scratch space, reused across proposals.
  private readonly _tTok = new Int32Array(MAX_TRIE);
  private readonly _tChild = new Int32Array(MAX_TRIE);
  private readonly _tNext = new Int32Array(MAX_TRIE);
  private readonly _tDepth = new Int32Array(MAX_TRIE);
  private readonly _tWeight = new Float64Array(MAX_TRIE);
  private readonly _tSource = new Uint8Array(MAX_TRIE);
  private _rootMass = 0;

  constructor(options: HybridOptions = {}) {
    this._maxIndexBytes = options.maxIndexBytes ?? 256 * 1024 * 1024;
    this._maxHistoryBytes = options.maxHistoryBytes ?? 16 * 1024 * 1024;
    this._maxCandidates = options.maxCandidates ?? 24;
    this._scan = Math.max(this._maxCandidates, options.scan ?? 96);
    this._extra = options.extra ?? [];
    this._resyncOn = options.resync ?? true;
    this._splitKinds = options.splitKinds ?? true;
    this._tokenText = options.tokenText;
    this._combine = options.combine ?? 'noisy-or';
    this._compete = options.compete ?? false;
  }

  begin(requestId: string, prompt: readonly number[], references: readonly (readonly number[])[] = []): void {
    const index = new TokenIndex();
    references.forEach((ref, i) => index.add(`ref${i}`, ref));
    const promptStart = index.length;
    index.append(CONTEXT, prompt);
    this._requests.set(requestId, { index, promptStart, promptLength: prompt.length, generated: 0, last: null, candidates: [], kind: this._splitKinds && references.length > 0 ? 1 : 0, lines: new Map(), aligned: promptStart, alignedAt: 0, copying: false, restating: true });
    this._indexLines(this._requests.get(requestId)!, 0);
    for (const d of this._extra) d.begin(requestId, prompt, references);
  }

  observe(requestId: string, tokens: readonly number[]): void {
    const st = this._request(requestId);
    this._reliability = this._reliabilityByKind[st.kind]!;
    this._learn(st, tokens);
    const from = st.index.length;
    const prompt = st.index.arena;
    for (let j = 0; j < tokens.length && st.restating; j++) {
      const k = st.generated + j;
      st.restating = k < st.promptLength && prompt[st.promptStart + k] === tokens[j];
    }
    st.index.append(CONTEXT, tokens);
    this._indexLines(st, from);
    st.generated += tokens.length;
    for (const d of this._extra) d.observe(requestId, tokens);
  }

  propose(requestId: string, maxTokens: number): Draft {
    const st = this._request(requestId);
    this._reliability = this._reliabilityByKind[st.kind]!;
    const budget = Math.min(Math.max(0, Math.floor(maxTokens)), MAX_TRIE - 1);
    const draft: Draft = { tokens: [], parents: [], probs: [], score: 0, matchLen: 0, sources: [] };
    if (budget === 0) return draft;
    const ctx = st.index.arena;
    const end = st.index.length;
    // Scan more occurrences than are kept: the best-rated ones go into the trie.
    const q = { maxMatch: 64, maxResults: this._scan, maxVisit: 2 * this._scan };
    const local = st.index.query(ctx, end, { ...q, skip: end - 1 });
    const global = this._global.query(ctx, end, q);
    this._trieReset();
    st.candidates = [];
    let bestMatch = 0;
    const aligned = this._align(st, local);
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
      this._rate(st, { source, matchLen: o.matchLen, arena: ctx, from: o.pos + 1, end }, budget, pool);
    });
    this._lineCandidates(st, budget, pool);
    this._substituteCandidates(st, budget, pool);
    this._keepBest(st, pool);
    const garena = this._global.arena;
    for (const o of global) {
      bestMatch = Math.max(bestMatch, o.matchLen);
      const source = this._global.sequenceAt(o.pos)?.startsWith('doc:') ? DOCUMENT : HISTORY;
      this._rate(st, { source, matchLen: o.matchLen, arena: garena, from: o.pos + 1, end: this._global.length }, budget, pool);
    }
    this._keepBest(st, pool);
    if (this._resyncOn && !aligned && st.copying) this._resync(st, budget);
    // A rewrite usually starts by restating its input: while the output so far equals the prompt's beginning,
    // the prompt's next tokens are a candidate (rated by how many tokens agreed so far).
    else if (st.restating && st.generated < st.promptLength) this._candidate(st, { source: ALIGNMENT, matchLen: Math.max(1, st.generated), arena: ctx, from: st.promptStart + st.generated, end }, budget);
    for (const d of this._extra) this._insertDraft(d.propose(requestId, budget));
    draft.matchLen = bestMatch;
    this._select(budget, draft);
    st.last = draft;
    return draft;
  }

  end(requestId: string, output?: readonly number[]): void {
    this._requests.delete(requestId);
    for (const d of this._extra) d.end(requestId, output);
    if (output && output.length > 0) {
      const id = `out${this._historyCounter++}`;
      this._global.add(id, output);
      this._history.push(id);
      this._evict();
    }
  }

  setDocument(docId: string, tokens: readonly number[]): void {
    this._global.add(`doc:${docId}`, tokens);
    this._evict();
    for (const d of this._extra) d.setDocument(docId, tokens);
  }

  removeDocument(docId: string): void {
    this._global.remove(`doc:${docId}`);
    for (const d of this._extra) d.removeDocument(docId);
  }

  clearHistory(): void {
    for (const id of this._history) this._global.remove(id);
    this._history.length = 0;
    for (const d of this._extra) d.clearHistory();
  }

  exportHistory(): Uint8Array {
    return encodeHistory(this._history.map((id) => this._global.sequence(id)), this._maxHistoryBytes);
  }

  importHistory(data: Uint8Array): void {
    for (const seq of decodeHistory(data, 'hybrid')) {
      const id = `out${this._historyCounter++}`;
      this._global.add(id, seq);
      this._history.push(id);
    }
    this._evict();
  }

  estimateBytes(): number {
    let bytes = this._global.estimateBytes();
    for (const st of this._requests.values()) bytes += st.index.estimateBytes();
    for (const d of this._extra) bytes += d.estimateBytes();
    return bytes;
  }

  /** Learned first-token acceptance rate of a source ('context', 'reference', 'history', …) at a match length. */
  reliability(source: (typeof SOURCE_NAMES)[number], matchLen: number): { first: number; survival: number } {
    const i = SOURCE_NAMES.indexOf(source) * SIMILARITY_LEVELS + SIMILARITY_LEVELS - 1;
    return { first: this._reliability.first(i, matchLen), survival: this._reliability.survival(i, matchLen) };
  }

  private _request(requestId: string): RequestState {
    const st = this._requests.get(requestId);
    if (!st) throw new Error(`hybrid: unknown request '${requestId}' (call begin first)`);
    return st;
  }

  private _evict(): void {
    const dropped = new Set(this._global.evict(this._maxIndexBytes, (id) => id.startsWith('doc:')));
    if (dropped.size > 0) {
      const kept = this._history.filter((id) => !dropped.has(id));
      this._history.length = 0;
      this._history.push(...kept);
    }
  }

  /**
   * A rewrite copies its input in order. A long match inside the prompt fixes the alignment (where the copy
   * continues, and at which output position). After novel text (no long match) the output usually resumes
   * either where the copy stopped (an insertion), at the same offset further on (a replacement of equal
   * length), or at the next spot that follows the context's last token (a deletion): all three become candidates,
   * once the output has been seen copying the prompt (a completion continues its prompt instead of restating it).
   */
  /** Moves the alignment to the longest match inside the prompt, if one is long enough; true when it did. */
  private _align(st: RequestState, local: Occurrence[]): boolean {
    const lo = st.promptStart;
    const hi = st.promptStart + st.promptLength;
    let best = 0;
    for (const o of local) {
      if (o.pos >= lo && o.pos < hi && o.matchLen >= RESYNC_MATCH && o.matchLen > best) {
        best = o.matchLen;
        st.aligned = o.pos + 1;
        st.alignedAt = st.generated;
      }
    }
    if (best > 0) st.copying = true;
    return best > 0;
  }

  private _resync(st: RequestState, budget: number): void {
    const hi = st.promptStart + st.promptLength;
    if (st.aligned < st.promptStart || st.aligned >= hi) return;
    const arena = st.index.arena;
    const end = st.index.length;
    // Tokens of novel output since the alignment: the statistics are kept per distance.
    const since = st.generated - st.alignedAt;
    this._candidate(st, { source: RESUME, matchLen: since, arena, from: st.aligned, end }, budget);
    const shifted = st.aligned + since;
    if (since > 0 && shifted < hi) this._candidate(st, { source: SHIFT, matchLen: since, arena, from: shifted, end }, budget);
    const last = arena[end - 1];
    for (let p = st.aligned; p < hi - 1; p++) {
      if (arena[p] !== last) continue;
      this._candidate(st, { source: SKIP, matchLen: since, arena, from: p + 1, end }, budget);
      break;
    }
    this._resyncSpots(st, budget);
  }

  /** The RESYNC_KEEP spots after the alignment with the longest match of the context's end, nearest first on ties. */
  private _resyncSpots(st: RequestState, budget: number): void {
    const arena = st.index.arena;
    const end = st.index.length;
    const last = arena[end - 1]!;
    const stop = Math.min(st.promptStart + st.promptLength - 1, st.aligned + RESYNC_WINDOW);
    const spots: number[] = [];
    const lens: number[] = [];
    for (let p = st.aligned; p < stop; p++) {
      if (arena[p] !== last) continue;
      let m = 1;
      while (m < 32 && p - m >= 0 && arena[p - m]! >= 0 && arena[p - m] === arena[end - 1 - m]) m++;
      // Insert by match length (longest first; earlier spots stay ahead on ties).
      let i = spots.length;
      while (i > 0 && lens[i - 1]! < m) i--;
      if (i >= RESYNC_KEEP) continue;
      spots.splice(i, 0, p);
      lens.splice(i, 0, m);
      if (spots.length > RESYNC_KEEP) {
        spots.pop();
        lens.pop();
      }
    }
    spots.forEach((p, i) => this._candidate(st, { source: RESYNC, matchLen: lens[i]!, arena, from: p + 1, end }, budget));
  }

  /** Judges every candidate of the last proposal against the tokens that were accepted (and the bonus). */
  private _learn(st: RequestState, tokens: readonly number[]): void {
    for (const c of st.candidates) {
      const available = Math.min(c.end - c.from, tokens.length);
      let agreed = 0;
      while (agreed < available && c.arena[c.from + agreed] === tokens[agreed]) agreed++;
      this._reliability.record(c.cell!, c.matchLen, agreed, tokens.length, c.end - c.from);
    }
    st.candidates = [];
    st.last = null;
  }

  // ---- trie of candidate continuations ----
  private _trieSize = 1;

  private _trieReset(): void {
    this._trieSize = 1;
    this._tChild[0] = -1;
    this._tNext[0] = -1;
    this._tDepth[0] = 0;
    this._tWeight[0] = 0;
    this._rootMass = 0;
  }

  private _childOf(node: number, token: number, source: number): number {
    let c = this._tChild[node]!;
    while (c !== -1 && this._tTok[c] !== token) c = this._tNext[c]!;
    if (c !== -1 || this._trieSize >= MAX_TRIE) return c;
    c = this._trieSize++;
    this._tTok[c] = token;
    this._tChild[c] = -1;
    this._tNext[c] = this._tChild[node]!;
    this._tChild[node] = c;
    this._tDepth[c] = this._tDepth[node]! + 1;
    this._tWeight[c] = 0;
    this._tSource[c] = source;
    return c;
  }

  /** Line-end class of a token: an id per indentation after its last newline, or -1 without a newline. */
  private _classOf(t: number): number {
    if (!this._tokenText) return -1;
    if (t >= this._lineClass.length) {
      const grown = new Int32Array(Math.max(t + 1, this._lineClass.length * 2, 1024));
      grown.set(this._lineClass);
      this._lineClass = grown;
    }
    let c = this._lineClass[t]!;
    if (c === 0) {
      const text = this._tokenText(t);
      const nl = text.lastIndexOf('\n');
      let id = -1;
      if (nl >= 0) {
        const indent = text.slice(nl + 1);
        id = this._lineClassIds.get(indent) ?? this._lineClassIds.size;
        this._lineClassIds.set(indent, id);
      }
      c = id + 1 === 0 ? -1 : id + 1;
      this._lineClass[t] = c;
    }
    return c < 0 ? -1 : c - 1;
  }

  private _indexLines(st: RequestState, from: number): void {
    if (!this._tokenText) return;
    const a = st.index.arena;
    for (let p = from; p < st.index.length; p++) {
      const t = a[p]!;
      if (t < 0) continue;
      const c = this._classOf(t);
      if (c < 0) continue;
      let list = st.lines.get(c);
      if (!list) st.lines.set(c, (list = []));
      list.push(p);
    }
  }

  /** Occurrences of the context without its last token, where another token took its place. */
  private _substituteCandidates(st: RequestState, budget: number, pool: Candidate[]): void {
    const a = st.index.arena;
    const end = st.index.length;
    for (let k = 1; k <= SUBSTITUTED; k++) {
      if (end < k + 2) return;
      const occ = st.index.query(a, end - k, { maxMatch: 64, maxResults: SUBSTITUTE_SCAN, maxVisit: 2 * SUBSTITUTE_SCAN, skip: end - k - 1 });
      for (const o of occ) {
        if (o.matchLen < 2 || o.pos + k + 1 >= end || a[o.pos + 1] === a[end - k] || a[o.pos + 1]! < 0) continue;
        let ok = true;
        for (let j = 1; j <= k; j++) if (a[o.pos + j]! < 0) ok = false;
        if (ok) this._rate(st, { source: SUBSTITUTE + k - 1, matchLen: o.matchLen, arena: a, from: o.pos + k + 1, end }, budget, pool);
      }
    }
  }

  /** Line starts after other tokens of the context's line-end class, most recent first. */
  private _lineCandidates(st: RequestState, budget: number, pool: Candidate[]): void {
    const a = st.index.arena;
    const end = st.index.length;
    const last = a[end - 1]!;
    const c = last >= 0 ? this._classOf(last) : -1;
    if (c < 0) return;
    const list = st.lines.get(c);
    if (!list) return;
    let taken = 0;
    for (let i = list.length - 1; i >= 0 && taken < LINE_SCAN; i--) {
      const p = list[i]!;
      if (p >= end - 1 || a[p] === last) continue;
      let m = 1;
      while (m < 64 && p - m >= 0 && end - 1 - m >= 0 && a[p - m]! >= 0 && a[p - m] === a[end - 1 - m]) m++;
      this._rate(st, { source: LINE, matchLen: m, arena: a, from: p + 1, end }, budget, pool);
      taken++;
    }
  }

  /**
   * How many of the SIMILARITY_WINDOW tokens before a match also occur just before the context's matched
   * suffix (long matches count as fully similar, alignment candidates as not similar).
   */
  private _similarity(st: RequestState, c: Candidate): number {
    if (c.source >= ALIGNMENT && c.source !== NEXT) return 0;
    if (c.matchLen >= 8) return SIMILARITY_WINDOW;
    const ctx = st.index.arena;
    const ctxEnd = st.index.length - c.matchLen;
    const occEnd = c.from - c.matchLen;
    let same = 0;
    for (let i = occEnd - SIMILARITY_WINDOW; i < occEnd; i++) {
      const t = i >= 0 ? c.arena[i]! : -1;
      if (t < 0) continue;
      for (let j = Math.max(0, ctxEnd - SIMILARITY_WINDOW); j < ctxEnd; j++) {
        if (ctx[j] === t) {
          same++;
          break;
        }
      }
    }
    return same;
  }

  /** Records a candidate and adds its continuation to the trie, weighted by its learned acceptance. */
  private _candidate(st: RequestState, c: Candidate, budget: number): void {
    const pool: Candidate[] = [];
    this._rate(st, c, budget, pool);
    if (pool.length > 0) this._insert(st, pool[0]!);
  }

  /** Trims a candidate to the budget and rates it; candidates with no token are dropped. */
  private _rate(st: RequestState, c: Candidate, budget: number, pool: Candidate[]): void {
    const stop = Math.min(c.end, c.from + budget);
    let i = c.from;
    while (i < stop && c.arena[i]! >= 0) i++;
    if (i === c.from) return;
    c.end = i;
    const same = this._similarity(st, c);
    c.cell = c.source * SIMILARITY_LEVELS + (same >= 4 ? 2 : same >= 2 ? 1 : 0);
    c.first = this._reliability.first(c.cell, c.matchLen);
    pool.push(c);
  }

  /** Inserts the maxCandidates best-rated candidates of the pool (and empties it). */
  private _keepBest(st: RequestState, pool: Candidate[]): void {
    if (pool.length > this._maxCandidates) pool.sort((a, b) => b.first! - a.first!);
    for (let i = 0; i < pool.length && i < this._maxCandidates; i++) this._insert(st, pool[i]!);
    pool.length = 0;
  }

  private _insert(st: RequestState, c: Candidate): void {
    st.candidates.push(c);
    const first = c.first!;
    const rho = this._reliability.survival(c.cell!, c.matchLen);
    this._rootMass += first;
    let node = 0;
    let p = first;
    for (let k = c.from; k < c.end; k++) {
      const child = this._childOf(node, c.arena[k]!, c.source);
      if (child < 0) break;
      this._addMass(child, p);
      p *= rho;
      node = child;
    }
  }

  /** Adds one candidate's probability to a node (noisy-or keeps sum(log(1 - p)) until selection). */
  private _addMass(node: number, p: number): void {
    if (this._combine === 'sum') this._tWeight[node] += p;
    else if (this._combine === 'max') this._tWeight[node] = Math.max(this._tWeight[node]!, p);
    else this._tWeight[node] += Math.log1p(-Math.min(p, 0.999999));
  }

  private _nodeProb(node: number, total: number): number {
    const w = this._tWeight[node]!;
    if (this._combine === 'sum') return Math.min(1, w / total);
    if (this._combine === 'max') return w;
    return 1 - Math.exp(w);
  }

  /** Adds another drafter's tree, each node weighted by its own probability times the learned trust in extras. */
  private _insertDraft(d: Draft): void {
    if (d.tokens.length === 0) return;
    const trust = this._reliability.first(EXTRA * SIMILARITY_LEVELS, d.matchLen);
    const map = new Int32Array(d.tokens.length);
    let rootMass = 0;
    for (let j = 0; j < d.tokens.length; j++) {
      const p = d.parents[j]!;
      const parent = p < 0 ? 0 : map[p]!;
      const c = parent < 0 ? -1 : this._childOf(parent, d.tokens[j]!, EXTRA);
      map[j] = c;
      const w = trust * Math.min(1, Math.max(0, d.probs[j] ?? 0));
      if (c >= 0) this._addMass(c, w);
      if (p < 0) rootMass += w;
    }
    this._rootMass += rootMass;
  }

  /**
   * Pushes a node's children with their path probabilities. Siblings are exclusive guesses of one token: each
   * child's conditional estimate q (its own estimate over its parent's) becomes odds q / (1 - q), and a child
   * gets its odds over one plus the sum of its siblings' odds, so a confident guess keeps nearly all its
   * probability and a weak rival beside it gets little (a lone child keeps q).
   */
  private _pushChildren(node: number, idx: number, prob: number, raw: number, total: number, push: (node: number, parent: number, prob: number) => void): void {
    if (!this._compete) {
      for (let c = this._tChild[node]!; c !== -1; c = this._tNext[c]!) push(c, idx, this._nodeProb(c, total));
      return;
    }
    let odds = 0;
    for (let c = this._tChild[node]!; c !== -1; c = this._tNext[c]!) odds += this._odds(c, raw, total);
    for (let c = this._tChild[node]!; c !== -1; c = this._tNext[c]!) push(c, idx, (prob * this._odds(c, raw, total)) / (1 + odds));
  }

  private _odds(node: number, parentRaw: number, total: number): number {
    const q = Math.min(MAX_CONDITIONAL, this._nodeProb(node, total) / Math.max(parentRaw, 1e-9));
    return q / (1 - q);
  }

  /** Best-first selection of trie nodes by estimated acceptance probability (a parent always outranks its child). */
  private _select(budget: number, draft: Draft): void {
    // Candidates are mutually exclusive guesses of the next tokens: when their mass exceeds 1, normalise.
    const total = Math.max(1, this._rootMass);
    const heapNode: number[] = [];
    const heapParent: number[] = [];
    const heapProb: number[] = [];
    const push = (node: number, parent: number, prob: number): void => {
      let i = heapProb.length;
      heapNode.push(node);
      heapParent.push(parent);
      heapProb.push(prob);
      while (i > 0) {
        const up = (i - 1) >> 1;
        if (heapProb[up]! >= prob) break;
        [heapNode[i], heapNode[up]] = [heapNode[up]!, heapNode[i]!];
        [heapParent[i], heapParent[up]] = [heapParent[up]!, heapParent[i]!];
        [heapProb[i], heapProb[up]] = [heapProb[up]!, heapProb[i]!];
        i = up;
      }
    };
    const pop = (): [number, number, number] => {
      const top: [number, number, number] = [heapNode[0]!, heapParent[0]!, heapProb[0]!];
      const n = heapProb.length - 1;
      heapNode[0] = heapNode[n]!;
      heapParent[0] = heapParent[n]!;
      heapProb[0] = heapProb[n]!;
      heapNode.pop();
      heapParent.pop();
      heapProb.pop();
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < n && heapProb[l]! > heapProb[m]!) m = l;
        if (r < n && heapProb[r]! > heapProb[m]!) m = r;
        if (m === i) break;
        [heapNode[i], heapNode[m]] = [heapNode[m]!, heapNode[i]!];
        [heapParent[i], heapParent[m]] = [heapParent[m]!, heapParent[i]!];
        [heapProb[i], heapProb[m]] = [heapProb[m]!, heapProb[i]!];
        i = m;
      }
      return top;
    };
    this._pushChildren(0, -1, 1, 1, total, push);
    while (draft.tokens.length < budget && heapProb.length > 0) {
      const [node, parent, prob] = pop();
      const idx = draft.tokens.length;
      draft.tokens.push(this._tTok[node]!);
      draft.parents.push(parent);
      draft.probs.push(prob);
      draft.sources!.push(SOURCE_NAMES[this._tSource[node]!] ?? 'extra');
      draft.score += prob;
      this._pushChildren(node, idx, prob, this._nodeProb(node, total), total, push);
    }
  }
}
