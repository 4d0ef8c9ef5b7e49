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
// (how much further the speculator's tree spells the text that followed than hybrid's draft does) is learned
// online per bucket of hybrid's own expected acceptance (a confident copy run leaves little to add); its nodes
// join the tree only while gain / (tokens the step yields anyway) beats its measured time / the step's time.
// Otherwise it runs in shadow (judged, never given tree slots) every `exploreEvery`-th step, so that the gain
// and the calibration can recover. Speculations are judged once the text that followed covers their depth.
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
  graftPaths: 2,
  /** Prior weight (in observations) of the raw softmax probability in each calibration bucket. */
  calibrationPrior: 4,
  /** Skip the speculator on steps where its learned gain does not pay for its time (false: run it every step). */
  gate: true,
  /** While gated off, still run it (in shadow, no tree slots) every this many steps, so its estimates recover. */
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

/** What the gate decided for one step: its nodes in the tree, run only to be judged, or not run. */
export type GateDecision = 'use' | 'shadow' | 'skip';

/**
 * When to run the speculator: its extra tokens per step, learned per bucket of hybrid's expected acceptance,
 * against its measured time. Running pays when (E + g) / (C + t) > E / C, i.e. g·C > E·t, with E the tokens the
 * step yields without it (bonus included), C the step's ms, g the gain and t the speculator's ms.
 */
export class SpeculationGate {
  /** Decayed gain sums and weights per bucket; prior: half a token per step at weight one. */
  private readonly gainSum = GAIN_BUCKETS.map(() => 0.5);
  private readonly gainWeight = GAIN_BUCKETS.map(() => 1);
  private readonly verdicts = GAIN_BUCKETS.map(() => 0);
  private msAvg: number | undefined;
  private sinceRun = 0;
  /** Decisions taken (for tests and stats). */
  readonly counts: Record<GateDecision, number> = { use: 0, shadow: 0, skip: 0 };

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
  decide(bucket: number, expected: number, stepMs: number): GateDecision {
    let d: GateDecision;
    // its time, or its gain in this bucket, is unknown until it ran and was judged: run in shadow until then
    if (this.msAvg === undefined || this.verdicts[bucket] === 0) d = 'shadow';
    else if (this.gain(bucket) * stepMs > expected * this.msAvg) d = 'use';
    else d = ++this.sinceRun >= this.exploreEvery ? 'shadow' : 'skip';
    if (d !== 'skip') this.sinceRun = 0;
    this.counts[d]++;
    return d;
  }

  recordTime(ms: number): void {
    if (!(ms >= 0)) return;
    this.msAvg = this.msAvg === undefined ? ms : this.msAvg + 0.2 * (ms - this.msAvg);
  }

  recordGain(bucket: number, extraTokens: number): void {
    // decayed so that the estimate follows the current text
    this.gainSum[bucket] = this.gainSum[bucket]! * 0.97 + extraTokens;
    this.gainWeight[bucket] = this.gainWeight[bucket]! * 0.97 + 1;
    this.verdicts[bucket]!++;
  }
}

/** A speculation waiting for enough of the text that followed it to be judged. */
interface PendingJudgement {
  speculation: Speculation;
  /** hybrid's draft at the same context (null for `speculator` alone). */
  hybrid: Draft | null;
  bucket: number;
  /** Tokens observed since, and how many are needed (the speculation's depth + 1). */
  followed: number[];
  need: number;
}

/** How many leading tokens of `text` some root path of the tree spells (the accepted length if all were verified). */
function matchLength(tree: { tokens: readonly number[]; parents: readonly number[] }, text: readonly number[]): { length: number; onPath: boolean[] } {
  const onPath = new Array<boolean>(tree.tokens.length).fill(false);
  const depth = new Array<number>(tree.tokens.length).fill(0);
  let length = 0;
  for (let j = 0; j < tree.tokens.length; j++) {
    const p = tree.parents[j]!;
    depth[j] = p < 0 ? 0 : depth[p]! + 1;
    onPath[j] = (p < 0 || onPath[p]!) && depth[j]! < text.length && text[depth[j]!] === tree.tokens[j];
    if (onPath[j]) length = Math.max(length, depth[j]! + 1);
  }
  return { length, onPath };
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
  /** The gate's bucket for the current speculation, and whether it is in shadow (judged, kept out of the tree). */
  gateBucket: number;
  shadow: boolean;
  /** Speculations drafted from, judged once enough text followed them. */
  pending: PendingJudgement[];
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
    return { length: prompt.length, speculation: null, speculationAt: -1, hybridDraft: null, hybridAt: -1, gateBucket: 0, shadow: false, pending: [] };
  }

  protected append(st: SpecRequest, tokens: readonly number[], requestId: string): void {
    // Judge the speculations whose depth the text that followed now covers: calibration per node whose parent
    // the text reached, and the gain: how much further the speculation spells the text than hybrid's draft.
    const waiting: PendingJudgement[] = [];
    for (const j of st.pending) {
      j.followed.push(...tokens);
      if (j.followed.length < j.need) {
        waiting.push(j);
        continue;
      }
      const spec = j.speculation;
      const { length, onPath } = matchLength(spec, j.followed);
      for (let n = 0; n < spec.tokens.length; n++) {
        const parent = spec.parents[n]!;
        if (parent >= 0 && !onPath[parent]) continue; // its parent was not reached: no evidence
        this.calibration.record(depthOf(spec.parents, n), spec.probs[n]!, onPath[n]!);
      }
      const hybridLength = j.hybrid ? matchLength(j.hybrid, j.followed).length : 0;
      this.gate.recordGain(j.bucket, Math.max(0, length - hybridLength));
    }
    st.pending = waiting;
    st.length += tokens.length;
    st.speculation = null;
    st.hybridDraft = null;
    st.shadow = false;
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
    st.gateBucket = this.gate.bucket(chosenSum - 1);
    const decision = this.params.gate ? this.gate.decide(st.gateBucket, chosenSum, chosenMs) : 'use';
    st.shadow = decision === 'shadow';
    return decision !== 'skip';
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
    const index = new Map<string, number>();
    const add = (parent: number, token: number, p: number, source: string): number => {
      const key = `${parent}:${token}`;
      const cap = parent < 0 ? 1 : probs[parent]!;
      const existing = index.get(key);
      if (existing !== undefined) {
        // noisy-or of two estimates of the same node, never above its parent
        probs[existing] = Math.min(cap, 1 - (1 - probs[existing]!) * (1 - p));
        return existing;
      }
      const j = tokens.length;
      tokens.push(token);
      parents.push(parent);
      probs.push(Math.min(cap, p));
      sources.push(source);
      index.set(key, j);
      return j;
    };
    if (base) {
      const map: number[] = [];
      base.tokens.forEach((t, j) => {
        const p = base.parents[j]!;
        map[j] = add(p < 0 ? -1 : map[p]!, t, base.probs[j]!, base.sources?.[j] ?? 'hybrid');
      });
    }
    const current = st.speculation && st.speculationAt === st.length ? st.speculation : null;
    if (current) {
      const need = current.tokens.reduce((m, _, j) => Math.max(m, depthOf(current.parents, j) + 2), 0);
      // judged once, whatever the number of proposes at this context
      if (!st.pending.some((j) => j.speculation === current)) st.pending.push({ speculation: current, hybrid: base, bucket: st.gateBucket, followed: [], need });
    }
    const spec = current && !st.shadow ? current : null;
    if (spec) {
      const map: number[] = [];
      spec.tokens.forEach((t, j) => {
        const p = spec.parents[j]!;
        const parent = p < 0 ? -1 : map[p]!;
        const parentProb = parent < 0 ? 1 : probs[parent]!;
        const cond = this.calibration.estimate(depthOf(spec.parents, j), spec.probs[j]!);
        map[j] = add(parent, t, parentProb * cond, 'speculator');
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
