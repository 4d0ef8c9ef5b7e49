// Readers of the config.json keys that architecture modules validate themselves; `where` names the file in errors.

/** Rejects activations other than the listed ones (config.json `hidden_act`, silu when absent). */
export function requireActivation(raw: Record<string, unknown>, supported: readonly string[], where: string): void {
  const act = raw.hidden_act ?? 'silu';
  if (typeof act !== 'string' || !supported.includes(act)) throw new Error(`${where}: unsupported hidden_act ${JSON.stringify(act)} (supported: ${supported.join(', ')})`);
}

/**
 * A finite positive number at `key` (an integer up to `max` when `integer`), or `missing` when the key is absent or
 * null. `nullable` only says in the error that null is accepted.
 */
export function positiveNumber<T>(
  raw: Record<string, unknown>,
  key: string,
  where: string,
  missing: T,
  o: { integer?: boolean; max?: number; nullable?: boolean } = {},
): number | T {
  const v = raw[key];
  if (v === undefined || v === null) return missing;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0 || (o.integer && !Number.isInteger(v)) || (o.max !== undefined && v > o.max)) {
    throw new Error(`${where}: "${key}" must be ${o.nullable ? 'null or ' : ''}a positive ${o.integer ? 'integer' : 'number'}, got ${JSON.stringify(v)}`);
  }
  return v;
}

/** `sliding_window`: null or absent = full attention; otherwise a positive integer (bounded, so masks stay small). */
export function slidingWindowOf(raw: Record<string, unknown>, where: string): number | undefined {
  return positiveNumber(raw, 'sliding_window', where, undefined, { integer: true, max: 1 << 24, nullable: true });
}

/** The `slidingWindow` config field when config.json sets a window, else nothing. */
export function slidingWindowField(raw: Record<string, unknown>, where: string): { slidingWindow?: number } {
  const slidingWindow = slidingWindowOf(raw, where);
  return slidingWindow !== undefined ? { slidingWindow } : {};
}
