import type { ProviderName } from '../types.js';

/** Effective settings after defaults, config file and CLI flags (in that order of precedence). */
export interface FluxConfig {
  provider: ProviderName;
  baseUrl?: string;
  concurrency: number;
  cacheDir: string;
  maxJobs: number;
  retryFailed: boolean;
  /** Write `report.html` and its thumbnails beside the outputs after every run. */
  gallery: boolean;
  polling: { expectedTaskMs: number; minIntervalMs: number; maxIntervalMs: number };
  retry: { maxAttempts: number; baseDelayMs: number; maxDelayMs: number; ambiguousRetry: boolean };
  timeouts: { headersMs: number; idleMs: number; taskDeadlineMs: number };
  downloads: { concurrency: number };
  mock: { taskMs: number };
  /** Provider `replicate`: create route and `Prefer: wait=N`. */
  replicate?: { route?: 'models' | 'predictions'; preferWait?: number };
}

/** Flags that override the config file. */
export interface ConfigOverrides {
  provider?: ProviderName;
  baseUrl?: string;
  concurrency?: number;
  maxJobs?: number;
  retryFailed?: boolean;
}

export const DEFAULT_CONFIG: FluxConfig = {
  provider: 'mock',
  concurrency: 24,
  cacheDir: '.flux-cache',
  maxJobs: 10_000,
  retryFailed: false,
  gallery: true,
  polling: { expectedTaskMs: 8000, minIntervalMs: 100, maxIntervalMs: 5000 },
  retry: { maxAttempts: 6, baseDelayMs: 500, maxDelayMs: 30_000, ambiguousRetry: true },
  timeouts: { headersMs: 30_000, idleMs: 30_000, taskDeadlineMs: 900_000 },
  downloads: { concurrency: 8 },
  mock: { taskMs: 150 },
};
