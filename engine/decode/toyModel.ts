// A small deterministic Model for tests: the logits of a node are a hash of the last few tokens of its path
// (committed context plus its ancestors), so tree semantics matter. It checks the Model contract strictly.
import type { ForwardOptions, Model, ModelInfo } from '../model/types';

export interface ToyModelOptions {
  vocabSize?: number;
  /** How many trailing tokens the logits depend on. */
  order?: number;
  seed?: number;
  maxContext?: number;
  /** Logit scale: larger values make the distribution peakier. */
  sharpness?: number;
  /** Optional artificial delay per forward (ms), to test cancellation and time budgets. */
  delayMs?: number;
}

function mix(h: number, v: number): number {
  h = Math.imul(h ^ v, 0x9e3779b1);
  h ^= h >>> 15;
  h = Math.imul(h, 0x85ebca77);
  return (h ^ (h >>> 13)) >>> 0;
}

export class ToyModel implements Model {
  readonly info: ModelInfo;
  forwardCalls = 0;
  forwardSizes: number[] = [];
  /** Logit rows returned per forward (the contract lets callers ask for fewer than the nodes). */
  logitRowCounts: number[] = [];
  private readonly _order: number;
  private readonly _seed: number;
  private readonly _sharpness: number;
  private readonly _delayMs: number;
  private _context: number[] = [];
  private _lastTree: { tokens: number[]; parents: number[] } | undefined;

  constructor(options: ToyModelOptions = {}) {
    const vocabSize = options.vocabSize ?? 32;
    this.info = {
      architecture: 'toy', vocabSize, maxContext: options.maxContext ?? 4096, device: 'cpu', quantization: 'none',
      numLayers: 0, hiddenSize: 0, parameters: 0,
    };
    this._order = options.order ?? 3;
    this._seed = options.seed ?? 1;
    this._sharpness = options.sharpness ?? 4;
    this._delayMs = options.delayMs ?? 0;
  }

  get contextLength(): number {
    return this._context.length;
  }

  get context(): readonly number[] {
    return this._context;
  }

  /** Logits after a full token sequence (the oracle the tree forward must agree with). */
  logitsAfter(sequence: readonly number[]): Float32Array {
    const vocab = this.info.vocabSize;
    let h = mix(this._seed, sequence.length > 0 ? 1 : 0);
    for (let i = Math.max(0, sequence.length - this._order); i < sequence.length; i++) h = mix(h, sequence[i]! + 7);
    const out = new Float32Array(vocab);
    for (let v = 0; v < vocab; v++) out[v] = ((mix(h, v + 1) % 100000) / 100000) * this._sharpness;
    return out;
  }

  async forward(tokens: readonly number[], parents: readonly number[], options: ForwardOptions = {}): Promise<Float32Array> {
    if (tokens.length === 0 || tokens.length !== parents.length) throw new Error('toy forward: tokens and parents must be non-empty and the same length');
    if (this._context.length + tokens.length > this.info.maxContext) throw new Error('toy forward: context overflow');
    const vocab = this.info.vocabSize;
    const rows = options.logitRows ?? tokens.map((_, j) => j);
    if (rows.length === 0 || rows.some((r) => !Number.isInteger(r) || r < 0 || r >= tokens.length)) throw new Error(`toy forward: bad logit rows ${rows}`);
    const out = new Float32Array(rows.length * vocab);
    const paths: number[][] = [];
    for (let j = 0; j < tokens.length; j++) {
      const p = parents[j]!;
      const t = tokens[j]!;
      if (!(p >= -1 && p < j)) throw new Error(`toy forward: node ${j} has parent ${p}`);
      if (!(t >= 0 && t < vocab)) throw new Error(`toy forward: token ${t} outside the vocabulary`);
      paths.push(p === -1 ? [t] : [...paths[p]!, t]);
    }
    rows.forEach((j, i) => out.set(this.logitsAfter([...this._context, ...paths[j]!]), i * vocab));
    this.forwardCalls++;
    this.forwardSizes.push(tokens.length);
    this.logitRowCounts.push(rows.length);
    this._lastTree = { tokens: [...tokens], parents: [...parents] };
    if (this._delayMs > 0) await new Promise((r) => setTimeout(r, this._delayMs));
    return out;
  }

  commit(acceptedNodes: readonly number[]): void {
    const tree = this._lastTree;
    if (!tree) throw new Error('toy commit: no forward to commit');
    let expectedParent = -1;
    for (const n of acceptedNodes) {
      if (tree.parents[n] !== expectedParent) throw new Error(`toy commit: node ${n} does not continue the accepted path`);
      this._context.push(tree.tokens[n]!);
      expectedParent = n;
    }
    this._lastTree = undefined;
  }

  truncate(n: number): void {
    if (!(n >= 0 && n <= this._context.length)) throw new Error(`toy truncate: ${n} outside 0..${this._context.length}`);
    this._context.length = n;
    this._lastTree = undefined;
  }

  async dispose(): Promise<void> {
    this._context = [];
  }
}
