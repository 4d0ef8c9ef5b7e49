// The one drafter interface every proposer implements (suffix tree, suffix automaton, reference copy, PLD, hybrid).

/**
 * A draft tree, already flattened in topological order (a parent always comes before its children).
 * parents[j] is the index of node j's parent, or -1 when node j continues the last context token.
 */
export interface Draft {
  tokens: number[];
  parents: number[];
  /** Estimated probability that node j is accepted (its path probability). */
  probs: number[];
  /** Sum of probs: the expected number of accepted tokens. */
  score: number;
  /** Length of the context suffix that was matched to produce the draft. */
  matchLen: number;
  /** Optional per-node name of the drafter that proposed it (for accepted-per-drafter metrics). */
  sources?: string[];
}

export const EMPTY_DRAFT: Readonly<Draft> = Object.freeze({ tokens: [], parents: [], probs: [], score: 0, matchLen: 0 });

/** The verbs the decoder drives, in this order per request: begin, then observe / propose in turn, then end. */
export interface DraftVerbs {
  readonly name: string;
  /** Starts a request with its prompt tokens; references are extra token sequences for this request only. */
  begin(requestId: string, prompt: readonly number[], references?: readonly (readonly number[])[]): void;
  /** Appends newly accepted tokens to the request's context. */
  observe(requestId: string, tokens: readonly number[]): void;
  /** Proposes a draft tree of at most maxTokens nodes continuing the request's current context. */
  propose(requestId: string, maxTokens: number): Draft;
  /** Ends a request and frees its state; when output is given, a drafter that keeps history learns it. */
  end(requestId: string, output?: readonly number[]): void;
}

/**
 * Optional capabilities. DrafterBase (base.ts) defaults every one (documents ignored, no history, 0 bytes), so a
 * drafter overrides only those it has.
 */
export interface DrafterCapabilities {
  /** Adds or replaces a workspace document in the global index (an edit is remove plus add). */
  setDocument(docId: string, tokens: readonly number[]): void;
  removeDocument(docId: string): void;
  /** Forgets every earlier output (not the documents). */
  clearHistory(): void;
  /** Earlier outputs, serialized for persistence; bounded by the drafter's byte budget. */
  exportHistory(): Uint8Array;
  /** Restores what exportHistory wrote; throws a clear error on a corrupt buffer. */
  importHistory(data: Uint8Array): void;
  estimateBytes(): number;
}

/**
 * What the decoder and the engine hold: the verbs plus every capability. A drafter keeps per-request state
 * (prompt plus generated tokens, keyed by request id) and may keep a global index (workspace documents and
 * earlier outputs).
 */
export interface Drafter extends DraftVerbs, DrafterCapabilities {}

/** Counters every DrafterBase keeps (like llama.cpp's common_speculative statistics). */
export interface DrafterStats {
  /** propose calls with a budget above 0. */
  drafts: number;
  /** Draft nodes returned. */
  proposedTokens: number;
  /** Draft tokens that the next observe confirmed (the longest draft path it starts with). */
  acceptedTokens: number;
  /** Time spent in propose, milliseconds. */
  draftMs: number;
  /** Highest estimateBytes() seen at begin, end and document or history changes. */
  peakBytes: number;
}
