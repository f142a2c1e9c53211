// The scheduler: planned jobs in, images on disk and journal records out, as fast as the provider's
// limits allow. Slots count tasks in flight (submitted, not yet seen ready); downloads and sharp
// run on their own limits, so a ready task is fetched at once instead of waiting behind submits.
import { setMaxListeners } from 'node:events';
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import pLimit from 'p-limit';
import type { FluxConfig } from '../config/types.js';
import { HttpError } from '../errors.js';
import type { LockEntry } from '../lock/entry.js';
import type { OriginalCache } from '../lock/cache.js';
import type { OutputStatCache } from '../lock/stat-cache.js';
import { inFlightLimit } from '../models.js';
import type { PlannedJob } from '../plan/index.js';
import { inspectImage, sniffFormat, extensionFor } from '../post/process.js';
import type { Job, Provider, TaskRef, TaskState } from '../types.js';
import type { JobPhase, RunEvent, RunSummary } from './events.js';
import { lockEntry, writeOutputs } from './finish.js';
import { DurationEstimator, nextPollDelay } from './polling.js';
import { withRetry, type RetryInfo } from './retry.js';
import { InFlightWindow } from './window.js';

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

/** A job that cannot be finished; `reason` is what the summary groups by. */
export class JobFailure extends Error {
  constructor(readonly reason: string, readonly detail: string) {
    super(detail);
  }
}

class Interrupted extends Error {}

const MAX_GENERATIONS = 3;

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
    await Promise.all(order.map((p) => this.runOne(p)));
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
          return this.fail(job, p.entry?.error?.kind ?? 'failed earlier', `${p.reason} (rerun with --retry-failed to try again)`);
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
      if (err instanceof JobFailure) return this.fail(job, err.reason, err.detail, p.entry);
      if (err instanceof HttpError) return this.fail(job, httpReason(err), err.message, p.entry);
      return this.fail(job, 'internal error', (err as Error).message ?? String(err), p.entry);
    }
  }

  private async fail(job: Job, reason: string, detail: string, prev?: LockEntry): Promise<void> {
    this.s.failed++;
    this.s.failures[reason] = (this.s.failures[reason] ?? 0) + 1;
    this.phase(job, 'failed', { reason: `${reason}: ${detail}` });
    if (prev?.state === 'failed' && prev.error?.reason === detail) return;
    await this.o.journal.append(lockEntry(job, this.o.provider.name, { state: 'failed', error: { kind: reason, reason: detail } }, prev));
  }

  /** Submit (or resume), poll until ready, download; regenerate when the result expired. */
  private async generate(p: PlannedJob, resume: TaskRef | undefined): Promise<void> {
    const { job } = p;
    let entry = p.entry;
    let task = resume;
    const seed = job.request.seed === undefined ? p.seed : undefined;
    const sent: Job = seed === undefined ? job : { ...job, request: { ...job.request, seed } };
    this.phase(job, 'queued');
    for (let gen = 0; ; gen++) {
      if (gen >= MAX_GENERATIONS) throw new JobFailure('result expired', `the result expired ${gen} times before it could be downloaded`);
      const state = await this.window.run(job.model, async () => {
        if (this.o.signal?.aborted) throw new Interrupted();
        if (!task) {
          if (this.outOfCredits) throw new JobFailure('out of credits', `not submitted: ${this.outOfCredits}`);
          const sub = await this.submit(sent);
          task = sub;
          entry = lockEntry(job, sub.provider, {
            state: 'submitted', seed, cost: sub.cost, attempts: (entry?.attempts ?? 0) + 1,
            task: { id: sub.id, pollingUrl: sub.pollingUrl, submittedAt: new Date(this.now()).toISOString() },
          }, entry);
          await this.o.journal.append(entry);
        }
        return this.pollUntilDone(job, task, entry);
      });
      if (state.state === 'failed') {
        if (state.kind === 'not-found') {
          this.regenerate(job, 'Task not found (expired)');
          task = undefined;
          continue;
        }
        throw new JobFailure(state.status, state.reason);
      }
      const data = await this.download(job, state.urls);
      if (!data) {
        this.regenerate(job, 'result URL expired');
        task = undefined;
        continue;
      }
      const reported = state.seed ?? sent.request.seed;
      const ext = extensionFor(sniffFormat(data) ?? 'png');
      const { sha256 } = await this.o.cache.put(data, ext);
      const bytes = data.length;
      entry = lockEntry(job, this.o.provider.name, { state: 'cached', seed: typeof reported === 'number' ? reported : undefined, original: { sha256, ext, bytes } }, entry);
      await this.o.journal.append(entry);
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
        this.outOfCredits ??= err.message;
        this.o.emit({ type: 'out-of-credits', message: err.message });
        throw new JobFailure('out of credits', err.message);
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
    let progress: number | undefined;
    for (;;) {
      const elapsedMs = this.now() - submittedAt;
      if (elapsedMs > c.timeouts.taskDeadlineMs) {
        throw new JobFailure('timed out', `task ${task.id} not ready after ${Math.round(elapsedMs / 1000)} s (timeouts.taskDeadlineMs)`);
      }
      const delay = nextPollDelay(job.model, { polls, elapsedMs, progress }, this.estimator, c.polling);
      try {
        await sleep(delay, undefined, { signal: this.o.signal });
      } catch {
        throw new Interrupted();
      }
      polls++;
      this.s.polls++;
      const state = await withRetry(() => this.o.provider.poll(task, { signal: this.o.signal }), {
        kind: 'get', policy: c.retry, signal: this.o.signal,
        onRetry: (i) => this.o.emit({ type: 'retry', id: job.id, what: 'poll', message: i.error.message, delayMs: i.delayMs, ambiguous: false }),
      }).catch((err: unknown) => {
        throw isAbort(err) ? new Interrupted() : err;
      });
      if (state.state === 'pending') {
        if (state.progress !== undefined && state.progress !== progress) this.phase(job, 'generating', { progress: state.progress });
        progress = state.progress;
        continue;
      }
      if (state.state === 'ready') this.estimator.observe(job.model, this.now() - submittedAt);
      return state;
    }
  }

  /** Fetch and verify the image; undefined when the result URL expired (the caller regenerates). */
  private async download(job: Job, urls: string[]): Promise<Buffer | undefined> {
    const url = urls[0];
    if (!url) throw new JobFailure('Error', 'the API reported the task ready but gave no image URL');
    this.phase(job, 'downloading');
    return this.downloads(async () => {
      try {
        return await withRetry(async () => {
          this.s.downloads++;
          const data = await this.o.provider.download(url, {});
          await verifyImage(data, job);
          return data;
        }, {
          kind: 'get', policy: this.o.config.retry,
          onRetry: (i) => this.o.emit({ type: 'retry', id: job.id, what: 'download', message: i.error.message, delayMs: i.delayMs, ambiguous: false }),
        });
      } catch (err) {
        if (err instanceof HttpError && err.expired) return undefined;
        throw err;
      }
    });
  }

  private async finish(job: Job, data: Buffer, original: { sha256: string; ext: string; bytes: number }, entry: LockEntry, seed: number | undefined): Promise<void> {
    this.phase(job, 'processing');
    const outputs = await this.sharp(() => writeOutputs(job, data, original, this.o));
    await this.o.journal.append(lockEntry(job, this.o.provider.name, { state: 'done', seed, original, outputs }, entry));
    this.phase(job, 'done', { outputs: outputs.map((o) => o.path) });
  }
}

/** A download that is not a whole, decodable image is fetched again. */
async function verifyImage(data: Buffer, job: Job): Promise<void> {
  const format = sniffFormat(data);
  try {
    if (!format) throw new Error('not a PNG, JPEG, WebP, AVIF, TIFF or GIF image');
    await inspectImage(data);
  } catch (err) {
    throw new HttpError(`downloaded image for ${job.id} is corrupt: ${(err as Error).message}`, 'not-sent');
  }
}

function httpReason(err: HttpError): string {
  if (err.status === 401 || err.status === 403) return 'authentication';
  if (err.status === 422 || err.status === 400) return 'rejected by the API';
  if (err.status) return `HTTP ${err.status}`;
  return err.failure === 'ambiguous' ? 'network (ambiguous)' : 'network';
}

function isAbort(err: unknown): boolean {
  return (err as Error)?.name === 'AbortError' || err instanceof Interrupted;
}
