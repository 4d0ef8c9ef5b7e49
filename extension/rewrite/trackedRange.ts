// Keeps an offset range of a document valid while other edits happen around it. Pure: no vscode import.

export interface OffsetChange {
  /** Offset and length of the replaced text in the document before the change. */
  rangeOffset: number;
  rangeLength: number;
  text: string;
}

export type TrackResult = 'unchanged' | 'shifted' | 'overlap';

export class TrackedRange {
  constructor(
    public start: number,
    public length: number,
  ) {}

  get end(): number {
    return this.start + this.length;
  }

  /**
   * Applies one batch of changes (all offsets refer to the document before the batch). Changes entirely
   * before the range shift it; changes after it do nothing; a change touching its inside is an overlap
   * (the range is then left as it was). An insertion exactly at either edge counts as outside.
   */
  apply(changes: readonly OffsetChange[]): TrackResult {
    let shift = 0;
    for (const c of changes) {
      const cEnd = c.rangeOffset + c.rangeLength;
      if (cEnd <= this.start) {
        shift += c.text.length - c.rangeLength;
      } else if (c.rangeOffset >= this.end) {
        // after the range
      } else return 'overlap';
    }
    if (shift === 0) return 'unchanged';
    this.start += shift;
    return 'shifted';
  }
}
