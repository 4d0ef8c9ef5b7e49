// Completion cache with type-ahead reuse: when the user types the first characters of the shown suggestion,
// the rest of it is served from the cache instead of a new request.

export interface CachedCompletion {
  uri: string;
  /** Document text before the cursor when the completion was made. */
  prefix: string;
  /** Document text after the cursor when the completion was made. */
  suffix: string;
  text: string;
}

export interface CacheHit {
  /** What remains of the cached completion after what was typed since. */
  text: string;
  entry: CachedCompletion;
  typed: string;
}

export class CompletionCache {
  private readonly _entries: CachedCompletion[] = [];

  constructor(private readonly _capacity = 32) {}

  get size(): number {
    return this._entries.length;
  }

  add(entry: CachedCompletion): void {
    if (entry.text.length === 0) return;
    const same = this._entries.findIndex((e) => e.uri === entry.uri && e.prefix === entry.prefix && e.suffix === entry.suffix);
    if (same >= 0) this._entries.splice(same, 1);
    this._entries.push(entry);
    while (this._entries.length > this._capacity) this._entries.shift();
  }

  /**
   * The completion to show for a cursor with `prefix` and `suffix`: an earlier completion whose prefix this one
   * extends by exactly the first characters of its text, with the same suffix. Newest first; never empty.
   */
  lookup(uri: string, prefix: string, suffix: string): CacheHit | undefined {
    for (let i = this._entries.length - 1; i >= 0; i--) {
      const e = this._entries[i]!;
      if (e.uri !== uri || e.suffix !== suffix || prefix.length < e.prefix.length) continue;
      if (!prefix.startsWith(e.prefix)) continue;
      const typed = prefix.slice(e.prefix.length);
      if (typed.length >= e.text.length || !e.text.startsWith(typed)) continue;
      return { text: e.text.slice(typed.length), entry: e, typed };
    }
    return undefined;
  }

  /** Forgets a document's entries (closed or changed elsewhere). */
  dropDocument(uri: string): void {
    for (let i = this._entries.length - 1; i >= 0; i--) if (this._entries[i]!.uri === uri) this._entries.splice(i, 1);
  }

  clear(): void {
    this._entries.length = 0;
  }
}
