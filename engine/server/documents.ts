// Workspace documents the engine indexes: full text kept per uri, incremental edits by UTF-16 offset,
// a size cap, and lazy re-tokenization (edits mark a document dirty; the index is refreshed before generating).
import type { TextChange } from '../protocol';
import { editedRanges, FileSafety, uriPath } from '../protocol/fileSafety';

export interface StoredDocument {
  uri: string;
  languageId: string | undefined;
  version: number;
  text: string;
  source: 'editor' | 'workspace';
  open: boolean;
  /** Tokens last given to the drafter's index (undefined until indexed). */
  tokenCount: number | undefined;
}

/** Applies changes in order; each offset refers to the text as left by the previous change. */
export function applyChanges(text: string, changes: readonly TextChange[]): string {
  let out = text;
  for (const c of changes) {
    if (!Number.isInteger(c.rangeOffset) || !Number.isInteger(c.rangeLength) || c.rangeOffset < 0 || c.rangeLength < 0 || typeof c.text !== 'string') {
      throw new Error(`bad change ${JSON.stringify(c).slice(0, 120)}`);
    }
    if (c.rangeOffset + c.rangeLength > out.length) {
      throw new Error(`change [${c.rangeOffset}, +${c.rangeLength}) is outside the document (length ${out.length})`);
    }
    out = out.slice(0, c.rangeOffset) + c.text + out.slice(c.rangeOffset + c.rangeLength);
  }
  return out;
}

export class DocumentStore {
  private readonly _docs = new Map<string, StoredDocument>();
  private readonly _dirty = new Set<string>();
  private readonly _removed = new Set<string>();

  /** The shared secret policy: checked again here so no client can make the engine index a secret. */
  private _safety = new FileSafety();

  constructor(readonly maxChars: number) {}

  /** Adds the user's secret patterns; returns the unusable ones. */
  setSecretPatterns(patterns: readonly unknown[]): string[] {
    this._safety = new FileSafety(patterns);
    return this._safety.rejectedPatterns;
  }

  get size(): number {
    return this._docs.size;
  }

  uris(): string[] {
    return [...this._docs.keys()].sort();
  }

  get(uri: string): StoredDocument | undefined {
    return this._docs.get(uri);
  }

  all(): IterableIterator<StoredDocument> {
    return this._docs.values();
  }

  /** Adds or replaces a document; returns an error message when it is rejected (too large). */
  open(uri: string, text: string, version: number, source: 'editor' | 'workspace', languageId?: string): string | undefined {
    if (typeof uri !== 'string' || uri.length === 0) return 'openDocument: uri is missing';
    if (typeof text !== 'string') return `openDocument ${uri}: text is missing`;
    if (text.length > this.maxChars) {
      this.remove(uri);
      return `openDocument ${uri}: ${text.length} characters is over the ${this.maxChars} cap; not indexed`;
    }
    const secret = this._safety.check(uriPath(uri), text);
    if (secret) {
      this.remove(uri);
      return `openDocument ${uri}: refused, a secret by ${secret.by} (${secret.rule}); not indexed`;
    }
    const prev = this._docs.get(uri);
    this._docs.set(uri, { uri, languageId, version, text, source, open: source === 'editor' || (prev?.open ?? false), tokenCount: prev?.tokenCount });
    this._removed.delete(uri);
    this._dirty.add(uri);
    return undefined;
  }

  change(uri: string, version: number, changes: readonly TextChange[]): string | undefined {
    const doc = this._docs.get(uri);
    if (!doc) return `changeDocument ${uri}: not open`;
    if (!Array.isArray(changes)) return `changeDocument ${uri}: changes must be an array`;
    if (version <= doc.version) return `changeDocument ${uri}: version ${version} is not newer than ${doc.version}; ignored`;
    let text: string;
    try {
      text = applyChanges(doc.text, changes);
    } catch (err) {
      return `changeDocument ${uri}: ${(err as Error).message}; ignored (send openDocument to resync)`;
    }
    if (text.length > this.maxChars) {
      this.remove(uri);
      return `changeDocument ${uri}: ${text.length} characters is over the ${this.maxChars} cap; removed from the index`;
    }
    const secret = this._safety.secretInEdits(uriPath(uri), text, editedRanges(changes));
    if (secret) {
      this.remove(uri);
      return `changeDocument ${uri}: refused, a secret by content (${secret}); removed from the index`;
    }
    doc.text = text;
    doc.version = version;
    this._dirty.add(uri);
    return undefined;
  }

  /** The editor closed the document: it stays indexed as a workspace file. */
  close(uri: string): void {
    const doc = this._docs.get(uri);
    if (doc) doc.open = false;
  }

  remove(uri: string): boolean {
    const had = this._docs.delete(uri);
    this._dirty.delete(uri);
    if (had) this._removed.add(uri);
    return had;
  }

  /** Documents to (re)index and uris to drop since the last call. */
  takeChanges(): { dirty: StoredDocument[]; removed: string[] } {
    const dirty = [...this._dirty].map((u) => this._docs.get(u)).filter((d): d is StoredDocument => d !== undefined);
    const removed = [...this._removed];
    this._dirty.clear();
    this._removed.clear();
    return { dirty, removed };
  }

  /** Marks every document dirty (a new tokenizer needs a fresh index). */
  markAllDirty(): void {
    for (const uri of this._docs.keys()) this._dirty.add(uri);
  }
}
