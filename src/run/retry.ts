// Retries by safety class (DESIGN decision 6). GETs (polls, downloads) retry on anything but a
// fatal answer. A submit retries freely only when the server provably did not take it; after an
// ambiguous failure it retries only if the policy allows, and the caller counts each such retry
// as a possible duplicate charge.
import { setTimeout as sleep } from 'node:timers/promises';
import { HttpError } from '../errors.js';

export interface RetryPolicy {
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  ambiguousRetry: boolean;
}

export interface RetryInfo {
  attempt: number;
  error: HttpError;
  delayMs: number;
  /** The failed request may have been taken by the server (a submit retried anyway). */
  ambiguous: boolean;
}

export interface RetryOptions {
  kind: 'submit' | 'get';
  policy: RetryPolicy;
  signal?: AbortSignal;
  onRetry?: (info: RetryInfo) => void;
  rand?: () => number;
}

/** 429s wait and retry far longer than other errors: one 429 never fails a job. */
const MAX_RATE_LIMITED = 60;

export function backoffMs(attempt: number, policy: RetryPolicy, rand: () => number = Math.random): number {
  const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(cap / 2 + (rand() * cap) / 2); // "equal jitter": never zero, never above the cap
}

export async function withRetry<T>(fn: (attempt: number) => Promise<T>, opts: RetryOptions): Promise<T> {
  const { policy, kind } = opts;
  let failures = 0;
  let rateLimited = 0;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (!(err instanceof HttpError) || err.failure === 'fatal') throw err;
      if (opts.signal?.aborted) throw err;
      const is429 = err.status === 429;
      const ambiguous = kind === 'submit' && err.failure === 'ambiguous';
      if (ambiguous && !policy.ambiguousRetry) throw err;
      if (is429) rateLimited++;
      else failures++;
      if (failures >= policy.maxAttempts || rateLimited > MAX_RATE_LIMITED) throw err;
      const delayMs = err.retryAfterMs ?? backoffMs(is429 ? rateLimited : failures, policy, opts.rand);
      opts.onRetry?.({ attempt, error: err, delayMs, ambiguous });
      await sleep(delayMs, undefined, { signal: opts.signal });
    }
  }
}
