// Showing a streamed completion early: its first line appears as soon as it is complete, unless the whole
// completion follows within a short grace period (fewer ghost-text updates).

/** How long a streamed first line waits for the whole completion before it shows on its own. */
export const EARLY_GRACE_MS = 60;

/** The first line of streamed text once it is complete and not blank. */
export function firstLine(streamed: string): string | undefined {
  const nl = streamed.indexOf('\n');
  if (nl < 0) return undefined;
  const line = streamed.slice(0, nl);
  return line.trim().length > 0 ? line : undefined;
}

/** Whether a promise has already settled (checked once the pending microtasks have run). */
export async function isSettled(p: Promise<unknown>): Promise<boolean> {
  const marker = Symbol('pending');
  const later = new Promise<symbol>((r) => setImmediate(() => r(marker)));
  return (await Promise.race([p.then(() => true, () => true), later])) !== marker;
}
