// Tree sizing: keep the prefix of the draft (best nodes first, always a valid tree) that maximizes the expected
// number of tokens per millisecond, using a prior forward-cost curve corrected by online measurements.
import type { Draft } from '../draft/types';

/** Prior shape of the forward cost: ms for s tree tokens after `context` committed tokens. */
export type CostCurve = (s: number, context: number) => number;

/** 16 tokens cost about 1.7x one token on a CPU with 128 MB of weights (measured); used when no measured curve is given. */
export const FLAT_PRIOR: CostCurve = (s) => 10 * (1 + 0.047 * Math.max(0, s - 1));

/** Size buckets whose measured cost corrects the prior's shape. */
const BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, Infinity];
const bucketOf = (s: number): number => BUCKETS.findIndex((b) => s <= b);

/**
 * Forward cost learned online on top of a prior curve (a measured table fitted by the model runtime, or a flat
 * default): a global scale, then a per-size-bucket correction once that bucket has been measured.
 */
export class ForwardCostModel {
  private readonly _curve: CostCurve;
  private _scale = 1;
  private _seen = 0;
  private readonly _correction = BUCKETS.map(() => ({ ratio: 1, n: 0 }));

  constructor(curve: CostCurve = FLAT_PRIOR) {
    this._curve = curve;
  }

  /** Estimated milliseconds to verify `tokens` tokens after `context` committed tokens. */
  estimate(tokens: number, context = 0): number {
    const c = this._correction[bucketOf(tokens)]!;
    return Math.max(1e-3, this._scale * this._curve(tokens, context) * (c.n >= 2 ? c.ratio : 1));
  }

  /** Feeds one measured forward pass. */
  record(tokens: number, ms: number, context = 0): void {
    if (!(ms > 0) || tokens < 1) return;
    const prior = Math.max(1e-6, this._curve(tokens, context));
    const ratio = ms / prior;
    this._seen++;
    this._scale += (ratio - this._scale) * (this._seen <= 3 ? 1 / this._seen : 0.1);
    const c = this._correction[bucketOf(tokens)]!;
    const local = ms / (this._scale * prior);
    c.n++;
    c.ratio += (local - c.ratio) * (c.n <= 3 ? 1 / c.n : 0.2);
  }
}

/**
 * Orders the valid nodes of a draft best-first (highest probability among nodes whose parent is already taken),
 * so that every prefix of the result is a valid tree. Malformed nodes (bad parent, bad token) and their subtrees
 * are dropped.
 */
export function orderDraft(draft: Draft, vocab: number): number[] {
  const n = draft.tokens.length;
  const valid = new Uint8Array(n);
  const children: number[][] = Array.from({ length: n }, () => []);
  const roots: number[] = [];
  for (let j = 0; j < n; j++) {
    const p = draft.parents[j];
    const t = draft.tokens[j];
    if (p === undefined || t === undefined || !Number.isInteger(t) || t < 0 || t >= vocab) continue;
    if (p === -1) {
      valid[j] = 1;
      roots.push(j);
    } else if (p >= 0 && p < j && valid[p]) {
      valid[j] = 1;
      children[p]!.push(j);
    }
  }
  const prob = (j: number): number => {
    const v = draft.probs[j];
    return v !== undefined && Number.isFinite(v) ? Math.min(1, Math.max(0, v)) : 0;
  };
  const order: number[] = [];
  const frontier = [...roots];
  while (frontier.length > 0) {
    let best = 0;
    for (let i = 1; i < frontier.length; i++) {
      const a = frontier[i]!;
      const b = frontier[best]!;
      if (prob(a) > prob(b) || (prob(a) === prob(b) && a < b)) best = i;
    }
    const j = frontier.splice(best, 1)[0]!;
    order.push(j);
    frontier.push(...children[j]!);
  }
  return order;
}

/**
 * How many nodes of `order` to verify: maximizes (1 + sum of probs) / (overheadMs + cost(1 + k)), k ≤ maxNodes.
 * The 1 is the bonus token every step yields; the +1 in cost is the pending token verified with the tree.
 * The cost is made non-decreasing in k (noisy measurements must not make bigger trees look cheaper), and a node
 * must raise the expected rate by at least MIN_GAIN to be worth verifying.
 */
export function chooseTreeSize(probs: readonly number[], cost: ForwardCostModel, overheadMs: number, maxNodes: number, context = 0): number {
  const MIN_GAIN = 1.01;
  let bestK = 0;
  let ms = cost.estimate(1, context);
  let bestRate = 1 / (overheadMs + ms);
  let expected = 1;
  const limit = Math.min(maxNodes, probs.length);
  for (let k = 1; k <= limit; k++) {
    const p = probs[k - 1]!;
    expected += Number.isFinite(p) ? Math.min(1, Math.max(0, p)) : 0;
    ms = Math.max(ms, cost.estimate(1 + k, context));
    const rate = expected / (overheadMs + ms);
    if (rate > bestRate * MIN_GAIN) {
      bestRate = rate;
      bestK = k;
    }
  }
  return bestK;
}

/** The verified layout: node 0 is the pending token, then the chosen draft nodes with remapped parents. */
export interface TreeLayout {
  tokens: number[];
  parents: number[];
  /** For node i ≥ 1, the index of the draft node it came from. */
  draftIndex: number[];
}

export function layoutTree(pending: number, draft: Draft, chosen: readonly number[]): TreeLayout {
  const tokens = [pending];
  const parents = [-1];
  const draftIndex = [-1];
  const position = new Map<number, number>();
  // Keep topological order: a chosen prefix of orderDraft is closed under parents, so sorting by index suffices.
  const sorted = [...chosen].sort((a, b) => a - b);
  for (const j of sorted) {
    const p = draft.parents[j]!;
    const parentPos = p === -1 ? 0 : position.get(p);
    if (parentPos === undefined) throw new Error(`layoutTree: node ${j} chosen without its parent ${p}`);
    position.set(j, tokens.length);
    tokens.push(draft.tokens[j]!);
    parents.push(parentPos);
    draftIndex.push(j);
  }
  return { tokens, parents, draftIndex };
}
