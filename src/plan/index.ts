// The plan: one action per job, decided from the manifest, the lock and what is on disk. Pure: the
// caller does the I/O (which outputs are intact, which originals are cached) and hands in the facts.
import type { LockEntry } from '../lock/entry.js';
import { estimateCost } from '../models.js';
import type { Job, ProviderName } from '../types.js';
import { expectedOutputs } from './outputs.js';

export type PlanAction = 'skip' | 'rebuild' | 'resume' | 'submit' | 'failed';
export const PLAN_ACTIONS: readonly PlanAction[] = ['skip', 'rebuild', 'resume', 'submit', 'failed'];

export interface PlannedJob {
  job: Job;
  action: PlanAction;
  /** Why, in a few words ("new", "request changed", "output missing", …). */
  reason: string;
  entry?: LockEntry;
  /** The seed to send when the request has none: the one pinned in the lock. */
  seed?: number;
}

export interface PlanInput {
  jobs: Job[];
  entries: ReadonlyMap<string, LockEntry>;
  provider: ProviderName;
  manifestDir: string;
  outputDir: string;
  /** Job ids whose recorded outputs exist with their recorded hashes. */
  intact: ReadonlySet<string>;
  /** sha256 of originals present in the cache. */
  cached: ReadonlySet<string>;
  retryFailed?: boolean;
  force?: (job: Job) => boolean;
  reroll?: (job: Job) => boolean;
}

export function planJobs(input: PlanInput): PlannedJob[] {
  return input.jobs.map((job) => planJob(job, input));
}

function planJob(job: Job, input: PlanInput): PlannedJob {
  const entry = input.entries.get(job.id);
  const pinned = job.request.seed === undefined ? entry?.seed : undefined;
  const submit = (reason: string, seed = pinned): PlannedJob => ({ job, action: 'submit', reason, entry, seed });
  if (input.reroll?.(job)) return submit('reroll', undefined);
  if (input.force?.(job)) return submit('forced');
  if (!entry) return submit('new');
  if (entry.key !== job.key) return submit('request changed');
  switch (entry.state) {
    case 'failed':
      return input.retryFailed
        ? submit('retry failed')
        : { job, action: 'failed', reason: entry.error?.reason ?? 'failed earlier', entry, seed: pinned };
    case 'submitted':
    case 'ready':
      return entry.task && entry.provider === input.provider
        ? { job, action: 'resume', reason: 'task in flight', entry, seed: pinned }
        : submit('interrupted before a task id');
    case 'cached':
    case 'done': {
      const upToDate = entry.state === 'done' && input.intact.has(job.id) && recipesMatch(job, entry, input);
      if (upToDate) return { job, action: 'skip', reason: 'up to date', entry, seed: pinned };
      if (entry.original && input.cached.has(entry.original.sha256)) {
        const reason = entry.state === 'cached' ? 'outputs not written' : input.intact.has(job.id) ? 'post-processing changed' : 'output missing or changed';
        return { job, action: 'rebuild', reason, entry, seed: pinned };
      }
      return submit('original not cached');
    }
  }
}

function recipesMatch(job: Job, entry: LockEntry, input: PlanInput): boolean {
  if (!entry.original || !entry.outputs) return false;
  const want = expectedOutputs(job, entry.original, input.manifestDir, input.outputDir);
  if (want.length !== entry.outputs.length) return false;
  return want.every((w, i) => entry.outputs![i]!.path === w.path && entry.outputs![i]!.recipe === w.recipe);
}

export interface PlanSummary {
  total: number;
  byAction: Record<PlanAction, number>;
  byModel: Record<string, Record<PlanAction, number>>;
  /** Estimated cost in USD of the jobs to submit, where the model's price is known. */
  estimatedUsd: number;
  /** Submits whose model has no known price. */
  unpriced: number;
}

export function summarizePlan(planned: PlannedJob[]): PlanSummary {
  const zero = (): Record<PlanAction, number> => ({ skip: 0, rebuild: 0, resume: 0, submit: 0, failed: 0 });
  const s: PlanSummary = { total: planned.length, byAction: zero(), byModel: {}, estimatedUsd: 0, unpriced: 0 };
  for (const p of planned) {
    s.byAction[p.action]++;
    (s.byModel[p.job.model] ??= zero())[p.action]++;
    if (p.action === 'submit') {
      const usd = estimateCost(p.job.model, p.job.request);
      if (usd === undefined) s.unpriced++;
      else s.estimatedUsd += usd;
    }
  }
  return s;
}
