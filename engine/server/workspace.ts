// The documents the engine holds for retrieval and drafting: the store (secret policy, size cap, incremental edits)
// and the files edited lately. It stays in this process whichever back end generates: only prompts travel.
import type { ChangeDocumentParams, DocumentParams, OpenDocumentParams } from '../protocol';
import { RecentEdits } from '../prompt/related';
import { DocumentStore } from './documents';

export class Workspace {
  readonly docs: DocumentStore;
  /** Uris edited lately, for the related files of repository-level completion prompts. */
  readonly recentEdits = new RecentEdits();

  constructor(maxDocumentChars: number, private readonly _warn: (message: string) => void, private readonly _onChange: () => void) {
    this.docs = new DocumentStore(maxDocumentChars);
  }

  open(p: OpenDocumentParams): void {
    const problem = this.docs.open(p?.uri, p?.text, p?.version ?? 0, p?.source === 'workspace' ? 'workspace' : 'editor', p?.languageId);
    if (problem) this._warn(problem);
    this._onChange();
  }

  change(p: ChangeDocumentParams): void {
    const problem = this.docs.change(p?.uri, p?.version ?? 0, p?.changes);
    if (problem) this._warn(problem);
    else this.recentEdits.touch(p.uri);
    this._onChange();
  }

  close(p: DocumentParams): void {
    this.docs.close(p?.uri);
  }

  remove(p: DocumentParams): void {
    this.docs.remove(p?.uri);
    this._onChange();
  }
}
