// Public shapes of the simulator: options, fault configuration, statistics and recorded requests.

/** Fault probabilities (0..1) for one kind of request. At most one outcome fault fires per request. */
export interface RequestFaults {
  '500'?: number;
  '502'?: number;
  '503'?: number;
  '504'?: number;
  /** 429 with `Retry-After: retryAfterS`. */
  '429'?: number;
  /** Destroy the socket without a reply (before anything happens server-side). */
  reset?: number;
  /** Submit only: the task IS created and paid for, then the socket is destroyed (the ambiguous case). */
  resetAfterAccept?: number;
  /** Download only: send the full Content-Length, then close after about half of the body. */
  truncate?: number;
  /** Probability of a slow reply (independent of the faults above): delay by `slowMs`. Downloads drip the body instead. */
  slow?: number;
  /** Delay of a slow reply, ms (default 2000). */
  slowMs?: number;
  /** `Retry-After` seconds sent with injected 429s (default 1). */
  retryAfterS?: number;
}

export interface FaultConfig {
  submit?: RequestFaults;
  poll?: RequestFaults;
  download?: RequestFaults;
  /** Probability that a task ends in `Content Moderated` (besides prompts matching `contentModeration`). */
  moderateRate?: number;
  /** Probability that a task ends in `Error`. */
  errorRate?: number;
  /** Probability that a finished task is `Task not found` when first polled after it became ready. */
  expireRate?: number;
  /** Credits left. 0 → every submit is refused with 402; a positive budget is spent by each accepted task. Unset: unlimited. */
  credits?: number;
  /** Prompts matching this are `Request Moderated` at once. Default `/\[moderated?\]|moderate-request/i`. */
  requestModeration?: RegExp;
  /** Prompts matching this end in `Content Moderated`. Default `/\[nsfw\]/i`. */
  contentModeration?: RegExp;
}

export type LatencyOptions = { medianMs: number; sigma: number } | { fixedMs: number };

export interface SimulatorOptions {
  /** 0 = ephemeral (default). The regional and delivery hosts always use ephemeral ports. */
  port?: number;
  /** Accepted keys; a missing entry accepts any non-empty key. */
  keys?: { cometapi?: string; bfl?: string };
  /** Task duration distribution (log-normal, by median and sigma) or a fixed duration. Default `{fixedMs: 0}`. */
  latency?: LatencyOptions;
  /** Tasks in flight per key (default 24). */
  maxInFlight?: number;
  /** Per-key, per-model limits (default `{ 'flux-kontext-max': 6 }`). */
  modelLimits?: Record<string, number>;
  /** Signed result URL lifetime, ms (default 600_000). */
  resultTtlMs?: number;
  /** How long a finished task stays pollable, ms (default 1_800_000). */
  taskTtlMs?: number;
  faults?: FaultConfig;
  /** RNG seed for latency, faults, picked seeds and ids (default 1). */
  seed?: number;
  /** Reported instead of `Pending` for the middle half of a task's life, e.g. `Generating`. */
  unknownStatus?: string;
  /** Keep a log of every request in `Simulator.requests` (default true; capped at 200_000 entries). */
  recordRequests?: boolean;
}

export type HostRole = 'api' | 'region' | 'delivery';

export interface RecordedRequest {
  method: string;
  role: HostRole;
  /** Path with query string. */
  path: string;
  /** Header names lower-cased. */
  headers: Record<string, string | string[] | undefined>;
  /** `Date.now()` when the request arrived. */
  time: number;
}

/** Life of one task, for latency measurements ("ready → seen"). Times are `Date.now()` ms. */
export interface TaskTiming {
  id: string;
  model: string;
  createdAt: number;
  /** When the task reached its terminal state (planned; also for tasks that are never polled). */
  readyAt: number;
  /** Terminal status the task reached (`Ready`, `Error`, `Request Moderated`, `Content Moderated`, `Canceled`). */
  outcome: string;
  /** First poll that reported `Ready`. */
  seenReadyAt?: number;
  polls: number;
}

export interface KeyStats {
  submits: number;
  accepted: number;
  rejected429: number;
  polls: number;
  inFlight: number;
  maxInFlightSeen: number;
}

export interface SimulatorStats {
  /** Submit requests received (any outcome). */
  submits: number;
  /** Paid generations (tasks created), including `resetAfterAccept` ones. */
  accepted: number;
  /** Submits refused with 429 (in-flight limit or injected). */
  rejected429: number;
  /** Submits refused with 402. */
  rejected402: number;
  /** Requests answered 422. */
  rejected422: number;
  /** Requests refused for authentication (401/403). */
  rejectedAuth: number;
  polls: number;
  downloads: number;
  /** Tasks that reached a terminal state. */
  completed: number;
  /** Terminal outcomes of tasks, by status. */
  byStatus: Record<string, number>;
  /** Poll responses, by reported status. */
  pollsByStatus: Record<string, number>;
  /** Injected faults, e.g. `submit.503`, `download.truncate`. */
  faults: Record<string, number>;
  /** Tasks in flight now, all keys. */
  inFlight: number;
  /** Highest in-flight count seen for any single key (the limit is per key). */
  maxInFlightSeen: number;
  /** Credits charged for accepted tasks. */
  creditsSpent: number;
  /** Counters per API key (the key as sent). */
  perKey: Record<string, KeyStats>;
  /** One entry per accepted task, in creation order. */
  tasks: TaskTiming[];
}

export function emptyStats(): SimulatorStats {
  return {
    submits: 0,
    accepted: 0,
    rejected429: 0,
    rejected402: 0,
    rejected422: 0,
    rejectedAuth: 0,
    polls: 0,
    downloads: 0,
    completed: 0,
    byStatus: {},
    pollsByStatus: {},
    faults: {},
    inFlight: 0,
    maxInFlightSeen: 0,
    creditsSpent: 0,
    perKey: {},
    tasks: [],
  };
}

export function bump(counts: Record<string, number>, key: string, by = 1): void {
  counts[key] = (counts[key] ?? 0) + by;
}

export function keyStats(stats: SimulatorStats, key: string): KeyStats {
  let s = stats.perKey[key];
  if (!s) {
    s = { submits: 0, accepted: 0, rejected429: 0, polls: 0, inFlight: 0, maxInFlightSeen: 0 };
    stats.perKey[key] = s;
  }
  return s;
}
