// SAM-Decoding (arXiv 2411.10666): suffix automata find the longest suffix of the context that occurs in
// the indexed text, and the tokens that followed it become the draft. This file is the request lifecycle and
// the drafting; the automaton itself is samAutomaton.ts.
//
// - A dynamic automaton per request over its prompt and generation, extended token by token (O(1)
//   amortized). The match is the longest suffix that occurred *before* the newest token, kept up to date as
//   tokens arrive; the draft copies from its earliest occurrence (for an edit, the original text in the
//   prompt) with the adaptive length n = min(maxTokens, 1 + floor(4 * matchLen)). Occurrence counts are
//   maintained by append (bounded suffix-link walk), and give the alternatives where continuations differ.
// - An automaton per request over its references (other files around the cursor), built once at begin with
//   occurrence counts, so that the prompt's own earliest occurrence is never shadowed by another file's.
// - A static automaton over workspace documents and past outputs, appended online; see StaticCorpus for
//   edits, removal and eviction. Occurrence counts are recomputed in O(n) after appends (at end(), or lazily
//   at the next use), and the draft is a small best-first tree over the top continuations by count.
// - All candidates merge into one draft trie (draftTrie.ts), nodes ranked by estimated acceptance probability;
//   a longer match gives its chain a higher confidence, so the longer match wins as in the paper.
import { DrafterBase } from './base';
import { DraftTrie, TRIE_ROOT } from './draftTrie';
import { SEPARATOR, SuffixAutomaton } from './samAutomaton';
import { MAX_TOKEN_ID } from './tokens';
import type { Draft } from './types';

/** Parameters of `sam`; every field has its default here. */
export const SAM_PARAMS = {
  /** Adaptive draft length n = min(maxTokens, 1 + floor(lengthSlope * matchLen)) (4, as in the paper). */
  lengthSlope: 4,
  /** Continuations of the static automaton below this share of their parent's count are pruned. */
  minTokenProb: 0.1,
  /** Per-token decay of the estimated acceptance along a draft path. */
  decay: 0.9,
  /** Oldest outputs are dropped beyond this many history tokens (4 bytes each when exported). */
  maxHistoryTokens: 1 << 20,
  /** A rematch after the static automaton changes looks at most this far back. */
  rematchWindow: 1024,
  /** Longest suffix-link chain walked per token to keep the dynamic automaton's counts. */
  countWalkLimit: 32,
};
export type SuffixAutomatonParams = typeof SAM_PARAMS;

/**
 * The automaton over workspace documents and past outputs, separated by separators.
 *
 * New documents, new versions of edited documents and new outputs are appended online. The text they
 * replace (an edited document's old version, evicted outputs) stays in the automaton as dead text until dead
 * text outweighs live text; then the automaton is rebuilt from live text, which keeps updates amortized O(1)
 * per token and memory within twice the live text. A removed document or a cleared or imported history is
 * dropped at once (rebuilt lazily at the next use), so that removed text is never drafted.
 */
class StaticCorpus {
  automaton = new SuffixAutomaton();
  /** Bumped whenever the automaton changes, so that requests know to refresh their match. */
  version = 0;
  readonly documents = new Map<string, Int32Array>();
  history: Int32Array[] = [];
  historyTokens = 0;
  private _liveTokens = 0;
  private _deadTokens = 0;
  private _stale = false;

  constructor(private readonly _maxHistoryTokens: number) {}

  setDocument(docId: string, tokens: Int32Array): void {
    const old = this.documents.get(docId);
    this.documents.set(docId, tokens);
    this._liveTokens += tokens.length - (old?.length ?? 0);
    if (old) this._deadTokens += old.length;
    this._appendOnline(tokens);
  }

  removeDocument(docId: string): void {
    const old = this.documents.get(docId);
    if (!old) return;
    this.documents.delete(docId);
    this._liveTokens -= old.length;
    this._markStale();
  }

  addOutput(tokens: Int32Array): void {
    if (tokens.length === 0) return;
    this.history.push(tokens);
    this.historyTokens += tokens.length;
    this._liveTokens += tokens.length;
    const evicted = this._evict();
    this._liveTokens -= evicted;
    this._deadTokens += evicted;
    this._appendOnline(tokens);
  }

  setHistory(history: Int32Array[]): void {
    this._liveTokens -= this.historyTokens;
    this.history = history;
    this.historyTokens = history.reduce((sum, h) => sum + h.length, 0);
    this._evict();
    this._liveTokens += this.historyTokens;
    this._markStale();
  }

  /** Tokens indexed but no longer live (old versions of documents, evicted outputs). */
  get deadTokens(): number {
    return this._deadTokens;
  }

  /** Rebuilds if stale and refreshes counts; returns the automaton ready for drafting. */
  ready(): SuffixAutomaton {
    if (this._stale) {
      const automaton = new SuffixAutomaton();
      for (const doc of this.documents.values()) StaticCorpus._appendTo(automaton, doc);
      for (const out of this.history) StaticCorpus._appendTo(automaton, out);
      automaton.compact();
      this.automaton = automaton;
      this._deadTokens = 0;
      this._stale = false;
      this.version++;
    }
    if (!this.automaton.countsFresh) this.automaton.computeCounts();
    return this.automaton;
  }

  /** Drops the oldest outputs beyond the budget; returns how many tokens went. */
  private _evict(): number {
    let evicted = 0;
    while (this.historyTokens > this._maxHistoryTokens && this.history.length > 0) {
      const gone = this.history.shift()!.length;
      this.historyTokens -= gone;
      evicted += gone;
    }
    return evicted;
  }

  private _markStale(): void {
    this._stale = true;
    this.version++;
  }

  private _appendOnline(tokens: Int32Array): void {
    if (this._deadTokens > this._liveTokens) this._markStale();
    if (this._stale) return;
    StaticCorpus._appendTo(this.automaton, tokens);
    this.version++;
  }

  private static _appendTo(automaton: SuffixAutomaton, tokens: Int32Array): void {
    for (let i = 0; i < tokens.length; i++) automaton.append(tokens[i]!);
    automaton.appendSeparator();
  }
}

/** Per-request state: the automata and their matches, kept up to date token by token. */
interface SamRequest {
  /** Prompt plus generation. */
  dynamic: SuffixAutomaton;
  dynState: number;
  dynLen: number;
  /** Where the dynamic draft copies from (a position in dynamic.text), or -1. */
  copyPos: number;
  /** The request's references (null when none), built once with counts. */
  references: SuffixAutomaton | null;
  refState: number;
  refLen: number;
  staticState: number;
  staticLen: number;
  staticVersion: number;
}

/** Largest tree proposed, whatever the budget asked. */
const MAX_DRAFT = 1024;
const HISTORY_MAGIC = 0x4d415350; // "PSAM" little endian
const HISTORY_FORMAT = 1;

export class SuffixAutomatonDrafter extends DrafterBase<SamRequest> {
  readonly name = 'sam';
  private readonly _params: SuffixAutomatonParams;
  private readonly _corpus: StaticCorpus;
  private readonly _trie = new DraftTrie(['sam'], { combine: 'max' });

  constructor(params: Partial<SuffixAutomatonParams> = {}) {
    super();
    const p = (this._params = { ...SAM_PARAMS, ...params });
    positive(p.lengthSlope, 'lengthSlope');
    if (!(p.minTokenProb >= 0 && p.minTokenProb <= 1)) throw new Error(`sam: minTokenProb must be in [0, 1], got ${p.minTokenProb}`);
    if (!(p.decay > 0 && p.decay <= 1)) throw new Error(`sam: decay must be in (0, 1], got ${p.decay}`);
    p.rematchWindow = Math.floor(positive(p.rematchWindow, 'rematchWindow'));
    p.countWalkLimit = Math.floor(positive(p.countWalkLimit, 'countWalkLimit'));
    this._corpus = new StaticCorpus(Math.floor(positive(p.maxHistoryTokens, 'maxHistoryTokens')));
  }

  protected open(_requestId: string, prompt: readonly number[], references: readonly (readonly number[])[]): SamRequest {
    let refs: SuffixAutomaton | null = null;
    if (references.some((ref) => ref.length > 0)) {
      refs = new SuffixAutomaton();
      for (const ref of references) {
        for (const t of ref) refs.append(t);
        refs.appendSeparator();
      }
      refs.computeCounts();
      refs.compact();
    }
    const req: SamRequest = {
      dynamic: new SuffixAutomaton(this._params.countWalkLimit),
      dynState: 0,
      dynLen: 0,
      copyPos: -1,
      references: refs,
      refState: 0,
      refLen: 0,
      staticState: 0,
      staticLen: 0,
      staticVersion: -1,
    };
    this._corpus.ready();
    req.staticVersion = this._corpus.version;
    this._push(req, prompt);
    return req;
  }

  protected append(req: SamRequest, tokens: readonly number[]): void {
    this._push(req, tokens);
  }

  protected draft(req: SamRequest, maxTokens: number): Draft {
    const budget = Math.min(MAX_DRAFT, maxTokens);
    const corpus = this._corpus.ready();
    this._refreshStatic(req, corpus);
    const trie = this._trie;
    trie.reset();
    this._addDynamicChain(req, budget, trie);
    // Counts over the prompt and generation are kept by append; after a degenerate (too long) suffix-link
    // chain they go stale and the request keeps only the copy, rather than recounting in the hot path.
    if (req.dynamic.countsFresh) this._addCountTree(req.dynamic, req.dynState, req.dynLen, budget, trie);
    if (req.references) this._addCountTree(req.references, req.refState, req.refLen, budget, trie);
    this._addCountTree(corpus, req.staticState, req.staticLen, budget, trie);
    return trie.select(budget, Math.max(req.dynLen, req.refLen, req.staticLen));
  }

  protected override learn(output: readonly number[]): void {
    this._corpus.addOutput(Int32Array.from(output));
    // Index (and recount) now, after the request, rather than on the next request's path.
    this._corpus.ready();
  }

  override setDocument(docId: string, tokens: readonly number[]): void {
    super.setDocument(docId, tokens);
    this._corpus.setDocument(docId, Int32Array.from(tokens));
    this.notePeak();
  }

  override removeDocument(docId: string): void {
    this._corpus.removeDocument(docId);
  }

  override clearHistory(): void {
    this._corpus.setHistory([]);
  }

  override exportHistory(): Uint8Array {
    const history = this._corpus.history;
    const bytes = new Uint8Array(12 + 4 * history.length + 4 * this._corpus.historyTokens);
    const view = new DataView(bytes.buffer);
    view.setUint32(0, HISTORY_MAGIC, true);
    view.setUint32(4, HISTORY_FORMAT, true);
    view.setUint32(8, history.length, true);
    let at = 12;
    for (const out of history) {
      view.setUint32(at, out.length, true);
      at += 4;
      for (let i = 0; i < out.length; i++, at += 4) view.setUint32(at, out[i]!, true);
    }
    return bytes;
  }

  override importHistory(data: Uint8Array): void {
    const fail = (why: string): never => {
      throw new Error(`sam: cannot import history: ${why}`);
    };
    if (data.length < 12) fail(`buffer of ${data.length} bytes is shorter than the 12-byte header`);
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    if (view.getUint32(0, true) !== HISTORY_MAGIC) fail('bad magic (not a sam history)');
    if (view.getUint32(4, true) !== HISTORY_FORMAT) fail(`unsupported format ${view.getUint32(4, true)}`);
    const count = view.getUint32(8, true);
    const history: Int32Array[] = [];
    let at = 12;
    for (let k = 0; k < count; k++) {
      if (at + 4 > data.length) fail(`truncated at output ${k}`);
      const length = view.getUint32(at, true);
      at += 4;
      if (at + 4 * length > data.length) fail(`output ${k} claims ${length} tokens past the end`);
      const out = new Int32Array(length);
      for (let i = 0; i < length; i++, at += 4) {
        const t = view.getUint32(at, true);
        if (t > MAX_TOKEN_ID) fail(`output ${k} token ${i} is ${t}, above ${MAX_TOKEN_ID}`);
        out[i] = t;
      }
      history.push(out);
    }
    if (at !== data.length) fail(`${data.length - at} trailing bytes`);
    this._corpus.setHistory(history);
  }

  override estimateBytes(): number {
    let bytes = this._corpus.automaton.estimateBytes() + 4 * this._corpus.historyTokens;
    for (const doc of this._corpus.documents.values()) bytes += doc.byteLength;
    for (const req of this.liveRequests()) bytes += req.dynamic.estimateBytes() + (req.references?.estimateBytes() ?? 0);
    return bytes;
  }

  /**
   * Current match lengths: dynamic (the context before its newest token), references (this request's) and
   * static (workspace documents and past outputs).
   */
  matchLengths(requestId: string): { dynamic: number; references: number; static: number } {
    const req = this.request(requestId);
    this._refreshStatic(req, this._corpus.ready());
    return { dynamic: req.dynLen, references: req.refLen, static: req.staticLen };
  }

  private _push(req: SamRequest, tokens: readonly number[]): void {
    const dyn = req.dynamic;
    const corpus = this._corpus.automaton;
    const staticFresh = req.staticVersion === this._corpus.version;
    for (const t of tokens) {
      const [state, len] = dyn.advance(req.dynState, req.dynLen, t);
      dyn.append(t);
      req.dynState = dyn.normalize(state, len);
      req.dynLen = len;
      // The earliest occurrence is also sticky: while the copied text keeps matching, it stays the earliest.
      req.copyPos = len > 0 ? dyn.firstPos(req.dynState) + 1 : -1;
      if (req.references) [req.refState, req.refLen] = req.references.advance(req.refState, req.refLen, t);
      if (staticFresh) [req.staticState, req.staticLen] = corpus.advance(req.staticState, req.staticLen, t);
    }
    if (!staticFresh) req.staticVersion = -1;
  }

  /** After the corpus changed, rematches the context's tail against it. */
  private _refreshStatic(req: SamRequest, corpus: SuffixAutomaton): void {
    if (req.staticVersion === this._corpus.version) return;
    const text = req.dynamic.text;
    const from = Math.max(0, req.dynamic.textLength - this._params.rematchWindow);
    let state = 0;
    let len = 0;
    for (let i = from; i < req.dynamic.textLength; i++) [state, len] = corpus.advance(state, len, text[i]!);
    req.staticState = state;
    req.staticLen = len;
    req.staticVersion = this._corpus.version;
  }

  /** Estimated acceptance of the first drafted token after a match of this length. */
  private _confidence(matchLen: number): number {
    return matchLen / (matchLen + 1);
  }

  private _draftLength(matchLen: number, budget: number): number {
    return Math.min(budget, 1 + Math.floor(this._params.lengthSlope * matchLen));
  }

  private _addDynamicChain(req: SamRequest, budget: number, trie: DraftTrie): void {
    if (req.dynLen === 0 || req.copyPos < 0) return;
    const dyn = req.dynamic;
    const n = this._draftLength(req.dynLen, budget);
    let p = this._confidence(req.dynLen);
    let parent = TRIE_ROOT;
    for (let j = 0, pos = req.copyPos; j < n && pos < dyn.textLength; j++, pos++) {
      const t = dyn.text[pos]!;
      if (t === SEPARATOR) break;
      parent = trie.addChild(parent, t, p);
      p *= this._params.decay;
    }
  }

  /** Best-first tree over an automaton's continuations, path probability = product of count ratios. */
  private _addCountTree(corpus: SuffixAutomaton, matchState: number, matchLen: number, budget: number, trie: DraftTrie): void {
    if (matchLen === 0) return;
    const n = this._draftLength(matchLen, budget);
    const scale = this._confidence(matchLen);
    // Frontier of candidate nodes: automaton state, parent trie node, token, count probability,
    // and its rank (count probability decayed by depth, the estimate the tree stores).
    const states: number[] = [];
    const parents: number[] = [];
    const tokens: number[] = [];
    const probs: number[] = [];
    const depths: number[] = [];
    const ranks: number[] = [];
    const expand = (state: number, node: number, prob: number, depth: number): void => {
      const total = corpus.count(state);
      if (total === 0) return;
      corpus.forEachEdge(state, (token, target) => {
        if (token === SEPARATOR) return;
        const childProb = (prob * corpus.count(target)) / total;
        if (childProb < this._params.minTokenProb) return;
        states.push(target);
        parents.push(node);
        tokens.push(token);
        probs.push(childProb);
        depths.push(depth);
        ranks.push(childProb * this._params.decay ** depth);
      });
    };
    expand(matchState, TRIE_ROOT, 1, 0);
    for (let added = 0; added < n && states.length > 0; added++) {
      let best = 0;
      for (let k = 1; k < states.length; k++) if (ranks[k]! > ranks[best]!) best = k;
      const state = states[best]!;
      const parent = parents[best]!;
      const token = tokens[best]!;
      const prob = probs[best]!;
      const depth = depths[best]!;
      const rank = ranks[best]!;
      const last = states.length - 1;
      states[best] = states[last]!;
      parents[best] = parents[last]!;
      tokens[best] = tokens[last]!;
      probs[best] = probs[last]!;
      depths[best] = depths[last]!;
      ranks[best] = ranks[last]!;
      states.pop();
      parents.pop();
      tokens.pop();
      probs.pop();
      depths.pop();
      ranks.pop();
      const node = trie.addChild(parent, token, scale * rank);
      expand(state, node, prob, depth + 1);
    }
  }
}

function positive(value: number, name: string): number {
  if (!(Number.isFinite(value) && value > 0)) throw new Error(`sam: ${name} must be a positive number, got ${value}`);
  return value;
}
