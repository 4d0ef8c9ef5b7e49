// Token healing: a prompt that ends inside what would be one token of the continuation (a trailing space, half an
// identifier, half an operator) pushes the model off its training distribution; it then tends to repeat or skip
// text (`for (let i = 0; ` → `0; i < …`). We back up the last token(s) of the prefix and constrain the first
// generated tokens to spell the removed text again (decode/constraint.ts), so the model picks its own boundary.

/** What healing needs from a tokenizer. */
export interface HealingTokenizer {
  encode(text: string): number[];
  decode(ids: readonly number[]): string;
}

/** The allowed next tokens given those generated so far, or undefined when any may follow (decode/constraint.ts). */
export type HealingConstraint = (generated: readonly number[]) => ((token: number) => boolean) | undefined;

export interface HealingPlan {
  /** The prefix the prompt is built from. */
  kept: string;
  /** The text cut from the end of the prefix; generation must start with it ('' when nothing is healed). */
  removed: string;
}

export interface HealingOptions {
  /** Most tokens backed up (default 3). */
  maxTokens?: number;
}

/** The text of every token id below `vocabSize`, as it reads in the middle of a text ('' when it has none). */
const vocabCache = new WeakMap<HealingTokenizer, Map<number, string[]>>();
export function vocabularyTexts(tokenizer: HealingTokenizer, vocabSize: number): string[] {
  let byVocab = vocabCache.get(tokenizer);
  if (!byVocab) vocabCache.set(tokenizer, (byVocab = new Map()));
  const cached = byVocab.get(vocabSize);
  if (cached) return cached;
  // Decoding after an anchor keeps leading spaces that some decoders (SentencePiece) drop at the start of a text.
  const anchor = tokenizer.encode('a');
  const anchorText = tokenizer.decode(anchor);
  const texts: string[] = new Array<string>(vocabSize);
  for (let id = 0; id < vocabSize; id++) {
    let s = '';
    try {
      const both = tokenizer.decode([...anchor, id]);
      s = both.startsWith(anchorText) ? both.slice(anchorText.length) : tokenizer.decode([id]);
    } catch {
      s = '';
    }
    // A partial UTF-8 sequence has no text of its own.
    texts[id] = s.includes('\uFFFD') ? '' : s;
  }
  byVocab.set(vocabSize, texts);
  return texts;
}

/** Token texts sorted, for "is this a strict prefix of some token" by binary search. */
const sortedCache = new WeakMap<string[], string[]>();
function extendsToken(texts: string[], text: string): boolean {
  let sorted = sortedCache.get(texts);
  if (!sorted) sortedCache.set(texts, (sorted = texts.filter((t) => t.length > 0).sort()));
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! < text) lo = mid + 1;
    else hi = mid;
  }
  for (let i = lo; i < sorted.length && sorted[i]!.startsWith(text); i++) if (sorted[i]!.length > text.length) return true;
  return false;
}

/** How much of the prefix's end is tokenized for the decision (the last tokens never reach further back). */
const TAIL_CHARS = 64;

/**
 * Backs up the longest run of the prefix's last tokens (at most `maxTokens`, within the cursor's line) whose text
 * some longer vocabulary token starts with: a continuation could then have merged with it.
 */
export function planHealing(tokenizer: HealingTokenizer, texts: string[], prefix: string, options: HealingOptions = {}): HealingPlan {
  const maxTokens = Math.max(0, Math.floor(options.maxTokens ?? 3));
  const lineStart = prefix.lastIndexOf('\n') + 1;
  const tail = prefix.slice(Math.max(lineStart, prefix.length - TAIL_CHARS));
  if (tail.length === 0 || maxTokens === 0) return { kept: prefix, removed: '' };
  const ids = tokenizer.encode(tail);
  for (let k = Math.min(maxTokens, ids.length); k >= 1; k--) {
    const head = tokenizer.decode(ids.slice(0, ids.length - k));
    // Token boundaries inside a character (byte-level BPE) cannot be healed as text.
    if (!tail.startsWith(head) || head.includes('\uFFFD')) continue;
    const removed = tail.slice(head.length);
    if (removed.length === 0) continue;
    if (extendsToken(texts, removed)) return { kept: prefix.slice(0, prefix.length - removed.length), removed };
  }
  return { kept: prefix, removed: '' };
}

/**
 * Generation must spell `removed` first: while the generated text is shorter than it, a token is allowed only when
 * its text and the rest of `removed` agree (one starts with the other). End tokens are never allowed meanwhile.
 */
export function healingConstraint(texts: readonly string[], removed: string): HealingConstraint {
  const masks = new Map<string, Uint8Array>();
  const maskFor = (rest: string): Uint8Array => {
    let m = masks.get(rest);
    if (!m) {
      m = new Uint8Array(texts.length);
      for (let t = 0; t < texts.length; t++) {
        const s = texts[t]!;
        if (s.length > 0 && (s.startsWith(rest) || rest.startsWith(s))) m[t] = 1;
      }
      masks.set(rest, m);
    }
    return m;
  };
  return (generated) => {
    if (removed.length === 0) return undefined;
    let done = 0;
    for (const t of generated) {
      done += (texts[t] ?? '').length;
      if (done >= removed.length) return undefined;
    }
    const mask = maskFor(removed.slice(done));
    return (token) => mask[token] === 1;
  };
}

/** The new text of a healed completion: the generated text without the re-spelled `removed` part. */
export function stripHealed(text: string, removed: string): string {
  if (removed.length === 0) return text;
  if (text.startsWith(removed)) return text.slice(removed.length);
  // Generation ended before it spelled all of `removed`: nothing new.
  return '';
}
