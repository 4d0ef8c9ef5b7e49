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

/**
 * ModelProto bytes of head `index`: inputs state [B, in], token [B], k [1] and probe [B, P]; outputs
 * next_state [B, inner], logits [B, vocab], and for drafting without copying or exponentiating whole vocabulary
 * rows in JS: top_values/top_indices [B, k] (the k best logits), lse [B, 1] (log-sum-exp of the row, so
 * p = exp(logit - lse)) and probe_logits [B, P] (the logits of the tokens in probe: grafted tokens).
 */
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
  g.op('TopK', ['logits', 'k'], { axis: -1, largest: 1, sorted: 1 }, '', ['top_values', 'top_indices']);
  g.op('ReduceLogSumExp', ['logits'], { axes: [-1], keepdims: 1 }, '', ['lse']);
  g.op('GatherElements', ['logits', 'probe'], { axis: 1 }, '', ['probe_logits']);
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'presage-speculator',
    opsetImport: [{ domain: '', version: 17 }],
    graph: {
      name: `speculator_head_${index}`,
      node: g.nodes,
      initializer: g.initializers,
      input: [valueInfo('state', FLOAT, ['rows', h.projIn]), valueInfo('token', INT64, ['rows']), valueInfo('k', INT64, [1]), valueInfo('probe', INT64, ['rows', 'probes'])],
      output: [
        valueInfo('next_state', FLOAT, ['rows', I]), valueInfo('logits', FLOAT, ['rows', c.vocabSize]),
        valueInfo('top_values', FLOAT, ['rows', 'k']), valueInfo('top_indices', INT64, ['rows', 'k']),
        valueInfo('lse', FLOAT, ['rows', 1]), valueInfo('probe_logits', FLOAT, ['rows', 'probes']),
      ],
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

  private feeds(index: number, state: Float32Array, tokens: readonly number[], k: number, probes: readonly (readonly number[])[]) {
    const rows = tokens.length;
    const inDim = this.checkpoint.heads[index]!.projIn;
    if (state.length !== rows * inDim) throw new Error(`speculator head ${index}: state has ${state.length} values, expected ${rows} × ${inDim}`);
    const width = Math.max(1, ...probes.map((p) => p.length));
    const probe = new BigInt64Array(rows * width);
    probes.forEach((p, r) => p.forEach((t, i) => (probe[r * width + i] = BigInt(t))));
    const T = this.ort.Tensor;
    return {
      feeds: {
        state: new T('float32', state, [rows, inDim]),
        token: new T('int64', BigInt64Array.from(tokens, (t) => BigInt(t)), [rows]),
        k: new T('int64', BigInt64Array.of(BigInt(k)), [1]),
        probe: new T('int64', probe, [rows, width]),
      },
      width,
    };
  }

  /** Head `index` on rows: state [rows, in] and token [rows]; the whole logit rows. */
  async step(index: number, state: Float32Array, tokens: readonly number[]): Promise<{ state: Float32Array; logits: Float32Array }> {
    const { feeds } = this.feeds(index, state, tokens, 1, []);
    const out = await this.sessions[index]!.run(feeds, ['next_state', 'logits']);
    return { state: out.next_state!.data as Float32Array, logits: out.logits!.data as Float32Array };
  }

  /**
   * Head `index` on rows, for drafting: the k likeliest tokens per row with their probabilities, and the
   * probabilities of the tokens in `probes[row]`; the vocabulary rows stay inside ONNX Runtime.
   */
  async stepTop(index: number, state: Float32Array, tokens: readonly number[], k: number, probes: readonly (readonly number[])[] = []): Promise<{ state: Float32Array; top: { token: number; p: number }[][]; probeP: number[][] }> {
    const kk = Math.max(1, Math.min(k, this.config.vocabSize));
    const { feeds, width } = this.feeds(index, state, tokens, kk, probes);
    const out = await this.sessions[index]!.run(feeds, ['next_state', 'top_values', 'top_indices', 'lse', 'probe_logits']);
    const values = out.top_values!.data as Float32Array;
    const indices = out.top_indices!.data as BigInt64Array;
    const lse = out.lse!.data as Float32Array;
    const probeLogits = out.probe_logits!.data as Float32Array;
    const top = tokens.map((_, r) => Array.from({ length: kk }, (_, i) => ({ token: Number(indices[r * kk + i]!), p: Math.exp(values[r * kk + i]! - lse[r]!) })));
    const probeP = tokens.map((_, r) => (probes[r] ?? []).map((_, i) => Math.exp(probeLogits[r * width + i]! - lse[r]!)));
    return { state: out.next_state!.data as Float32Array, top, probeP };
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
      // grafted paths whose prefix ends at a row's node continue with their own next token
      const probes = rowNodes.map((parent) => {
        const out: number[] = [];
        for (const path of grafts) {
          if (path.length <= depth) continue;
          if (parent >= 0 && !(graftNode.has(parent) && onPath(tree, parent, path, depth))) continue;
          const t = path[depth]!;
          if (Number.isInteger(t) && t >= 0 && t < V && !out.includes(t)) out.push(t);
        }
        return out;
      });
      const k = Math.max(1, topKs[depth] ?? 1);
      const { state, top, probeP } = await this.stepTop(depth, rowState, rowTokens, k, probes);
      const created: { node: number; row: number }[] = [];
      for (let r = 0; r < rowTokens.length; r++) {
        const parent = rowNodes[r]!;
        const base = parent < 0 ? 1 : pathProb[parent]!;
        const add = (token: number, p: number, graft: boolean): void => {
          for (const { node } of created) if (tree.parents[node] === parent && tree.tokens[node] === token) {
            if (graft) graftNode.add(node);
            return;
          }
          const node = tree.tokens.length;
          tree.tokens.push(token);
          tree.parents.push(parent);
          tree.probs.push(p);
          pathProb.push(base * p);
          if (graft) graftNode.add(node);
          created.push({ node, row: r });
        };
        for (const { token, p } of top[r]!) add(token, p, false);
        probes[r]!.forEach((t, i) => add(t, probeP[r]![i]!, true));
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
