// Errors the transports map to their own codes, and the parameter checks every surface shares.

/** An error the transport reports with a specific code. */
export class EngineError extends Error {
  constructor(message: string, readonly code: 'no-model' | 'invalid-params' | 'cancelled' | 'internal') {
    super(message);
  }
}

export function checkNumber(v: unknown, name: string, min: number, max: number): void {
  if (v === undefined) return;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) throw new EngineError(`${name} must be a number in [${min}, ${max}], got ${JSON.stringify(v)}`, 'invalid-params');
}

export function checkInteger(v: unknown, name: string, min: number, max: number): void {
  checkNumber(v, name, min, max);
  if (v !== undefined && !Number.isInteger(v)) throw new EngineError(`${name} must be an integer, got ${JSON.stringify(v)}`, 'invalid-params');
}

export function checkString(v: unknown, name: string): string {
  if (typeof v !== 'string') throw new EngineError(`${name} must be a string`, 'invalid-params');
  return v;
}
