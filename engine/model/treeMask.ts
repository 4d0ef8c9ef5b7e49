// Tree layout after a committed context of length P: position ids and the additive attention bias [S, P+S].

/** Checks parents[j] ∈ [-1, j) and returns each node's depth (0 for children of the context). */
export function treeDepths(parents: readonly number[]): number[] {
  const depth: number[] = [];
  parents.forEach((p, j) => {
    if (!Number.isInteger(p) || p < -1 || p >= j) throw new Error(`tree: parents[${j}] = ${p} must be -1 or an earlier node index`);
    depth.push(p < 0 ? 0 : depth[p]! + 1);
  });
  return depth;
}

export interface TreeLayout {
  positions: number[];
  /** Row-major [S, P+S]: 0 where node j may attend, -Infinity elsewhere. */
  bias: Float32Array;
}

export function treeLayout(parents: readonly number[], past: number): TreeLayout {
  const depth = treeDepths(parents);
  const s = parents.length;
  const total = past + s;
  const bias = new Float32Array(s * total).fill(-Infinity);
  for (let j = 0; j < s; j++) {
    const row = j * total;
    bias.fill(0, row, row + past);
    for (let a = j; a >= 0; a = parents[a]!) bias[row + past + a] = 0;
  }
  return { positions: depth.map((d) => past + d), bias };
}

/** True when nodes form a root path in order: first is a child of the context, each next a child of the previous. */
export function isRootPath(nodes: readonly number[], parents: readonly number[]): boolean {
  return nodes.every((n, i) => Number.isInteger(n) && n >= 0 && n < parents.length && parents[n] === (i === 0 ? -1 : nodes[i - 1]));
}

/**
 * The tree's own columns in the order a sequential decode would hold them, per node: row j lists its ancestors from
 * the root down, then j itself, then j again as padding (masked). `index` [S, S] (int64) maps canonical column t of
 * row j to a tree node, `bias` [S, S] is 0 for t <= depth(j) and -Infinity after, `inverse` maps back. Attention that sums in this order
 * adds the same terms in the same lanes as a one-token-at-a-time decode, whatever the tree's shape.
 */
export function canonicalTree(parents: readonly number[]): { index: BigInt64Array; bias: Float32Array; inverse: BigInt64Array } {
  const depth = treeDepths(parents);
  const s = parents.length;
  const index = new BigInt64Array(s * s);
  const bias = new Float32Array(s * s).fill(-Infinity);
  // inverse [S, S]: the canonical slot of tree column c in row j, or S (a zero column) when j does not see c.
  const inverse = new BigInt64Array(s * s).fill(BigInt(s));
  for (let j = 0; j < s; j++) {
    const row = j * s;
    index.fill(BigInt(j), row, row + s);
    for (let a = j, t = depth[j]!; a >= 0; a = parents[a]!, t--) {
      index[row + t] = BigInt(a);
      bias[row + t] = 0;
      inverse[row + a] = BigInt(t);
    }
  }
  return { index, bias, inverse };
}
