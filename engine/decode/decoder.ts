// The speculative loop for one model: draft -> lay out the tree -> one forward -> accept the longest path ->
// bonus token -> commit (compact KV) -> tell the drafter -> stream. Requests must be serialized by the caller
// (see queue.ts): the model holds one sequence.
import type { Draft, Drafter } from '../draft/types';
import type { Model } from '../model/types';
import type { FinishReason, GenerationMetrics } from '../protocol';
import { ForwardCostModel, chooseTreeSize, layoutTree, orderDraft, type CostCurve } from './budget';
import { createRng, type SamplingOptions } from './sampling';
import { maskRow, maskTree, type TokenConstraint } from './constraint';
import { TextStream } from './textStream';
import { acceptTree, chooseToken } from './verify';
import { speculate, type SpeculationRunner } from './speculation';

export type DecodeFinish = FinishReason;

/** The wire metrics plus what only the engine and its benchmarks report. */
export interface DecodeMetrics extends GenerationMetrics {
  prefillMs: number;
  /** Prompt tokens reused from the committed context (not recomputed). */
  reusedPromptTokens: number;
  /** Draft nodes verified in total, and accepted in total. */
  draftedTokens: number;
  acceptedTokens: number;
}

export interface DecodeRequest {
  requestId: string;
  /** Token ids the model sees (special tokens included); must not be empty. */
  prompt: readonly number[];
  /** Extra token sequences the drafter may copy from (references, the selection, a predicted output). */
  references?: readonly (readonly number[])[];
  maxTokens: number;
  sampling?: SamplingOptions;
  eosTokenIds?: readonly number[];
  stop?: readonly string[];
  /** Caller's cut rule on the text: index at which to end (block end), or -1 to continue. */
  stopAt?: (text: string) => number;
  timeBudgetMs?: number;
  signal?: AbortSignal;
  /** Streams newly stable text (and the tokens of the step). */
  onDelta?: (delta: string) => void;
  /** Speculate (default true). False gives plain one-token-per-step decoding. */
  speculative?: boolean;
  /** Upper bound on verified draft nodes per step (default 64). */
  maxDraftTokens?: number;
  /** Verify exactly this many draft nodes when available (no cost-based sizing); for tests and benchmarks. */
  fixedDraftTokens?: number;
  /** Let the drafter's global history learn the output (default true). */
  learn?: boolean;
  /** Masks the logits before every choice (token healing); drafts are verified against the masked rows. */
  constraint?: TokenConstraint;
}

export interface DecodeResult {
  tokens: number[];
  text: string;
  finishReason: DecodeFinish;
  metrics: DecodeMetrics;
}

export interface DecoderOptions {
  model: Model;
  drafter?: Drafter;
  decode: (ids: readonly number[]) => string;
  /** Prior forward-cost curve (e.g. the runtime's fitted or calibrated curve); refined online either way. */
  costCurve?: CostCurve;
  /** Prompt tokens per prefill forward. */
  prefillChunk?: number;
  /** Extra per-step overhead in ms added to the cost estimate before drafting time is measured. */
  stepOverheadMs?: number;
  /** Refine the cost curve with measured forward times (default true; off for reproducible tests). */
  learnCost?: boolean;
  /**
   * Minimum rows per forward (default: the model's `info.minForwardRows`, else 1): padding with extra roots makes
   * plain and speculative steps run the same kernels on a runtime whose one-row path differs numerically from its
   * multi-row path.
   */
  minForwardTokens?: number;
  /** A learned speculator; its n-grams reach drafters that consume them (needs a model with hidden states). */
  speculator?: SpeculationRunner;
}

const now = (): number => performance.now();

/** Steps without any verified draft node after which the best node is verified anyway. */
const PROBE_EVERY = 8;

export class Decoder {
  readonly model: Model;
  readonly drafter: Drafter | undefined;
  private readonly _decode: (ids: readonly number[]) => string;
  private readonly _cost: ForwardCostModel;
  private readonly _prefillChunk: number;
  private _draftMsAvg: number;
  private readonly _learnCost: boolean;
  private readonly _minForwardTokens: number;
  private readonly _speculator: SpeculationRunner | undefined;
  /** Decayed sums of accepted draft tokens and of the drafter's expected acceptances (calibrates its probs). */
  private _calibAccepted = 2;
  private _sinceProbe = 0;
  private _calibExpected = 2;
  /** Mirror of the tokens in the model's KV cache. */
  private _committed: number[] = [];

  constructor(options: DecoderOptions) {
    this.model = options.model;
    this.drafter = options.drafter;
    this._decode = options.decode;
    this._cost = new ForwardCostModel(options.costCurve);
    this._prefillChunk = Math.max(1, options.prefillChunk ?? 256);
    this._draftMsAvg = options.stepOverheadMs ?? 0.05;
    this._learnCost = options.learnCost !== false;
    this._minForwardTokens = Math.max(1, Math.floor(options.minForwardTokens ?? this.model.info.minForwardRows ?? 1));
    this._speculator = options.speculator;
    if (this.model.contextLength !== 0) this.model.truncate(0);
  }

  /** Tokens currently committed in the model (for prefix reuse). */
  get committed(): readonly number[] {
    return this._committed;
  }

  get costModel(): ForwardCostModel {
    return this._cost;
  }

  /**
   * How far to trust the drafter's probabilities: decayed (accepted / expected) over recent steps, in [0.01, 1.5].
   * A model that keeps rejecting drafts shrinks the trees towards plain decoding; every eighth step without a tree
   * verifies the best node anyway.
   */
  get calibration(): number {
    return Math.min(1.5, Math.max(0.01, this._calibAccepted / this._calibExpected));
  }

  private _calibrate(accepted: number, expected: number): void {
    const decay = 0.95;
    this._calibAccepted = this._calibAccepted * decay + accepted;
    this._calibExpected = this._calibExpected * decay + Math.max(expected, 1e-3);
  }

  /**
   * Pads a forward to `minForwardTokens` rows with extra roots (siblings of the first node, never accepted), so that
   * every step runs the same kernels: some quantized kernels compute one row differently from several.
   */
  private _pad(tokens: number[], parents: number[]): { tokens: number[]; parents: number[] } {
    if (tokens.length >= this._minForwardTokens) return { tokens, parents };
    const t = [...tokens];
    const p = [...parents];
    while (t.length < this._minForwardTokens) {
      t.push(tokens[0]!);
      p.push(-1);
    }
    return { tokens: t, parents: p };
  }

  /** Drops the whole committed context. */
  reset(): void {
    this.model.truncate(0);
    this._committed = [];
  }

  async generate(req: DecodeRequest): Promise<DecodeResult> {
    const t0 = now();
    const prompt = req.prompt;
    if (prompt.length === 0) throw new Error('generate: the prompt is empty (at least one token is needed)');
    const vocab = this.model.info.vocabSize;
    for (const t of prompt) {
      if (!Number.isInteger(t) || t < 0 || t >= vocab) throw new Error(`generate: prompt token ${t} is outside the vocabulary (0..${vocab - 1})`);
    }
    const maxContext = this.model.info.maxContext;
    if (prompt.length >= maxContext) throw new Error(`generate: the prompt has ${prompt.length} tokens, the model's context is ${maxContext}`);
    const maxTokens = Math.max(0, Math.min(Math.floor(req.maxTokens), maxContext - prompt.length));
    const sampling = req.sampling ?? {};
    const rng = createRng(sampling.seed ?? Math.floor(Math.random() * 2 ** 32));
    const eos = new Set(req.eosTokenIds ?? []);
    const drafter = req.speculative === false ? undefined : this.drafter;
    const maxDraft = Math.max(0, Math.floor(req.maxDraftTokens ?? 64));
    const stream = new TextStream({ decode: this._decode, ...(req.stop ? { stop: req.stop } : {}), ...(req.stopAt ? { stopAt: req.stopAt } : {}) });
    const metrics: DecodeMetrics = {
      steps: 0, tokens: 0, mat: 0, tokensPerS: 0, draftMs: 0, verifyMs: 0, prefillMs: 0, totalMs: 0, firstTokenMs: 0,
      reusedPromptTokens: 0, draftedTokens: 0, acceptedTokens: 0, acceptedByDrafter: {},
    };
    const output: number[] = [];
    let finish: DecodeFinish | undefined;
    let drafterStarted = false;
    /** The speculator's time for the coming step: part of the drafting overhead the tree size is weighed against. */
    let specMs = 0;
    /** The step cost the speculator's gate weighs its time against (tree tokens → ms, drafting overhead included). */
    const stepCosts = { stepMs: (tokens: number): number => this._draftMsAvg + this._cost.estimate(tokens, this._committed.length) };

    const emit = (tokens: readonly number[]): void => {
      // Applies EOS and max-tokens to a step's new tokens, then streams the text.
      const kept: number[] = [];
      for (const t of tokens) {
        if (eos.has(t)) {
          finish = 'eos';
          break;
        }
        if (output.length + kept.length >= maxTokens) {
          finish = 'length';
          break;
        }
        kept.push(t);
      }
      if (kept.length > 0) {
        if (output.length === 0) metrics.firstTokenMs = now() - t0;
        output.push(...kept);
        const delta = stream.push(kept);
        if (delta && req.onDelta) req.onDelta(delta);
        if (stream.stopped) finish = stream.stopped;
      }
      if (!finish && output.length >= maxTokens) finish = 'length';
    };
    const cancelled = (): boolean => req.signal?.aborted === true;
    const overTime = (): boolean => req.timeBudgetMs !== undefined && req.timeBudgetMs > 0 && now() - t0 > req.timeBudgetMs;

    try {
      if (cancelled()) finish = 'cancelled';
      else if (maxTokens === 0) finish = 'length';
      // Prefill: reuse the common prefix with what the model already holds; keep the last prompt token uncommitted
      // no earlier than needed to get its logits.
      let pending = -1;
      if (!finish) {
        const tPrefill = now();
        // Another user of the model may have changed its context: then the mirror is stale and nothing is reused.
        if (this.model.contextLength !== this._committed.length) this.reset();
        let common = 0;
        const committed = this._committed;
        while (common < committed.length && common < prompt.length && committed[common] === prompt[common]) common++;
        const keep = Math.min(common, prompt.length - 1);
        if (keep < committed.length) {
          this.model.truncate(keep);
          committed.length = keep;
        }
        metrics.reusedPromptTokens = keep;
        let logits: Float32Array | undefined;
        for (let start = keep; start < prompt.length; start += this._prefillChunk) {
          if (cancelled()) break;
          const chunk = prompt.slice(start, Math.min(prompt.length, start + this._prefillChunk));
          const parents = chunk.map((_, i) => i - 1);
          const padded = this._pad(chunk, parents);
          // Only the chunk's last position gets logits: a whole chunk's rows over a large vocabulary would be
          // most of the prefill's memory (512 × 151936 floats = 311 MB) for one row that is read.
          logits = await this.model.forward(padded.tokens, padded.parents, { logitRows: [chunk.length - 1] });
          this.model.commit(chunk.map((_, i) => i));
          committed.push(...chunk);
        }
        metrics.prefillMs = now() - tPrefill;
        if (cancelled() || !logits) finish = 'cancelled';
        else {
          const allowed = req.constraint?.([]);
          if (allowed) maskRow(logits, 0, vocab, allowed);
          pending = chooseToken(logits, 0, vocab, sampling, rng);
          metrics.steps = 1;
          if (drafter) {
            drafter.begin(req.requestId, prompt, req.references);
            drafterStarted = true;
          }
          emit([pending]);
          if (drafter && !finish) drafter.observe(req.requestId, [pending]);
          // the prefill's one logit row chose `pending`
          if (drafter && !finish) metrics.draftMs += specMs = await speculate(this.model, this._speculator, drafter, req.requestId, 0, pending, maxDraft, stepCosts);
        }
      }

      while (!finish) {
        if (cancelled()) {
          finish = 'cancelled';
          break;
        }
        if (overTime()) {
          finish = 'time_budget';
          break;
        }
        // Room left in the context for the pending token plus the tree.
        const room = maxContext - this._committed.length - 1;
        if (room < 1) {
          finish = 'length';
          break;
        }
        let draft: Draft | undefined;
        let chosen: number[] = [];
        if (drafter && maxDraft > 0) {
          const tDraft = now();
          draft = drafter.propose(req.requestId, Math.min(maxDraft, room - 1));
          const ms = now() - tDraft;
          metrics.draftMs += ms;
          if (this._learnCost) this._draftMsAvg += 0.2 * (ms + specMs - this._draftMsAvg);
          const order = orderDraft(draft, vocab).slice(0, Math.min(maxDraft, room - 1));
          const scale = this.calibration;
          let k = req.fixedDraftTokens !== undefined
            ? Math.min(order.length, Math.max(0, Math.floor(req.fixedDraftTokens)))
            : chooseTreeSize(order.map((j) => (draft!.probs[j] ?? 0) * scale), this._cost, this._draftMsAvg, order.length, this._committed.length);
          // Probe now and then with the best node, so that a drafter the calibration gave up on can earn trust back.
          if (k === 0 && order.length > 0 && ++this._sinceProbe >= PROBE_EVERY && (draft.probs[order[0]!] ?? 0) >= 0.3) k = 1;
          if (k > 0) this._sinceProbe = 0;
          chosen = order.slice(0, k);
        }
        const tree = draft ? layoutTree(pending, draft, chosen) : { tokens: [pending], parents: [-1], draftIndex: [-1] };
        const padded = this._pad(tree.tokens, tree.parents);
        const tVerify = now();
        // Logits for the tree's nodes only, not for padding rows.
        const logits = await this.model.forward(padded.tokens, padded.parents, { logitRows: tree.tokens.map((_, j) => j) });
        const verifyMs = now() - tVerify;
        metrics.verifyMs += verifyMs;
        if (this._learnCost) this._cost.record(tree.tokens.length, verifyMs, this._committed.length);
        if (req.constraint) maskTree(logits, tree.tokens, tree.parents, vocab, output, req.constraint);
        const { path, bonus } = acceptTree(tree.tokens, tree.parents, logits, vocab, sampling, rng);
        this.model.commit(path);
        for (const node of path) this._committed.push(tree.tokens[node]!);
        metrics.steps++;
        metrics.draftedTokens += tree.tokens.length - 1;
        metrics.acceptedTokens += path.length - 1;
        if (draft && tree.tokens.length > 1) {
          let expected = 0;
          for (let i = 1; i < tree.tokens.length; i++) expected += Math.min(1, Math.max(0, draft.probs[tree.draftIndex[i]!] ?? 0));
          this._calibrate(path.length - 1, expected);
        }
        if (draft) {
          for (let i = 1; i < path.length; i++) {
            const j = tree.draftIndex[path[i]!]!;
            const source = draft.sources?.[j] ?? drafter!.name;
            metrics.acceptedByDrafter[source] = (metrics.acceptedByDrafter[source] ?? 0) + 1;
          }
        }
        const fresh = path.slice(1).map((node) => tree.tokens[node]!);
        fresh.push(bonus);
        pending = bonus;
        emit(fresh);
        if (drafter && !finish) drafter.observe(req.requestId, fresh);
        // logit rows are the tree's nodes in order: the last accepted node's row chose the bonus token
        if (drafter && !finish) {
          specMs = await speculate(this.model, this._speculator, drafter, req.requestId, path[path.length - 1]!, bonus, maxDraft, stepCosts);
          metrics.draftMs += specMs;
        }
      }
    } catch (err) {
      // Leave the model in a known state: the sequence may be half-updated.
      this.reset();
      if (drafterStarted) drafter!.end(req.requestId);
      drafterStarted = false;
      throw err;
    } finally {
      if (drafterStarted) drafter!.end(req.requestId, finish !== 'cancelled' && req.learn !== false ? output : undefined);
    }
    if (finish === 'cancelled') {
      // Free what the request generated at once; the prompt prefix stays for reuse by the next request.
      const keep = Math.min(this._committed.length, prompt.length);
      this.model.truncate(keep);
      this._committed.length = keep;
    }
    const tail = stream.finish();
    if (tail && req.onDelta && finish !== 'cancelled') req.onDelta(tail);
    metrics.tokens = output.length;
    metrics.totalMs = now() - t0;
    metrics.mat = metrics.steps > 0 ? output.length / metrics.steps : 0;
    metrics.tokensPerS = metrics.totalMs > 0 ? (output.length * 1000) / metrics.totalMs : 0;
    return { tokens: output, text: stream.text, finishReason: finish ?? 'length', metrics };
  }
}
