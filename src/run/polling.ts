// Adaptive polling (DESIGN decision 5). Two sources of knowledge, best first:
// 1. `progress` reported by the API: at elapsed t with progress p the task should finish near
//    t/p, so the next poll goes out just after that moment.
// 2. a running sample of observed durations per model: polls go out at rising quantiles of it, so
//    a typical task is seen within a few polls and a small delay after it became ready.
// Past both, polls back off exponentially with jitter up to `maxIntervalMs`.

export interface PollingOptions {
  /** Duration estimate before any task of a model has been observed. */
  expectedTaskMs: number;
  minIntervalMs: number;
  maxIntervalMs: number;
}

/** Quantiles of the duration distribution at which the first polls go out. */
const QUANTILES = [0.12, 0.4, 0.7, 0.9, 0.97];
const SAMPLE_SIZE = 256;

export class DurationEstimator {
  private readonly samples = new Map<string, number[]>();
  /** Sorted copies, rebuilt lazily: quantiles are asked for on every poll, samples change less often. */
  private readonly sorted = new Map<string, number[]>();

  constructor(private readonly opts: PollingOptions) {}

  observe(model: string, ms: number): void {
    let s = this.samples.get(model);
    if (!s) this.samples.set(model, (s = []));
    s.push(ms);
    if (s.length > SAMPLE_SIZE) s.shift();
    this.sorted.delete(model);
  }

  /** Duration at quantile q (0..1) for a model; the configured estimate until one is observed. */
  quantile(model: string, q: number): number {
    const s = this.samples.get(model);
    if (!s || s.length === 0) return this.opts.expectedTaskMs * (0.4 + q);
    let sorted = this.sorted.get(model);
    if (!sorted) this.sorted.set(model, (sorted = [...s].sort((a, b) => a - b)));
    const idx = Math.min(sorted.length - 1, Math.max(0, Math.round(q * (sorted.length - 1))));
    return sorted[idx]!;
  }
}

export interface PollState {
  /** Polls made so far for this task. */
  polls: number;
  /** Time since submission, ms. */
  elapsedMs: number;
  /** Last progress reported (0..1), if any. */
  progress?: number;
}

/** How long to wait before the next poll of a task. */
export function nextPollDelay(
  model: string,
  state: PollState,
  est: DurationEstimator,
  opts: PollingOptions,
  rand: () => number = Math.random,
): number {
  const { elapsedMs, progress } = state;
  const clamp = (ms: number) => Math.min(opts.maxIntervalMs, Math.max(opts.minIntervalMs, ms));
  if (progress !== undefined && progress > 0.02 && progress < 1) {
    const remaining = (elapsedMs * (1 - progress)) / progress;
    // A little after the predicted finish: a poll that comes too early costs one more round trip.
    return clamp(remaining * 1.04 + 10);
  }
  for (const q of QUANTILES) {
    const at = est.quantile(model, q);
    if (at > elapsedMs + opts.minIntervalMs / 2) return clamp(at - elapsedMs);
  }
  // Past the usual durations: back off geometrically (a quarter of the time waited so far), jittered.
  return clamp(elapsedMs * 0.25 * (0.8 + rand() * 0.4));
}

/**
 * Best guess of how long a task took, for the polling estimator. The moment it was seen ready is
 * only an upper bound (it includes the polling delay, and feeding that back would make polls ever
 * later); the last progress report extrapolates well, else the middle of the last pending and the
 * ready poll.
 */
export function observedDuration(lastPendingMs: number | undefined, progress: number | undefined, seenMs: number): number {
  if (lastPendingMs === undefined) return seenMs * 0.75;
  if (progress !== undefined && progress > 0.05 && progress < 1) return Math.min(seenMs, Math.max(lastPendingMs, lastPendingMs / progress));
  return (lastPendingMs + seenMs) / 2;
}
