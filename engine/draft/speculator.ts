// The learned speculator's side of drafting (IBM's MLP speculator): the decoder runs the speculator on the base
// model's last hidden state (engine/decode/speculation.ts, since drafters never touch the model) and hands the
// resulting n-gram tree to the drafter here; `speculator` drafts from it alone, `hybrid+speculator` merges it
// into hybrid's tree. Without a speculation for the current context (no hidden states, no speculator loaded)
// both degrade: `speculator` to no draft, `hybrid+speculator` to plain hybrid.
//
// Calibration: the speculator's softmax is not an acceptance probability. Its conditional probabilities are
// mapped through acceptance rates learned online per depth and probability bucket (what the verifier accepted
// of the speculator's nodes whose parent it reached), as hybrid learns per source. Grafting: the decoder asks
// for `graftPaths` (hybrid's likeliest paths, up to the speculator's depth) before running it, so the n-grams
// also continue hybrid's nodes, not only the root.
//
// Gate: running the speculator costs time on every step, so the decoder asks `wantsSpeculation` first. The gain
// (tokens accepted on speculator-only nodes per step) is learned online per bucket of hybrid's own expected
// acceptance (a confident copy run leaves little to add); the speculator runs only while gain / (tokens the step
// yields anyway) beats its measured time / the step's time, and every EXPLORE_EVERY-th skipped step runs anyway
// so the estimate can recover.
import { DrafterBase } from './base';
import { HybridDrafter, type HybridParams } from './hybrid';
import type { Draft } from './types';

/** What the speculator produced for one context: candidates in topological order, probs conditional on the parent. */
export interface Speculation {
  tokens: number[];
  parents: number[];
  probs: number[];
}

/** What a step costs, as the decoder estimates it (drafters never see the model or its cost curve). */
export interface StepCosts {
  /** Milliseconds of one step whose forward verifies `tokens` tree tokens (pending token included), overhead included. */
  stepMs(tokens: number): number;
}

/** The hooks the decoder calls around the speculator (drafters that have them are speculation consumers). */
export interface SpeculationConsumer {
  /** Whether running the speculator for the current context is expected to pay for its time (see the gate above). */
  wantsSpeculation(requestId: string, maxTokens: number, costs: StepCosts): boolean;
  /** Root paths (continuing the current context) the speculator should also condition on. */
  graftPaths(requestId: string, maxTokens: number, depth: number): number[][];
  /** The speculation for the request's current context (valid until the next observe) and the ms it took. */
  setSpeculation(requestId: string, speculation: Speculation, ms?: number): void;
}

export function isSpeculationConsumer(d: object): d is SpeculationConsumer {
  const c = d as Partial<SpeculationConsumer>;
  return typeof c.setSpeculation === 'function' && typeof c.graftPaths === 'function' && typeof c.wantsSpeculation === 'function';
}

/** Parameters of `speculator` and `hybrid+speculator`; every field has its default here. */
export const SPECULATOR_PARAMS = {
  /** Merge with hybrid's candidates (`hybrid+speculator`) or draft from the speculator alone (`speculator`). */
  withHybrid: false,
  /** Paths of hybrid's draft the speculator also continues (the likeliest leaves first). */
  graftPaths: 3,
  /** Prior weight (in observations) of the raw softmax probability in each calibration bucket. */
  calibrationPrior: 4,
  /** Skip the speculator on steps where its learned gain does not pay for its time (false: run it every step). */
  gate: true,
  /** While gated off, still run it every this many steps, so that its gain estimate can recover. */
  exploreEvery: 16,
  /** Parameters of the inner hybrid drafter (withHybrid only). */
  hybrid: {} as Partial<HybridParams>,
};
export type SpeculatorParams = typeof SPECULATOR_PARAMS;

const DEPTHS = 8;
const BUCKETS = 10;

/** Online acceptance rates of speculator nodes by depth and softmax-probability bucket. */
export class SpeculationCalibration {
  private readonly reached = new Float64Array(DEPTHS * BUCKETS);
  private readonly accepted = new Float64Array(DEPTHS * BUCKETS);
  private readonly probSum = new Float64Array(DEPTHS * BUCKETS);
  constructor(private readonly prior: number) {}

  private cell(depth: number, p: number): number {
    return Math.min(DEPTHS - 1, depth) * BUCKETS + Math.min(BUCKETS - 1, Math.floor(p * BUCKETS));
  }

  /** Estimated probability that the node is accepted given its parent was. */
  estimate(depth: number, p: number): number {
    const c = this.cell(depth, p);
    return (this.accepted[c]! + this.prior * p) / (this.reached[c]! + this.prior);
  }

  record(depth: number, p: number, wasAccepted: boolean): void {
    const c = this.cell(depth, p);
    // decayed so that the rates follow the current text
    this.reached[c] = this.reached[c]! * 0.995 + 1;
    this.accepted[c] = this.accepted[c]! * 0.995 + (wasAccepted ? 1 : 0);
    this.probSum[c] = this.probSum[c]! * 0.995 + p;
  }
}

/** Buckets of hybrid's expected accepted tokens (the sum of its chosen nodes' probabilities): upper bounds. */
const GAIN_BUCKETS = [0.25, 1, 2.5, 6, Infinity];

/**
 * When to run the speculator: its extra accepted tokens per step, learned per bucket of hybrid's expected
 * acceptance, against its measured time. Running pays when (E + g) / (C + t) > E / C, i.e. g·C > E·t, with E the
 * tokens the step yields without it (bonus included), C the step's ms, g the gain and t the speculator's ms.
 */
export class SpeculationGate {
  private readonly gainSum = GAIN_BUCKETS.map(() => 1); // optimistic prior: one token per step, weight 1
  private readonly gainWeight = GAIN_BUCKETS.map(() => 1);
  private msAvg: number | undefined;
  private sinceRun = 0;
  /** Decisions taken (for tests and stats). */
  runs = 0;
  skips = 0;

  constructor(private readonly exploreEvery: number) {}

  bucket(expectedHybrid: number): number {
    return GAIN_BUCKETS.findIndex((b) => expectedHybrid < b);
  }

  gain(bucket: number): number {
    return this.gainSum[bucket]! / this.gainWeight[bucket]!;
  }

  get speculatorMs(): number | undefined {
    return this.msAvg;
  }

  /** `expected`: tokens the step yields without the speculator (bonus included); `stepMs`: its cost. */
  decide(bucket: number, expected: number, stepMs: number): boolean {
    let run = this.msAvg === undefined || this.gain(bucket) * stepMs > expected * this.msAvg;
    if (!run && ++this.sinceRun >= this.exploreEvery) run = true;
    if (run) {
      this.sinceRun = 0;
      this.runs++;
    } else this.skips++;
    return run;
  }

  recordTime(ms: number): void {
    if (!(ms >= 0)) return;
    this.msAvg = this.msAvg === undefined ? ms : this.msAvg + 0.2 * (ms - this.msAvg);
  }

  recordGain(bucket: number, acceptedSpeculatorOnly: number): void {
    // decayed so that the estimate follows the current text
    this.gainSum[bucket] = this.gainSum[bucket]! * 0.97 + acceptedSpeculatorOnly;
    this.gainWeight[bucket] = this.gainWeight[bucket]! * 0.97 + 1;
  }
}

interface SpecRequest {
  /** Tokens in the context so far (prompt plus observed). */
  length: number;
  speculation: Speculation | null;
  /** The context length the speculation continues. */
  speculationAt: number;
  /** hybrid's draft for the current context, computed for graftPaths and reused by the next propose. */
  hybridDraft: Draft | null;
  hybridAt: number;
  /** Speculator nodes of the last draft: (draft index, depth, raw prob), judged by the next observe. */
  judged: { node: number; depth: number; p: number }[];
  lastDraft: Draft | null;
  /** The gate's bucket for the current speculation (-1: none ran), credited with its gain by the next observe. */
  gateBucket: number;
  /** The gate's bucket of the last draft's speculation (-1: the last draft had none). */
  lastGateBucket: number;
}

function depthOf(parents: readonly number[], j: number): number {
  let d = 0;
  for (let k = parents[j]!; k >= 0; k = parents[k]!) d++;
  return d;
}

export class SpeculatorDrafter extends DrafterBase<SpecRequest> implements SpeculationConsumer {
  readonly name: string;
  private readonly params: SpeculatorParams;
  private readonly hybrid: HybridDrafter | undefined;
  readonly calibration: SpeculationCalibration;
  readonly gate: SpeculationGate;

  constructor(params: Partial<SpeculatorParams> = {}) {
    super();
    this.params = { ...SPECULATOR_PARAMS, ...params };
    this.name = this.params.withHybrid ? 'hybrid+speculator' : 'speculator';
    this.hybrid = this.params.withHybrid ? new HybridDrafter(this.params.hybrid) : undefined;
    this.calibration = new SpeculationCalibration(this.params.calibrationPrior);
    this.gate = new SpeculationGate(Math.max(1, this.params.exploreEvery));
  }

  protected open(requestId: string, prompt: readonly number[], references: readonly (readonly number[])[]): SpecRequest {
    this.hybrid?.begin(requestId, prompt, references);
    return { length: prompt.length, speculation: null, speculationAt: -1, hybridDraft: null, hybridAt: -1, judged: [], lastDraft: null, gateBucket: -1, lastGateBucket: -1 };
  }

  protected append(st: SpecRequest, tokens: readonly number[], requestId: string): void {
    // Judge the speculator's nodes of the last draft: accepted = on the path the observed tokens spell.
    if (st.lastDraft && st.judged.length > 0) {
      const d = st.lastDraft;
      const onPath = new Array<boolean>(d.tokens.length).fill(false);
      for (let j = 0; j < d.tokens.length; j++) {
        const p = d.parents[j]!;
        const depth = depthOf(d.parents, j);
        onPath[j] = (p < 0 || onPath[p]!) && depth < tokens.length && tokens[depth] === d.tokens[j];
      }
      for (const { node, depth, p } of st.judged) {
        const parent = d.parents[node]!;
        if (parent >= 0 && !onPath[parent]) continue; // its parent was not reached: no evidence
        this.calibration.record(depth, p, onPath[node]!);
      }
      // the gain: tokens on the accepted path that only the speculator proposed
      if (st.lastGateBucket >= 0) {
        let gain = 0;
        for (let j = 0; j < d.tokens.length; j++) if (onPath[j] && d.sources?.[j] === 'speculator') gain++;
        this.gate.recordGain(st.lastGateBucket, gain);
      }
    }
    st.judged = [];
    st.lastDraft = null;
    st.gateBucket = -1;
    st.lastGateBucket = -1;
    st.length += tokens.length;
    st.speculation = null;
    st.hybridDraft = null;
    this.hybrid?.observe(requestId, tokens);
  }

  wantsSpeculation(requestId: string, maxTokens: number, costs: StepCosts): boolean {
    if (!this.hasRequest(requestId)) return false;
    const st = this.state(requestId);
    // What the step yields without the speculator: hybrid's best nodes, as many as pay for their verification.
    const probs = this.hybrid ? this.hybridFor(st, requestId, maxTokens).probs.slice().sort((a, b) => b - a) : [];
    let bestRate = 1 / costs.stepMs(1);
    let expected = 1;
    let chosenSum = 1;
    let chosenMs = costs.stepMs(1);
    for (let k = 1; k <= Math.min(maxTokens, probs.length); k++) {
      expected += Math.min(1, Math.max(0, probs[k - 1]!));
      const ms = costs.stepMs(1 + k);
      if (expected / ms > bestRate) {
        bestRate = expected / ms;
        chosenSum = expected;
        chosenMs = ms;
      }
    }
    const bucket = this.gate.bucket(chosenSum - 1);
    if (!this.params.gate) {
      st.gateBucket = bucket;
      return true;
    }
    const run = this.gate.decide(bucket, chosenSum, chosenMs);
    st.gateBucket = run ? bucket : -1;
    return run;
  }

  graftPaths(requestId: string, maxTokens: number, depth: number): number[][] {
    if (!this.hybrid || !this.hasRequest(requestId) || this.params.graftPaths <= 0 || depth <= 1) return [];
    const st = this.state(requestId);
    const d = this.hybridFor(st, requestId, maxTokens);
    // the likeliest nodes at depths 1..depth-1, as root paths
    const order = d.tokens.map((_, j) => j).filter((j) => depthOf(d.parents, j) < depth - 1).sort((a, b) => d.probs[b]! - d.probs[a]!);
    const paths: number[][] = [];
    for (const j of order) {
      if (paths.length >= this.params.graftPaths) break;
      const path: number[] = [];
      for (let k = j; k >= 0; k = d.parents[k]!) path.unshift(d.tokens[k]!);
      if (!paths.some((q) => q.length >= path.length && path.every((t, i) => q[i] === t))) paths.push(path);
    }
    return paths;
  }

  setSpeculation(requestId: string, speculation: Speculation, ms?: number): void {
    const st = this.state(requestId);
    const n = speculation.tokens.length;
    if (speculation.parents.length !== n || speculation.probs.length !== n) throw new Error(`${this.name}: speculation arrays differ in length`);
    speculation.parents.forEach((p, j) => {
      if (!Number.isInteger(p) || p < -1 || p >= j) throw new Error(`${this.name}: speculation node ${j} has parent ${p} (not topological)`);
    });
    st.speculation = speculation;
    st.speculationAt = st.length;
    if (ms !== undefined) this.gate.recordTime(ms);
    // a speculation the decoder ran without asking the gate still has its gain measured
    if (st.gateBucket < 0) st.gateBucket = this.gate.bucket(0);
  }

  private hybridFor(st: SpecRequest, requestId: string, maxTokens: number): Draft {
    if (!st.hybridDraft || st.hybridAt !== st.length) {
      st.hybridDraft = this.hybrid!.propose(requestId, maxTokens);
      st.hybridAt = st.length;
    }
    return st.hybridDraft;
  }

  protected draft(st: SpecRequest, maxTokens: number, requestId: string): Draft {
    const base = this.hybrid ? this.hybridFor(st, requestId, maxTokens) : null;
    st.hybridDraft = null; // one use: the next propose at the same context recomputes
    const tokens: number[] = [];
    const parents: number[] = [];
    const probs: number[] = [];
    const sources: string[] = [];
    const fromSpec: boolean[] = [];
    const rawP: number[] = [];
    const index = new Map<string, number>();
    const add = (parent: number, token: number, p: number, source: string, raw: number): number => {
      const key = `${parent}:${token}`;
      const cap = parent < 0 ? 1 : probs[parent]!;
      const existing = index.get(key);
      if (existing !== undefined) {
        // noisy-or of two estimates of the same node, never above its parent
        probs[existing] = Math.min(cap, 1 - (1 - probs[existing]!) * (1 - p));
        if (source === 'speculator' && !fromSpec[existing]) {
          fromSpec[existing] = true;
          rawP[existing] = raw;
        }
        return existing;
      }
      const j = tokens.length;
      tokens.push(token);
      parents.push(parent);
      probs.push(Math.min(cap, p));
      sources.push(source);
      fromSpec.push(source === 'speculator');
      rawP.push(raw);
      index.set(key, j);
      return j;
    };
    if (base) {
      const map: number[] = [];
      base.tokens.forEach((t, j) => {
        const p = base.parents[j]!;
        map[j] = add(p < 0 ? -1 : map[p]!, t, base.probs[j]!, base.sources?.[j] ?? 'hybrid', 0);
      });
    }
    const spec = st.speculation && st.speculationAt === st.length ? st.speculation : null;
    if (spec) {
      const map: number[] = [];
      spec.tokens.forEach((t, j) => {
        const p = spec.parents[j]!;
        const parent = p < 0 ? -1 : map[p]!;
        const parentProb = parent < 0 ? 1 : probs[parent]!;
        const cond = this.calibration.estimate(depthOf(spec.parents, j), spec.probs[j]!);
        map[j] = add(parent, t, parentProb * cond, 'speculator', spec.probs[j]!);
      });
    }
    // Best nodes within the budget; a child never outranks its parent (prob capped, ties by index), so the kept
    // set is a tree. Then renumber in topological order.
    const order = tokens.map((_, j) => j).sort((a, b) => probs[b]! - probs[a]! || a - b);
    const keep = new Set<number>();
    for (const j of order) {
      if (keep.size >= maxTokens) break;
      if (parents[j]! < 0 || keep.has(parents[j]!)) keep.add(j);
    }
    const kept = [...keep].sort((a, b) => a - b);
    const renum = new Map(kept.map((j, i) => [j, i]));
    const draft: Draft = {
      tokens: kept.map((j) => tokens[j]!),
      parents: kept.map((j) => (parents[j]! < 0 ? -1 : renum.get(parents[j]!)!)),
      probs: kept.map((j) => probs[j]!),
      score: kept.reduce((s, j) => s + probs[j]!, 0),
      matchLen: base?.matchLen ?? 0,
      sources: kept.map((j) => sources[j]!),
    };
    st.judged = kept.filter((j) => fromSpec[j]).map((j) => ({ node: renum.get(j)!, depth: depthOf(draft.parents, renum.get(j)!), p: rawP[j]! }));
    st.lastDraft = draft;
    st.lastGateBucket = spec ? st.gateBucket : -1;
    return draft;
  }

  protected override close(_st: SpecRequest, requestId: string, output?: readonly number[]): void {
    this.hybrid?.end(requestId, output);
  }

  override setDocument(docId: string, tokens: readonly number[]): void {
    super.setDocument(docId, tokens);
    this.hybrid?.setDocument(docId, tokens);
  }

  override removeDocument(docId: string): void {
    this.hybrid?.removeDocument(docId);
  }

  override clearHistory(): void {
    this.hybrid?.clearHistory();
  }

  override exportHistory(): Uint8Array {
    return this.hybrid ? this.hybrid.exportHistory() : super.exportHistory();
  }

  override importHistory(data: Uint8Array): void {
    if (this.hybrid) this.hybrid.importHistory(data);
    else super.importHistory(data);
  }

  override estimateBytes(): number {
    return this.hybrid?.estimateBytes() ?? 0;
  }

  private state(requestId: string): SpecRequest {
    return this.request(requestId);
  }
}
