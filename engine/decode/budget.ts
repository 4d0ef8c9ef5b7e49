// Tree sizing: keep the prefix of the draft (best nodes first, always a valid tree) that maximizes the expected
// number of tokens per millisecond, using a forward-cost curve measured online (or given as a table).
import type { Draft } from '../draft/types';

/** One point of a forward-cost curve: verifying `tokens` new tokens costs `ms`. */
export interface CostPoint {
  tokens: number;
  ms: number;
}

/**
 * Forward cost as a function of the number of verified tokens.
 * Starts from a prior shape (16 tokens ≈ 1.7× one token on CPU) and learns its base and slope from measurements.
 */
export class ForwardCostModel {
  private _base: number;
  private _slope: number;
  private _seenBase = false;
  private readonly _table: CostPoint[] | undefined;

  constructor(options: { table?: CostPoint[]; baseMs?: number; slopeRatio?: number } = {}) {
    this._base = options.baseMs ?? 10;
    this._slope = this._base * (options.slopeRatio ?? 0.047);
    const table = options.table?.filter((p) => p.tokens >= 1 && Number.isFinite(p.ms) && p.ms > 0).sort((a, b) => a.tokens - b.tokens);
    this._table = table && table.length > 0 ? table : undefined;
  }

  /** Estimated milliseconds to verify `tokens` tokens. */
  estimate(tokens: number): number {
    const table = this._table;
    if (table && !this._seenBase) {
      if (tokens <= table[0]!.tokens) return table[0]!.ms;
      for (let i = 1; i < table.length; i++) {
        const a = table[i - 1]!;
        const b = table[i]!;
        if (tokens <= b.tokens) return a.ms + ((b.ms - a.ms) * (tokens - a.tokens)) / (b.tokens - a.tokens);
      }
      const last = table[table.length - 1]!;
      const prev = table[table.length - 2] ?? { tokens: 0, ms: 0 };
      return last.ms + ((last.ms - prev.ms) / Math.max(1, last.tokens - prev.tokens)) * (tokens - last.tokens);
    }
    return this._base + this._slope * Math.max(0, tokens - 1);
  }

  /** Feeds one measured forward pass. */
  record(tokens: number, ms: number): void {
    if (!(ms > 0) || tokens < 1) return;
    const rate = 0.2;
    if (tokens === 1) {
      this._base = this._seenBase ? this._base + rate * (ms - this._base) : ms;
      this._seenBase = true;
      return;
    }
    if (!this._seenBase) {
      // Only big trees measured so far: keep the prior shape and rescale it.
      const ratio = this._slope / this._base;
      this._base = ms / (1 + ratio * (tokens - 1));
      this._slope = this._base * ratio;
      return;
    }
    const slope = Math.max(0, (ms - this._base) / (tokens - 1));
    this._slope += rate * (slope - this._slope);
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
 */
export function chooseTreeSize(probs: readonly number[], cost: ForwardCostModel, overheadMs: number, maxNodes: number): number {
  let bestK = 0;
  let bestRate = 1 / (overheadMs + cost.estimate(1));
  let expected = 1;
  const limit = Math.min(maxNodes, probs.length);
  for (let k = 1; k <= limit; k++) {
    const p = probs[k - 1]!;
    expected += Number.isFinite(p) ? Math.min(1, Math.max(0, p)) : 0;
    const rate = expected / (overheadMs + cost.estimate(1 + k));
    if (rate > bestRate) {
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
