// A Drafter driven by a function of the request's context: for tests (random trees, always-wrong drafts, oracles)
// and for fixed extra draft sources.
import { EMPTY_DRAFT, type Draft, type Drafter } from '../draft/types';

export type ProposeFn = (context: readonly number[], maxTokens: number, references: readonly (readonly number[])[]) => Draft;

export class ScriptedDrafter implements Drafter {
  readonly name: string;
  readonly ended: { requestId: string; output: number[] | undefined }[] = [];
  private readonly _propose: ProposeFn;
  private readonly _requests = new Map<string, { context: number[]; references: readonly (readonly number[])[] }>();

  constructor(name: string, propose: ProposeFn) {
    this.name = name;
    this._propose = propose;
  }

  get activeRequests(): number {
    return this._requests.size;
  }

  begin(requestId: string, prompt: readonly number[], references: readonly (readonly number[])[] = []): void {
    this._requests.set(requestId, { context: [...prompt], references });
  }

  observe(requestId: string, tokens: readonly number[]): void {
    const r = this._requests.get(requestId);
    if (!r) throw new Error(`scripted drafter: unknown request ${requestId}`);
    r.context.push(...tokens);
  }

  propose(requestId: string, maxTokens: number): Draft {
    const r = this._requests.get(requestId);
    if (!r) throw new Error(`scripted drafter: unknown request ${requestId}`);
    if (maxTokens <= 0) return { ...EMPTY_DRAFT, tokens: [], parents: [], probs: [] };
    const d = this._propose(r.context, maxTokens, r.references);
    const n = Math.min(maxTokens, d.tokens.length);
    return { ...d, tokens: d.tokens.slice(0, n), parents: d.parents.slice(0, n), probs: d.probs.slice(0, n) };
  }

  end(requestId: string, output?: readonly number[]): void {
    this._requests.delete(requestId);
    this.ended.push({ requestId, output: output ? [...output] : undefined });
  }

  setDocument(): void {}
  removeDocument(): void {}
  clearHistory(): void {}
  exportHistory(): Uint8Array {
    return new Uint8Array(0);
  }
  importHistory(): void {}
  estimateBytes(): number {
    return 0;
  }
}
