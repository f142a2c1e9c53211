// Exponential backoff with full jitter (AWS architecture blog "Exponential Backoff And Jitter"):
// spreading retries uniformly over [0, min(cap, base·2^attempt)) avoids synchronized retry storms.

export interface BackoffOptions {
  baseMs: number;
  capMs: number;
}

/** Delay before retry number `attempt` (0-based): uniform in [0, min(capMs, baseMs·2^attempt)). */
export function backoffDelay(attempt: number, opts: BackoffOptions, rng: () => number = Math.random): number {
  const n = Math.max(0, Math.floor(attempt));
  // 2 ** 1024 is Infinity; min() keeps that harmless.
  const ceiling = Math.min(opts.capMs, opts.baseMs * 2 ** n);
  return Math.floor(rng() * ceiling);
}

/** The delay to honour: the server's Retry-After when it gave one, otherwise backoff. */
export function retryDelay(
  attempt: number,
  retryAfterMs: number | undefined,
  opts: BackoffOptions,
  rng: () => number = Math.random,
): number {
  return retryAfterMs ?? backoffDelay(attempt, opts, rng);
}
