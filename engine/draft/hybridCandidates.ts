// The candidate continuations of the hybrid drafter (hybrid.ts holds its lifecycle): the per-request state,
// every candidate source over the request's token index (its own text, references, line starts, parallel code,
// the rewrite's alignment), how a candidate is rated from the learned acceptance statistics (reliability.ts),
// and how rated candidates enter the shared draft trie (draftTrie.ts).
import { TRIE_ROOT, type DraftTrie } from './draftTrie';
import type { Reliability } from './reliability';
import type { Occurrence, TokenIndex } from './tokenIndex';
import type { Draft } from './types';

export interface Candidate {
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

/** A request's state: its own token index (references, then prompt plus output) and the rewrite's alignment. */
export interface HybridRequest {
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

/** Sequence id of the request's own text (prompt plus output) in its token index. */
export const CONTEXT = '\u0000context';
/** Candidate sources, for the reliability statistics and the per-node `sources` of a draft. */
export const SOURCE_NAMES = ['context', 'reference', 'history', 'document', 'alignment', 'extra', 'next', 'resume', 'shift', 'skip', 'line', 'substitute', 'substitute2', 'resync'] as const;
export const OWN = 0;
export const REFERENCE = 1;
export const HISTORY = 2;
export const DOCUMENT = 3;
export const ALIGNMENT = 4;
export const EXTRA = 5;
/** The occurrence in the prompt nearest at or after where the rewrite's copy is expected to continue. */
export const NEXT = 6;
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
/** Trie nodes held per step, root included. */
export const MAX_TRIE = 1024;
/** Tokens compared before a match to tell apart occurrences with equal match lengths. */
const SIMILARITY_WINDOW = 8;
export const SIMILARITY_LEVELS = 3;
/** A match this long inside the prompt counts as the output copying it. */
const RESYNC_MATCH = 6;

export interface CandidateParams {
  /** Occurrences taken per index and step (the best rated of the scanned ones). */
  maxCandidates: number;
  /** Text of a token id, for line-end matching; undefined turns line candidates off. */
  tokenText: ((id: number) => string) | undefined;
}

/** Gathers, rates and inserts the candidates of one step into the trie; judges them when the truth arrives. */
export class CandidateSources {
  /** Statistics of the request being served (the drafter switches them by request kind). */
  reliability: Reliability;
  /** Line-end class of each token id, + 1 (0 = not computed yet, -1 + 1 = no newline). */
  private _lineClass = new Int32Array(0);
  private readonly _lineClassIds = new Map<string, number>();

  constructor(
    readonly trie: DraftTrie,
    reliability: Reliability,
    private readonly _params: CandidateParams,
  ) {
    this.reliability = reliability;
  }

  /**
   * A rewrite copies its input in order. A long match inside the prompt fixes the alignment (where the copy
   * continues, and at which output position). After novel text (no long match) the output usually resumes
   * either where the copy stopped (an insertion), at the same offset further on (a replacement of equal
   * length), or at the next spot that follows the context's last token (a deletion): all three become candidates,
   * once the output has been seen copying the prompt (a completion continues its prompt instead of restating it).
   */
  /** Moves the alignment to the longest match inside the prompt, if one is long enough; true when it did. */
  align(st: HybridRequest, local: Occurrence[]): boolean {
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

  resync(st: HybridRequest, budget: number): void {
    const hi = st.promptStart + st.promptLength;
    if (st.aligned < st.promptStart || st.aligned >= hi) return;
    const arena = st.index.arena;
    const end = st.index.length;
    // Tokens of novel output since the alignment: the statistics are kept per distance.
    const since = st.generated - st.alignedAt;
    this.candidate(st, { source: RESUME, matchLen: since, arena, from: st.aligned, end }, budget);
    const shifted = st.aligned + since;
    if (since > 0 && shifted < hi) this.candidate(st, { source: SHIFT, matchLen: since, arena, from: shifted, end }, budget);
    const last = arena[end - 1];
    for (let p = st.aligned; p < hi - 1; p++) {
      if (arena[p] !== last) continue;
      this.candidate(st, { source: SKIP, matchLen: since, arena, from: p + 1, end }, budget);
      break;
    }
    this._resyncSpots(st, budget);
  }

  /** The RESYNC_KEEP spots after the alignment with the longest match of the context's end, nearest first on ties. */
  private _resyncSpots(st: HybridRequest, budget: number): void {
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
    spots.forEach((p, i) => this.candidate(st, { source: RESYNC, matchLen: lens[i]!, arena, from: p + 1, end }, budget));
  }

  /** Judges every candidate of the last proposal against the tokens that were accepted (and the bonus). */
  learn(st: HybridRequest, tokens: readonly number[]): void {
    for (const c of st.candidates) {
      const available = Math.min(c.end - c.from, tokens.length);
      let agreed = 0;
      while (agreed < available && c.arena[c.from + agreed] === tokens[agreed]) agreed++;
      this.reliability.record(c.cell!, c.matchLen, agreed, tokens.length, c.end - c.from);
    }
    st.candidates = [];
    st.last = null;
  }

  /** Line-end class of a token: an id per indentation after its last newline, or -1 without a newline. */
  private _classOf(t: number): number {
    if (!this._params.tokenText) return -1;
    if (t >= this._lineClass.length) {
      const grown = new Int32Array(Math.max(t + 1, this._lineClass.length * 2, 1024));
      grown.set(this._lineClass);
      this._lineClass = grown;
    }
    let c = this._lineClass[t]!;
    if (c === 0) {
      const text = this._params.tokenText(t);
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

  indexLines(st: HybridRequest, from: number): void {
    if (!this._params.tokenText) return;
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
  substituteCandidates(st: HybridRequest, budget: number, pool: Candidate[]): void {
    const a = st.index.arena;
    const end = st.index.length;
    for (let k = 1; k <= SUBSTITUTED; k++) {
      if (end < k + 2) return;
      const occ = st.index.query(a, end - k, { maxMatch: 64, maxResults: SUBSTITUTE_SCAN, maxVisit: 2 * SUBSTITUTE_SCAN, skip: end - k - 1 });
      for (const o of occ) {
        if (o.matchLen < 2 || o.pos + k + 1 >= end || a[o.pos + 1] === a[end - k] || a[o.pos + 1]! < 0) continue;
        let ok = true;
        for (let j = 1; j <= k; j++) if (a[o.pos + j]! < 0) ok = false;
        if (ok) this.rate(st, { source: SUBSTITUTE + k - 1, matchLen: o.matchLen, arena: a, from: o.pos + k + 1, end }, budget, pool);
      }
    }
  }

  /** Line starts after other tokens of the context's line-end class, most recent first. */
  lineCandidates(st: HybridRequest, budget: number, pool: Candidate[]): void {
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
      this.rate(st, { source: LINE, matchLen: m, arena: a, from: p + 1, end }, budget, pool);
      taken++;
    }
  }

  /**
   * How many of the SIMILARITY_WINDOW tokens before a match also occur just before the context's matched
   * suffix (long matches count as fully similar, alignment candidates as not similar).
   */
  private _similarity(st: HybridRequest, c: Candidate): number {
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
  candidate(st: HybridRequest, c: Candidate, budget: number): void {
    const pool: Candidate[] = [];
    this.rate(st, c, budget, pool);
    if (pool.length > 0) this._insert(st, pool[0]!);
  }

  /** Trims a candidate to the budget and rates it; candidates with no token are dropped. */
  rate(st: HybridRequest, c: Candidate, budget: number, pool: Candidate[]): void {
    const stop = Math.min(c.end, c.from + budget);
    let i = c.from;
    while (i < stop && c.arena[i]! >= 0) i++;
    if (i === c.from) return;
    c.end = i;
    const same = this._similarity(st, c);
    c.cell = c.source * SIMILARITY_LEVELS + (same >= 4 ? 2 : same >= 2 ? 1 : 0);
    c.first = this.reliability.first(c.cell, c.matchLen);
    pool.push(c);
  }

  /** Inserts the maxCandidates best-rated candidates of the pool (and empties it). */
  keepBest(st: HybridRequest, pool: Candidate[]): void {
    if (pool.length > this._params.maxCandidates) pool.sort((a, b) => b.first! - a.first!);
    for (let i = 0; i < pool.length && i < this._params.maxCandidates; i++) this._insert(st, pool[i]!);
    pool.length = 0;
  }

  private _insert(st: HybridRequest, c: Candidate): void {
    st.candidates.push(c);
    const first = c.first!;
    const rho = this.reliability.survival(c.cell!, c.matchLen);
    this.trie.addRootMass(first);
    let node = TRIE_ROOT;
    let p = first;
    for (let k = c.from; k < c.end; k++) {
      const child = this.trie.child(node, c.arena[k]!, c.source);
      if (child < 0) break;
      this.trie.add(child, p);
      p *= rho;
      node = child;
    }
  }
}
