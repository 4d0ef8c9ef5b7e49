// The speculator in ONNX Runtime: one small graph per head (state, token -> next state, logits), and the top-k
// expansion that turns the base model's last hidden state into a tree of candidate n-grams.
import { onnx } from 'onnx-proto';
import type { InferenceSession } from 'onnxruntime-node';
import { FLOAT, INT64, OnnxGraph, ExternalData, transpose, valueInfo } from '../arch/onnxGraph';
import { loadOrt } from '../session';
import { mixingWeights, SPECULATOR_LN_EPS, type SpeculatorCheckpoint } from './checkpoint';

/** Initializers inline in the protobuf: a speculator is a few MB, far from protobuf's 2 GB limit. */
function inline(g: OnnxGraph, name: string, data: Float32Array, dims: number[]): string {
  g.initializers.push({ name, dataType: FLOAT, dims, rawData: new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength)) });
  return name;
}

/** ModelProto bytes of head `index`: inputs state [B, in], token [B]; outputs next_state [B, inner], logits [B, vocab]. */
export function buildSpeculatorHeadGraph(ckpt: SpeculatorCheckpoint, index: number): Uint8Array {
  const c = ckpt.config;
  const h = ckpt.heads[index]!;
  const I = c.innerDim;
  // No external data: inline() never calls it; the object only satisfies the constructor.
  const g = new OnnxGraph(new ExternalData(-1, 'unused'));
  const { stateWeight, embWeight } = mixingWeights(c);
  const two = inline(g, 'two', Float32Array.of(2), []);
  const eps = inline(g, 'eps', Float32Array.of(SPECULATOR_LN_EPS), []);
  const rmsNormalize = (x: string): string => {
    const ms = g.op('ReduceMean', [g.op('Pow', [x, two])], { axes: [-1], keepdims: 1 });
    return g.op('Div', [x, g.op('Sqrt', [g.op('Add', [ms, eps])])]);
  };
  let x = 'state';
  if (index === 0 && c.scaleInput) x = g.op('Mul', [rmsNormalize(x), inline(g, 'inv_sqrt2', Float32Array.of(Math.SQRT1_2), [])]);
  const embScaled = Float32Array.from(h.emb, (v) => v * (embWeight / stateWeight));
  const projected = g.op('MatMul', [x, inline(g, 'proj_t', transpose(h.proj, I, h.projIn), [h.projIn, I])]);
  const z = g.op('Add', [projected, g.op('Gather', [inline(g, 'emb', embScaled, [c.vocabSize, I]), 'token'], { axis: 0 })]);
  const n = g.op('Add', [g.op('Mul', [rmsNormalize(z), inline(g, 'ln_weight', h.lnWeight, [I])]), inline(g, 'ln_bias', h.lnBias, [I])]);
  // exact GELU: 0.5 x (1 + erf(x / sqrt 2)), as torch's default
  const erf = g.op('Erf', [g.op('Mul', [n, inline(g, 'inv_sqrt2_gelu', Float32Array.of(Math.SQRT1_2), [])])]);
  const half = g.op('Mul', [n, inline(g, 'half', Float32Array.of(0.5), [])]);
  g.op('Mul', [half, g.op('Add', [erf, inline(g, 'one', Float32Array.of(1), [])])], {}, '', ['next_state']);
  g.op('Gemm', ['next_state', inline(g, 'head', h.head, [c.vocabSize, I])], { transB: 1 }, '', ['logits']);
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'presage-speculator',
    opsetImport: [{ domain: '', version: 17 }],
    graph: {
      name: `speculator_head_${index}`,
      node: g.nodes,
      initializer: g.initializers,
      input: [valueInfo('state', FLOAT, ['rows', h.projIn]), valueInfo('token', INT64, ['rows'])],
      output: [valueInfo('next_state', FLOAT, ['rows', I]), valueInfo('logits', FLOAT, ['rows', c.vocabSize])],
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

/** A tree of candidate continuations in topological order; probs are conditional on the parent. */
export interface SpeculationTree {
  tokens: number[];
  parents: number[];
  probs: number[];
}

export interface ExpandOptions {
  /** Candidates per head (default: the checkpoint's top_k_tokens_per_head). */
  topK?: readonly number[];
  /** Nodes expanded per depth, best path probability first (each expansion is one row through the next head). */
  expandPerDepth?: number;
  /**
   * Token paths (continuing the context) to condition on as well: their nodes are added to the tree and expanded,
   * so the speculator's n-grams also hang below another drafter's nodes, not only below the root.
   */
  graftPaths?: readonly (readonly number[])[];
}

function softmaxRow(logits: Float32Array, row: number, vocab: number): Float32Array {
  const off = row * vocab;
  let max = -Infinity;
  for (let v = 0; v < vocab; v++) if (logits[off + v]! > max) max = logits[off + v]!;
  const out = new Float32Array(vocab);
  let sum = 0;
  for (let v = 0; v < vocab; v++) sum += out[v] = Math.exp(logits[off + v]! - max);
  for (let v = 0; v < vocab; v++) out[v]! /= sum;
  return out;
}

function topK(p: Float32Array, k: number): number[] {
  const best: number[] = [];
  for (let v = 0; v < p.length; v++) {
    if (best.length === k && p[v]! <= p[best[k - 1]!]!) continue;
    let i = best.length < k ? best.length : k - 1;
    best[i] = v;
    while (i > 0 && p[best[i - 1]!]! < p[v]!) {
      best[i] = best[i - 1]!;
      best[i - 1] = v;
      i--;
    }
  }
  return best;
}

export class SpeculatorRuntime {
  private constructor(
    readonly checkpoint: SpeculatorCheckpoint,
    private readonly sessions: InferenceSession[],
    private readonly ort: typeof import('onnxruntime-node'),
  ) {}

  static async create(ckpt: SpeculatorCheckpoint, options: { threads?: number } = {}): Promise<SpeculatorRuntime> {
    const ort = await loadOrt();
    const sessions: InferenceSession[] = [];
    for (let i = 0; i < ckpt.config.nPredict; i++) {
      sessions.push(await ort.InferenceSession.create(buildSpeculatorHeadGraph(ckpt, i), {
        graphOptimizationLevel: 'all',
        intraOpNumThreads: options.threads ?? 1,
        extra: { session: { intra_op: { allow_spinning: '0' } } },
      }));
    }
    return new SpeculatorRuntime(ckpt, sessions, ort);
  }

  get config() {
    return this.checkpoint.config;
  }

  /** Head `index` on rows: state [rows, in] and token [rows]. */
  async step(index: number, state: Float32Array, tokens: readonly number[]): Promise<{ state: Float32Array; logits: Float32Array }> {
    const rows = tokens.length;
    const inDim = this.checkpoint.heads[index]!.projIn;
    if (state.length !== rows * inDim) throw new Error(`speculator head ${index}: state has ${state.length} values, expected ${rows} × ${inDim}`);
    const T = this.ort.Tensor;
    const out = await this.sessions[index]!.run({
      state: new T('float32', state, [rows, inDim]),
      token: new T('int64', BigInt64Array.from(tokens, (t) => BigInt(t)), [rows]),
    });
    return { state: out.next_state!.data as Float32Array, logits: out.logits!.data as Float32Array };
  }

  /**
   * Candidate n-grams after `lastToken`, from the base model's hidden state at the position that produced it:
   * top-k per head, shared prefixes merged (each node appears once under its parent).
   */
  async expand(hidden: Float32Array, lastToken: number, options: ExpandOptions = {}): Promise<SpeculationTree> {
    const c = this.config;
    const V = c.vocabSize;
    const I = c.innerDim;
    const topKs = options.topK ?? c.topKPerHead;
    const expandPerDepth = Math.max(1, options.expandPerDepth ?? 4);
    const grafts = options.graftPaths ?? [];
    const tree: SpeculationTree = { tokens: [], parents: [], probs: [] };
    const pathProb: number[] = [];
    const graftNode = new Set<number>();
    // rows of the current head: (input state, input token, tree node whose children they produce)
    let rowState = Float32Array.from(hidden);
    let rowTokens = [lastToken];
    let rowNodes = [-1];
    for (let depth = 0; depth < c.nPredict && rowTokens.length > 0; depth++) {
      const { state, logits } = await this.step(depth, rowState, rowTokens);
      const created: { node: number; row: number }[] = [];
      const k = Math.max(1, topKs[depth] ?? 1);
      for (let r = 0; r < rowTokens.length; r++) {
        const p = softmaxRow(logits, r, V);
        const parent = rowNodes[r]!;
        const base = parent < 0 ? 1 : pathProb[parent]!;
        const add = (token: number, graft: boolean): void => {
          for (const { node } of created) if (tree.parents[node] === parent && tree.tokens[node] === token) {
            if (graft) graftNode.add(node);
            return;
          }
          const node = tree.tokens.length;
          tree.tokens.push(token);
          tree.parents.push(parent);
          tree.probs.push(p[token]!);
          pathProb.push(base * p[token]!);
          if (graft) graftNode.add(node);
          created.push({ node, row: r });
        };
        for (const t of topK(p, k)) add(t, false);
        // grafted paths whose prefix ends at this row's node continue with their own next token
        for (const path of grafts) {
          if (path.length <= depth) continue;
          if (parent >= 0 && !(graftNode.has(parent) && onPath(tree, parent, path, depth))) continue;
          const t = path[depth]!;
          if (Number.isInteger(t) && t >= 0 && t < V) add(t, true);
        }
      }
      if (depth + 1 >= c.nPredict) break;
      // expand the best nodes, plus every grafted node
      const ranked = created.slice().sort((a, b) => pathProb[b.node]! - pathProb[a.node]!);
      const chosen = ranked.filter((x, i) => i < expandPerDepth || graftNode.has(x.node));
      const next = new Float32Array(chosen.length * I);
      chosen.forEach((x, i) => next.set(state.subarray(x.row * I, (x.row + 1) * I), i * I));
      rowState = next;
      rowTokens = chosen.map((x) => tree.tokens[x.node]!);
      rowNodes = chosen.map((x) => x.node);
    }
    return tree;
  }

  async dispose(): Promise<void> {
    for (const s of this.sessions) await s.release();
  }
}

/** Whether the root path to `node` (at depth `depth - 1`) spells path[0..depth). */
function onPath(tree: SpeculationTree, node: number, path: readonly number[], depth: number): boolean {
  let d = depth - 1;
  let n = node;
  while (n >= 0 && d >= 0) {
    if (tree.tokens[n] !== path[d]) return false;
    n = tree.parents[n]!;
    d--;
  }
  return n < 0 && d < 0;
}
