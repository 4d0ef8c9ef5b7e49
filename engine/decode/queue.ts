// Serializes requests to one model. A request may name a group (e.g. 'complete') and cancel the stale requests of
// that group, running or waiting, when it arrives (typing makes earlier inline completions useless).

export interface QueuedTask<T> {
  /** Runs with a signal that fires when the caller cancels or a newer request supersedes this one. */
  run(signal: AbortSignal): Promise<T>;
  group?: string;
  cancelStale?: boolean;
  signal?: AbortSignal;
}

interface Entry {
  group: string | undefined;
  controller: AbortController;
}

export class RequestQueue {
  private _tail: Promise<unknown> = Promise.resolve();
  private readonly _live = new Set<Entry>();
  private _pending = 0;

  /** Requests waiting or running. */
  get size(): number {
    return this._pending;
  }

  enqueue<T>(task: QueuedTask<T>): Promise<T> {
    if (task.cancelStale && task.group !== undefined) {
      for (const e of this._live) if (e.group === task.group) e.controller.abort();
    }
    const controller = new AbortController();
    const entry: Entry = { group: task.group, controller };
    const onAbort = (): void => controller.abort();
    if (task.signal) {
      if (task.signal.aborted) controller.abort();
      else task.signal.addEventListener('abort', onAbort, { once: true });
    }
    this._live.add(entry);
    this._pending++;
    const result = this._tail.then(() => task.run(controller.signal));
    const done = (): void => {
      this._live.delete(entry);
      this._pending--;
      task.signal?.removeEventListener('abort', onAbort);
    };
    this._tail = result.then(done, done);
    return result;
  }

  /** Resolves once everything queued so far has finished. */
  drain(): Promise<void> {
    return this._tail.then(
      () => undefined,
      () => undefined,
    );
  }

  /** Cancels everything waiting or running. */
  cancelAll(): void {
    for (const e of this._live) e.controller.abort();
  }
}
