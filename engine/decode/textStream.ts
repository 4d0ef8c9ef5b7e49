// Turns generated tokens into streamed text: stop strings, a caller's cut rule (block end), and holding back text
// that may still change (an incomplete UTF-8 sequence, a partial stop string, an unfinished line under a cut rule).

export type TextStop = 'stop' | 'block_end';

export interface TextStreamOptions {
  decode: (ids: readonly number[]) => string;
  stop?: readonly string[];
  /** Returns the index at which to cut the text (end of the block), or -1 to continue. */
  stopAt?: (text: string) => number;
}

export class TextStream {
  private readonly _decode: (ids: readonly number[]) => string;
  private readonly _stops: string[];
  private readonly _stopAt: ((text: string) => number) | undefined;
  private readonly _tokens: number[] = [];
  private _text = '';
  private _sent = 0;
  private _scanned = 0;
  private _stopped: TextStop | undefined;
  /** tokens[0, _stableTokens) decode to _stableText (a checkpoint on a character boundary). */
  private _stableTokens = 0;
  private _stableText = '';

  constructor(options: TextStreamOptions) {
    this._decode = options.decode;
    this._stops = (options.stop ?? []).filter((s) => s.length > 0);
    this._stopAt = options.stopAt;
  }

  get stopped(): TextStop | undefined {
    return this._stopped;
  }

  /** The text so far (cut at the stop point once stopped). */
  get text(): string {
    return this._text;
  }

  /** Adds tokens; returns the newly stable text. After a stop, further pushes are ignored. */
  push(tokens: readonly number[]): string {
    if (this._stopped) return '';
    this._tokens.push(...tokens);
    const full = this._fullText();
    let cut = -1;
    let reason: TextStop | undefined;
    const maxStop = this._stops.reduce((m, s) => Math.max(m, s.length), 0);
    if (maxStop > 0) {
      const from = Math.max(0, this._scanned - maxStop + 1);
      for (const s of this._stops) {
        const i = full.indexOf(s, from);
        if (i >= 0 && (cut < 0 || i < cut)) cut = i;
      }
      if (cut >= 0) reason = 'stop';
      this._scanned = full.length;
    }
    if (this._stopAt) {
      const candidate = cut >= 0 ? full.slice(0, cut) : full;
      const r = this._stopAt(candidate);
      if (r >= 0 && r <= candidate.length) {
        cut = r;
        reason = 'block_end';
      }
    }
    if (reason) {
      this._stopped = reason;
      this._text = full.slice(0, cut);
      return '';
    }
    this._text = full;
    return this._stable();
  }

  /**
   * Decodes incrementally: a few tokens before the checkpoint give the tokenizer its context (leading-space
   * rules), and their text is subtracted. Falls back to a full decode when the two disagree.
   */
  private _fullText(): string {
    const n = this._tokens.length;
    const from = Math.max(0, this._stableTokens - 4);
    let full: string;
    if (this._stableTokens === 0) full = this._decode(this._tokens);
    else {
      const head = this._decode(this._tokens.slice(from, this._stableTokens));
      const tail = this._decode(this._tokens.slice(from));
      full = tail.startsWith(head) ? this._stableText + tail.slice(head.length) : this._decode(this._tokens);
    }
    if (n - this._stableTokens >= 16 && !full.endsWith('\uFFFD')) {
      this._stableTokens = n;
      this._stableText = full;
    }
    return full;
  }

  /** The rest of the text once generation has ended. */
  finish(): string {
    return this._take(this._text.length);
  }

  private _stable(): string {
    const full = this._text;
    let end = full.length;
    while (end > 0 && full.charCodeAt(end - 1) === 0xfffd) end--;
    for (const s of this._stops) {
      for (let k = Math.min(s.length - 1, end); k > 0; k--) {
        if (full.endsWith(s.slice(0, k)) && end > full.length - k) {
          end = full.length - k;
          break;
        }
      }
    }
    if (this._stopAt) {
      const nl = full.lastIndexOf('\n', end - 1);
      end = nl < 0 ? 0 : Math.min(end, nl + 1);
    }
    return this._take(end);
  }

  private _take(end: number): string {
    if (end <= this._sent) return '';
    const delta = this._text.slice(this._sent, end);
    this._sent = end;
    return delta;
  }
}
