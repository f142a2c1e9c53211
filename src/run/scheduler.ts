// The scheduler: planned jobs in, images on disk and journal records out, as fast as the provider's
// limits allow. Slots count tasks in flight (submitted, not yet seen ready); downloads and sharp
// run on their own limits, so a ready task is fetched at once instead of waiting behind submits.
import { setMaxListeners } from 'node:events';
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import pLimit from 'p-limit';
import type { FluxConfig } from '../config/types.js';
import { HttpError, UserError } from '../errors.js';
import type { LockEntry } from '../lock/entry.js';
import type { OriginalCache } from '../lock/cache.js';
import type { OutputStatCache } from '../lock/stat-cache.js';
import { inFlightLimit } from '../models.js';
import type { PlannedJob } from '../plan/index.js';
import { sniffFormat, extensionFor } from '../post/process.js';
import { verifyDownload } from '../post/verify.js';
import type { Job, Provider, TaskRef, TaskState } from '../types.js';
import type { JobPhase, RunEvent, RunSummary } from './events.js';
import { lockEntry, writeOutputs } from './finish.js';
import { DurationEstimator, nextPollDelay, observedDuration } from './polling.js';
import { withRetry, type RetryInfo } from './retry.js';
import { InFlightWindow } from './window.js';
import { httpReason, Interrupted, isAbort, JobFailure, persistHttpFailure } from './failures.js';

export interface SchedulerOptions {
  provider: Provider;
  journal: { append(entry: LockEntry): Promise<void> };
  cache: OriginalCache;
  config: FluxConfig;
  manifestDir: string;
  outputDir: string;
  emit: (e: RunEvent) => void;
  stats?: OutputStatCache;
  /** Stop submitting and polling (first Ctrl-C); in-flight tasks stay in the journal. */
  signal?: AbortSignal;
  now?: () => number;
}


const MAX_GENERATIONS = 3;
/** Rounds of download retries (each `retry.maxAttempts` long), with a fresh poll between rounds. */
const DOWNLOAD_ROUNDS = 3;
/** Rounds of poll retries a task survives before the job fails (not journalled: a rerun resumes it). */
const POLL_ROUNDS = 3;

export async function runJobs(planned: PlannedJob[], opts: SchedulerOptions): Promise<RunSummary> {
  return new Scheduler(opts).run(planned);
}

class Scheduler {
  private readonly window: InFlightWindow;
  private readonly downloads: ReturnType<typeof pLimit>;
  private readonly sharp = pLimit(Math.max(1, os.availableParallelism()));
  private readonly estimator: DurationEstimator;
  private readonly now: () => number;
  private outOfCredits?: string;
  /** Set by a 401/403 on submit: every other submit would be refused the same way. */
  private authFailed?: string;
  /** The newest journal record of each job written by this run. */
  private readonly latest = new Map<string, LockEntry>();
  private readonly s: RunSummary = {
    total: 0, generated: 0, rebuilt: 0, skipped: 0, failed: 0, interrupted: 0, failures: {},
    paid: 0, ambiguousRetries: 0, regenerations: 0, polls: 0, downloads: 0, cost: 0, wallMs: 0, outOfCredits: false,
  };

  constructor(private readonly o: SchedulerOptions) {
    const c = o.config;
    this.now = o.now ?? Date.now;
    this.window = new InFlightWindow(c.concurrency, (m) => inFlightLimit(m), this.now);
    this.downloads = pLimit(c.downloads.concurrency);
    const expectedTaskMs = o.provider.expectedTaskMs ?? c.polling.expectedTaskMs;
    this.estimator = new DurationEstimator({ ...c.polling, expectedTaskMs });
    // Every sleeping poll listens on the run's signal: thousands of listeners are expected.
    if (o.signal) setMaxListeners(0, o.signal);
  }

  async run(planned: PlannedJob[]): Promise<RunSummary> {
    const t0 = this.now();
    this.s.total = planned.length;
    // Resumed tasks first: they are already paid for and their results expire.
    const order = [...planned].sort((a, b) => Number(b.action === 'resume') - Number(a.action === 'resume'));
    // Jobs enter the pipeline a few windows ahead of the slots, not all at once: thousands of
    // started-and-waiting jobs would only hold memory (the window, not this, sets the pace).
    const feed = pLimit(Math.max(64, this.o.config.concurrency * 4));
    const instant = (p: PlannedJob) => p.action === 'skip' || p.action === 'failed';
    await Promise.all(order.map((p) => (instant(p) ? this.runOne(p) : feed(() => this.runOne(p)))));
    this.s.wallMs = this.now() - t0;
    this.s.outOfCredits = this.outOfCredits !== undefined;
    return this.s;
  }

  private phase(job: Job, phase: JobPhase, extra: { progress?: number; reason?: string; outputs?: string[] } = {}): void {
    this.o.emit({ type: 'job', id: job.id, name: job.name, phase, ...extra });
  }

  private async runOne(p: PlannedJob): Promise<void> {
    const { job } = p;
    try {
      switch (p.action) {
        case 'skip':
          this.s.skipped++;
          return this.phase(job, 'skipped', { reason: p.reason });
        case 'failed':
          // Already journalled as failed: reported again, never re-journalled (the lock stays as it is).
          return this.fail(job, p.entry?.error?.kind ?? 'failed earlier', `${p.reason} (rerun with --retry-failed to try again)`, p.entry, false);
        case 'rebuild': {
          const orig = p.entry?.original;
          const data = orig ? await this.o.cache.read(orig.sha256, orig.ext) : undefined;
          if (orig && data) {
            await this.finish(job, data, orig, p.entry!, p.entry!.seed);
            this.s.rebuilt++;
            return;
          }
          return await this.generate(p, undefined); // cache lost it: generate again (pinned seed)
        }
        case 'resume':
          return await this.generate(p, p.entry?.task ? { provider: p.entry.provider, ...p.entry.task } : undefined);
        case 'submit':
          return await this.generate(p, undefined);
      }
    } catch (err) {
      if (err instanceof Interrupted || (this.o.signal?.aborted && isAbort(err))) {
        this.s.interrupted++;
        return this.phase(job, 'interrupted');
      }
      const prev = this.latest.get(job.id) ?? p.entry;
      if (err instanceof JobFailure) return this.fail(job, err.reason, err.detail, prev, err.persist);
      if (err instanceof HttpError) return this.fail(job, httpReason(err), err.message, prev, persistHttpFailure(err));
      // Not the API's verdict: a post-processing problem (fix the manifest) or a bug. Not recorded, so
      // the job keeps its cached original and the next run rebuilds it without paying again.
      if (err instanceof UserError) return this.fail(job, 'post-processing', `${err.message}${err.hint ? ` (${err.hint})` : ''}`, prev, false);
      return this.fail(job, 'internal error', (err as Error).message ?? String(err), prev, false);
    }
  }

  private async fail(job: Job, reason: string, detail: string, prev: LockEntry | undefined, persist = true): Promise<void> {
    this.s.failed++;
    this.s.failures[reason] = (this.s.failures[reason] ?? 0) + 1;
    this.phase(job, 'failed', { reason: detail.startsWith(reason) ? detail : `${reason}: ${detail}` });
    if (!persist) return;
    if (prev?.state === 'failed' && prev.error?.reason === detail) return;
    await this.append(lockEntry(job, this.o.provider.name, { state: 'failed', error: { kind: reason, reason: detail } }, prev));
  }

  private async append(entry: LockEntry): Promise<LockEntry> {
    this.latest.set(entry.id, entry);
    await this.o.journal.append(entry);
    return entry;
  }

  /** Submit (or resume), poll until ready, download; regenerate when the result expired. */
  private async generate(p: PlannedJob, resume: TaskRef | undefined): Promise<void> {
    const { job } = p;
    let entry = p.entry;
    let task = resume;
    // The seed sent when the manifest gives none: the one pinned in the lock, else the one the API
    // reports at Ready. A regeneration after an expired result so makes the same image.
    let seed = job.request.seed === undefined ? p.seed : undefined;
    let expiries = 0;
    let downloadRounds = 0;
    const expired = (reason: string) => {
      expiries++;
      if (expiries >= MAX_GENERATIONS) {
        throw new JobFailure('result expired', `the result expired ${expiries} times before it could be downloaded (${reason})`);
      }
      this.regenerate(job, reason);
      task = undefined;
      downloadRounds = 0;
    };
    this.phase(job, 'queued');
    for (;;) {
      const state = await this.window.run(job.model, async () => {
        if (this.o.signal?.aborted) throw new Interrupted();
        if (!task) {
          if (this.outOfCredits) throw new JobFailure('out of credits', `not submitted: ${this.outOfCredits}`, false);
          if (this.authFailed) throw new JobFailure('authentication', `not submitted: ${this.authFailed}`, false);
          const sent: Job = seed === undefined ? job : { ...job, request: { ...job.request, seed } };
          const sub = await this.submit(sent);
          task = sub;
          entry = await this.append(lockEntry(job, sub.provider, {
            state: 'submitted', seed, cost: sub.cost, attempts: (entry?.attempts ?? 0) + 1,
            task: { id: sub.id, pollingUrl: sub.pollingUrl, submittedAt: new Date(this.now()).toISOString() },
          }, entry));
          // A synchronous answer (Replicate's `Prefer: wait`) needs no poll at all.
          if (sub.state && sub.state.state !== 'pending') return sub.state;
        }
        return this.pollUntilDone(job, task, entry);
      });
      if (state.state === 'failed') {
        if (state.kind === 'not-found') {
          expired('Task not found (expired)');
          continue;
        }
        throw new JobFailure(state.status, state.reason);
      }
      if (job.request.seed === undefined && state.seed !== undefined && seed !== state.seed) {
        // Journal the seed the API picked before downloading: if the result expires before it is
        // fetched (in this run or after a crash), the regeneration sends it and makes the same image.
        seed = state.seed;
        entry = await this.append(lockEntry(job, this.o.provider.name, { state: 'ready', seed }, entry));
      }
      const data = await this.download(job, state.urls);
      if (data === 'expired') {
        expired('result URL expired');
        continue;
      }
      if (data instanceof HttpError) {
        // Every retry of this round failed: poll the task again (a fresh URL, or Task not found).
        downloadRounds++;
        if (downloadRounds >= DOWNLOAD_ROUNDS) throw new JobFailure(httpReason(data), `download kept failing: ${data.message}`, false);
        continue;
      }
      const reported = state.seed ?? seed ?? job.request.seed;
      const ext = extensionFor(sniffFormat(data) ?? 'png');
      const { sha256 } = await this.o.cache.put(data, ext);
      const bytes = data.length;
      entry = await this.append(lockEntry(job, this.o.provider.name, { state: 'cached', seed: typeof reported === 'number' ? reported : undefined, original: { sha256, ext, bytes } }, entry));
      this.s.generated++;
      return this.finish(job, data, { sha256, ext, bytes }, entry, entry.seed);
    }
  }

  private regenerate(job: Job, reason: string): void {
    this.s.regenerations++;
    this.o.emit({ type: 'regenerate', id: job.id, reason });
  }

  private async submit(job: Job) {
    this.phase(job, 'submitting');
    const onRetry = (info: RetryInfo) => {
      if (info.error.status === 429 && this.window.onRateLimited()) this.o.emit({ type: 'rate-limited', window: this.window.size });
      if (info.ambiguous) this.s.ambiguousRetries++;
      this.o.emit({ type: 'retry', id: job.id, what: 'submit', message: info.error.message, delayMs: info.delayMs, ambiguous: info.ambiguous });
    };
    try {
      const sub = await withRetry(() => this.o.provider.submit(job, { signal: this.o.signal }), {
        kind: 'submit', policy: this.o.config.retry, signal: this.o.signal, onRetry,
      });
      this.window.onAccepted();
      this.s.paid++;
      if (typeof sub.cost === 'number') this.s.cost += sub.cost;
      return sub;
    } catch (err) {
      if (err instanceof HttpError && err.status === 402) {
        // Stop submitting; tasks in flight finish. Not journalled: after a top-up, a rerun submits.
        if (this.outOfCredits === undefined) {
          this.outOfCredits = err.message;
          this.o.emit({ type: 'out-of-credits', message: err.message });
        }
        throw new JobFailure('out of credits', err.message, false);
      }
      if (err instanceof HttpError && (err.status === 401 || err.status === 403)) {
        this.authFailed ??= err.message;
        throw new JobFailure('authentication', err.message, false);
      }
      if (err instanceof HttpError && err.failure === 'ambiguous' && !this.o.config.retry.ambiguousRetry) {
        throw new JobFailure('ambiguous submit', `${err.message}; the server may have taken it, so it was not retried (retry.ambiguousRetry is false)`, false);
      }
      if (isAbort(err)) throw new Interrupted();
      throw err;
    }
  }

  private async pollUntilDone(job: Job, task: TaskRef, entry: LockEntry | undefined): Promise<TaskState & { state: 'ready' | 'failed' }> {
    const c = this.o.config;
    const submittedAt = entry?.task?.submittedAt ? Date.parse(entry.task.submittedAt) : this.now();
    this.phase(job, 'generating');
    let polls = 0;
    let failedRounds = 0;
    let progress: number | undefined;
    let lastPendingMs: number | undefined;
    for (;;) {
      const elapsedMs = this.now() - submittedAt;
      // Checked after at least one poll: a task resumed long after it was submitted gets one look.
      if (polls > 0 && elapsedMs > c.timeouts.taskDeadlineMs) {
        throw new JobFailure('timed out', `task ${task.id} not ready after ${(elapsedMs / 1000).toFixed(elapsedMs < 10_000 ? 1 : 0)} s (timeouts.taskDeadlineMs: ${c.timeouts.taskDeadlineMs})`, false);
      }
      let delay = nextPollDelay(job.model, { polls, elapsedMs, progress }, this.estimator, c.polling);
      if (polls > 0) delay = Math.max(0, Math.min(delay, c.timeouts.taskDeadlineMs - elapsedMs + 1));
      try {
        await sleep(delay, undefined, { signal: this.o.signal });
      } catch {
        throw new Interrupted();
      }
      polls++;
      let state: TaskState;
      try {
        state = await withRetry(() => {
          this.s.polls++;
          return this.o.provider.poll(task, { signal: this.o.signal });
        }, {
          kind: 'get', policy: c.retry, signal: this.o.signal,
          onRetry: (i) => this.o.emit({ type: 'retry', id: job.id, what: 'poll', message: i.error.message, delayMs: i.delayMs, ambiguous: false }),
        });
      } catch (err) {
        if (isAbort(err) || this.o.signal?.aborted) throw new Interrupted();
        // An outage longer than one round of retries: the task is paid for, so keep looking (bounded).
        if (err instanceof HttpError && err.failure !== 'fatal' && ++failedRounds < POLL_ROUNDS) continue;
        throw err;
      }
      failedRounds = 0;
      if (state.state === 'pending') {
        if (state.progress !== undefined && state.progress !== progress) this.phase(job, 'generating', { progress: state.progress });
        progress = state.progress;
        lastPendingMs = this.now() - submittedAt;
        continue;
      }
      if (state.state === 'ready') this.estimator.observe(job.model, observedDuration(lastPendingMs, progress, this.now() - submittedAt));
      return state;
    }
  }

  /**
   * Fetch and verify the image. `'expired'` when the result URL was refused (the caller
   * regenerates); the last error when a whole round of retries failed (the caller polls again).
   */
  private async download(job: Job, urls: string[]): Promise<Buffer | 'expired' | HttpError> {
    const url = urls[0];
    if (!url) throw new JobFailure('Error', 'the API reported the task ready but gave no image URL');
    this.phase(job, 'downloading');
    return this.downloads(async () => {
      try {
        return await withRetry(async () => {
          this.s.downloads++;
          const data = await this.o.provider.download(url, {});
          await verifyImage(data, job, this.o.provider.family);
          return data;
        }, {
          kind: 'get', policy: this.o.config.retry,
          onRetry: (i) => this.o.emit({ type: 'retry', id: job.id, what: 'download', message: i.error.message, delayMs: i.delayMs, ambiguous: false }),
        });
      } catch (err) {
        if (err instanceof HttpError && err.expired) return 'expired';
        if (err instanceof HttpError && err.failure !== 'fatal') return err;
        throw err;
      }
    });
  }

  private async finish(job: Job, data: Buffer, original: { sha256: string; ext: string; bytes: number }, entry: LockEntry, seed: number | undefined): Promise<void> {
    this.phase(job, 'processing');
    const outputs = await writeOutputs(job, data, original, { ...this.o, cpu: this.sharp });
    await this.append(lockEntry(job, this.o.provider.name, { state: 'done', seed, original, outputs }, entry));
    this.phase(job, 'done', { outputs: outputs.map((o) => o.path) });
  }
}

/** A download that is not a whole image of the requested format is fetched again. */
async function verifyImage(data: Buffer, job: Job, family: string): Promise<void> {
  const asked = job.request.output_format;
  try {
    await verifyDownload(data, typeof asked === 'string' && family !== 'replicate' ? asked : undefined);
  } catch (err) {
    throw new HttpError(`downloaded image for ${job.id} is corrupt: ${(err as Error).message}`, 'not-sent');
  }
}
