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
