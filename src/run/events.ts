// Events the scheduler emits. It knows nothing of terminals: report/ renders these, `--json` prints them.
import type { PlanAction } from '../plan/index.js';

export type JobPhase =
  | 'queued'
  | 'submitting'
  | 'generating'
  | 'downloading'
  | 'processing'
  | 'done'
  | 'skipped'
  | 'failed'
  | 'interrupted';

export interface RunSummary {
  total: number;
  /** Outcome counts: generated (new image paid), rebuilt (from cache), skipped (already done), failed, interrupted. */
  generated: number;
  rebuilt: number;
  skipped: number;
  failed: number;
  interrupted: number;
  /** Failures grouped by reason, e.g. { "Request Moderated": 3 }. */
  failures: Record<string, number>;
  /** Generations paid for this run (accepted submits), including regenerations. */
  paid: number;
  /** Submits retried after an ambiguous failure: each may have been charged twice. */
  ambiguousRetries: number;
  /** Jobs generated again because their result expired (signed URL or Task not found). */
  regenerations: number;
  polls: number;
  downloads: number;
  /** Sum of the `cost` the API reported, in its unit (BFL: credits, 1 credit = $0.01). */
  cost: number;
  wallMs: number;
  outOfCredits: boolean;
}

export type RunEvent =
  | { type: 'start'; total: number; actions: Record<PlanAction, number>; provider: string }
  | {
      type: 'job';
      id: string;
      name: string;
      phase: JobPhase;
      progress?: number;
      reason?: string;
      outputs?: string[];
    }
  | { type: 'retry'; id: string; what: 'submit' | 'poll' | 'download'; message: string; delayMs: number; ambiguous: boolean }
  | { type: 'regenerate'; id: string; reason: string }
  | { type: 'rate-limited'; window: number }
  | { type: 'out-of-credits'; message: string }
  | { type: 'end'; summary: RunSummary };
