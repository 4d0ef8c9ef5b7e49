// Line diff (Myers' O(ND) shortest edit script) between two texts. Pure: no vscode import.

export type DiffOp =
  | { kind: 'equal'; oldIndex: number; newIndex: number; line: string }
  | { kind: 'delete'; oldIndex: number; line: string }
  | { kind: 'insert'; newIndex: number; line: string };

/** Splits text into lines on \n, \r\n or \r; '' is one empty line. */
export function splitLines(text: string): string[] {
  return text.split(/\r\n|\r|\n/);
}

/**
 * Shortest edit script turning `a` into `b`: equal lines form a longest common subsequence.
 * Deletions come before insertions within a changed hunk.
 */
export function diffLines(a: readonly string[], b: readonly string[]): DiffOp[] {
  // Common prefix and suffix are free; the search runs on the middle only.
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const ops: DiffOp[] = [];
  for (let i = 0; i < start; i++) ops.push({ kind: 'equal', oldIndex: i, newIndex: i, line: a[i]! });
  ops.push(...myersMiddle(a, b, start, endA, start, endB));
  for (let i = endA, j = endB; i < a.length; i++, j++) ops.push({ kind: 'equal', oldIndex: i, newIndex: j, line: a[i]! });
  return ops;
}

const MAX_SEARCH_LINES = 4000;

function myersMiddle(a: readonly string[], b: readonly string[], a0: number, a1: number, b0: number, b1: number): DiffOp[] {
  const n = a1 - a0;
  const m = b1 - b0;
  if (n === 0 && m === 0) return [];
  // The trace costs O(D·(n+m)) memory: past this size, report the middle as one replaced block.
  if (n + m > MAX_SEARCH_LINES) {
    const ops: DiffOp[] = [];
    for (let i = a0; i < a1; i++) ops.push({ kind: 'delete', oldIndex: i, line: a[i]! });
    for (let j = b0; j < b1; j++) ops.push({ kind: 'insert', newIndex: j, line: b[j]! });
    return ops;
  }
  const max = n + m;
  const offset = max + 1;
  const v = new Int32Array(2 * max + 3);
  const trace: Int32Array[] = [];
  let found = -1;
  for (let d = 0; d <= max && found < 0; d++) {
    trace.push(v.slice());
    for (let k = -d; k <= d; k += 2) {
      let x = k === -d || (k !== d && v[offset + k - 1]! < v[offset + k + 1]!) ? v[offset + k + 1]! : v[offset + k - 1]! + 1;
      let y = x - k;
      while (x < n && y < m && a[a0 + x] === b[b0 + y]) {
        x++;
        y++;
      }
      v[offset + k] = x;
      if (x >= n && y >= m) {
        found = d;
        break;
      }
    }
  }
  // Walk the trace backwards from (n, m) to (0, 0).
  const reversed: DiffOp[] = [];
  let x = n;
  let y = m;
  for (let d = found; d > 0; d--) {
    const prev = trace[d]!;
    const k = x - y;
    const down = k === -d || (k !== d && prev[offset + k - 1]! < prev[offset + k + 1]!);
    const prevK = down ? k + 1 : k - 1;
    const prevX = prev[offset + prevK]!;
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) {
      x--;
      y--;
      reversed.push({ kind: 'equal', oldIndex: a0 + x, newIndex: b0 + y, line: a[a0 + x]! });
    }
    if (down) reversed.push({ kind: 'insert', newIndex: b0 + y - 1, line: b[b0 + y - 1]! });
    else reversed.push({ kind: 'delete', oldIndex: a0 + x - 1, line: a[a0 + x - 1]! });
    x = prevX;
    y = prevY;
  }
  while (x > 0 && y > 0) {
    x--;
    y--;
    reversed.push({ kind: 'equal', oldIndex: a0 + x, newIndex: b0 + y, line: a[a0 + x]! });
  }
  return normalizeHunks(reversed.reverse());
}

/** Within each run of changes, puts the deletions before the insertions (stable order otherwise). */
function normalizeHunks(ops: DiffOp[]): DiffOp[] {
  const out: DiffOp[] = [];
  let dels: DiffOp[] = [];
  let ins: DiffOp[] = [];
  const flush = (): void => {
    out.push(...dels, ...ins);
    dels = [];
    ins = [];
  };
  for (const op of ops) {
    if (op.kind === 'delete') dels.push(op);
    else if (op.kind === 'insert') ins.push(op);
    else {
      flush();
      out.push(op);
    }
  }
  flush();
  return out;
}
