// At most one generation in flight per document: starting a new one aborts the previous one.

export interface InflightTicket {
  readonly signal: AbortSignal;
  readonly id: number;
  /** Marks the request finished (no-op when a newer one replaced it). */
  done(): void;
}

export class InflightRequests {
  private readonly _byKey = new Map<string, { controller: AbortController; id: number }>();
  private _next = 0;

  begin(key: string): InflightTicket {
    this._byKey.get(key)?.controller.abort();
    const controller = new AbortController();
    const id = ++this._next;
    this._byKey.set(key, { controller, id });
    return {
      signal: controller.signal,
      id,
      done: () => {
        if (this._byKey.get(key)?.id === id) this._byKey.delete(key);
      },
    };
  }

  /** Whether `id` is still the newest request for `key`. */
  isCurrent(key: string, id: number): boolean {
    return this._byKey.get(key)?.id === id;
  }

  cancel(key: string): void {
    this._byKey.get(key)?.controller.abort();
    this._byKey.delete(key);
  }

  cancelAll(): void {
    for (const { controller } of this._byKey.values()) controller.abort();
    this._byKey.clear();
  }

  get size(): number {
    return this._byKey.size;
  }
}
