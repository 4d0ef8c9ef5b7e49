// The `none` drafter: always the empty draft (plain autoregressive decoding, MAT exactly 1).
import { EMPTY_DRAFT, type Draft, type Drafter } from './types';

export class NoDrafter implements Drafter {
  readonly name: string = 'none';
  private readonly _requests = new Set<string>();
  begin(requestId: string): void {
    this._requests.add(requestId);
  }
  observe(requestId: string): void {
    if (!this._requests.has(requestId)) throw new Error(`none: unknown request '${requestId}' (call begin first)`);
  }
  propose(requestId: string): Draft {
    if (!this._requests.has(requestId)) throw new Error(`none: unknown request '${requestId}' (call begin first)`);
    return { ...EMPTY_DRAFT, tokens: [], parents: [], probs: [] };
  }
  end(requestId: string): void {
    this._requests.delete(requestId);
  }
  setDocument(): void {}
  removeDocument(): void {}
  clearHistory(): void {}
  exportHistory(): Uint8Array {
    return new Uint8Array(0);
  }
  importHistory(data: Uint8Array): void {
    if (data.length !== 0) throw new Error(`none: keeps no history, expected an empty buffer, got ${data.length} bytes`);
  }
  estimateBytes(): number {
    return 0;
  }
}
