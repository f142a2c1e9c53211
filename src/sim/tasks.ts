// The simulator's task store: creation (with seeded latency, outcome and seed), the status a task
// reports at a given moment, in-flight accounting per key, and expiry.
import type { PlaceholderFormat, PlaceholderOptions } from './image.js';
import { SeededStreams, logNormalMs } from './rng.js';
import { bump, keyStats, type FaultConfig, type LatencyOptions, type SimulatorStats, type TaskTiming } from './options.js';

export type Outcome = 'Ready' | 'Error' | 'Request Moderated' | 'Content Moderated';
export type Api = 'bfl' | 'cometapi' | 'replicate';

/** `model` is the BFL model name: limits, cost and rendering use it. */
export interface SimTask extends Omit<PlaceholderOptions, 'label'> {
  id: string;
  api: Api;
  key: string;
  /** File extension of the result (`jpg` for Replicate's `jpg`). */
  ext: string;
  /** Number of images (Replicate `num_outputs`). */
  outputs: number;
  region: number;
  cost: number;
  createdAt: number;
  readyAt: number;
  outcome: Outcome;
  /** `expireRate` picked this task: it is gone when polled after ready. */
  expireWhenReady: boolean;
  gone: boolean;
  canceled: boolean;
  finalized: boolean;
  timing: TaskTiming;
  webhook?: { url: string; secret?: string };
  /** Replicate: the model as `owner/name`, the input as sent, and whether `output` is an array. */
  replicate?: { model: string; input: Record<string, unknown>; arrayOutput: boolean };
}

export interface NewTask {
  api: Api;
  key: string;
  model: string;
  prompt: string;
  seed?: number;
  width: number;
  height: number;
  format: PlaceholderFormat;
  ext?: string;
  outputs?: number;
  cost: number;
  webhook?: { url: string; secret?: string };
  replicate?: SimTask['replicate'];
  makeId: (rand: () => number) => string;
}

/** What a task says about itself now. */
export type TaskView =
  | { kind: 'gone'; status: 'Task not found' }
  | { kind: 'pending'; status: string; progress: number; phase: 'starting' | 'processing' }
  | { kind: 'final'; status: Outcome | 'Canceled'; task: SimTask };

export interface TaskStoreOptions {
  latency: LatencyOptions;
  maxInFlight: number;
  modelLimits: Record<string, number>;
  taskTtlMs: number;
  regions: number;
  unknownStatus?: string;
  faults: () => FaultConfig;
  onFinal?: (task: SimTask) => void;
}

const REQUEST_MODERATION = /\[moderated?\]|moderate-request/i;
const CONTENT_MODERATION = /\[nsfw\]/i;

export class TaskStore {
  private readonly tasks = new Map<string, SimTask>();
  private readonly inFlight = new Map<string, Set<SimTask>>();
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Tasks created at or before this moment are gone (expireAll). */
  expiredBefore = -Infinity;

  constructor(
    private readonly opts: TaskStoreOptions,
    private readonly streams: SeededStreams,
    private readonly stats: SimulatorStats,
  ) {}

  get(id: string): SimTask | undefined {
    return this.tasks.get(id);
  }

  /**
   * Would a new task for (key, model) exceed a limit? Returns the seconds to wait, or 0.
   * Sweeps finished tasks first.
   */
  limitWait(key: string, model: string, now: number): number {
    const running = this.sweep(key, now);
    const modelLimit = this.opts.modelLimits[model];
    const sameModel = modelLimit === undefined ? [] : [...running].filter((t) => t.model === model);
    const blocking = running.size >= this.opts.maxInFlight ? [...running] : modelLimit !== undefined && sameModel.length >= modelLimit ? sameModel : [];
    if (blocking.length === 0) return 0;
    const soonest = Math.min(...blocking.map((t) => t.readyAt));
    return Math.max(1, Math.ceil((soonest - now) / 1000));
  }

  create(spec: NewTask, now: number): SimTask {
    const rand = this.streams.next('task');
    const faults = this.opts.faults();
    const latency = this.opts.latency;
    const duration = 'fixedMs' in latency ? latency.fixedMs : logNormalMs(rand, latency.medianMs, latency.sigma);
    const pickedSeed = Math.floor(rand() * 2 ** 31);
    const roll = rand();
    const expireRoll = rand();
    const id = spec.makeId(rand);
    let outcome: Outcome = 'Ready';
    if ((faults.requestModeration ?? REQUEST_MODERATION).test(spec.prompt)) outcome = 'Request Moderated';
    else if ((faults.contentModeration ?? CONTENT_MODERATION).test(spec.prompt)) outcome = 'Content Moderated';
    else if (roll < (faults.moderateRate ?? 0)) outcome = 'Content Moderated';
    else if (roll < (faults.moderateRate ?? 0) + (faults.errorRate ?? 0)) outcome = 'Error';
    const readyAt = outcome === 'Request Moderated' ? now : now + Math.round(duration);
    const task: SimTask = {
      id,
      api: spec.api,
      key: spec.key,
      model: spec.model,
      prompt: spec.prompt,
      seed: spec.seed ?? pickedSeed,
      width: spec.width,
      height: spec.height,
      format: spec.format,
      ext: spec.ext ?? spec.format,
      outputs: spec.outputs ?? 1,
      region: parseInt(id.replace(/[^0-9a-f]/g, '').slice(0, 6) || '0', 16) % Math.max(1, this.opts.regions),
      cost: spec.cost,
      createdAt: now,
      readyAt,
      outcome,
      expireWhenReady: outcome === 'Ready' && expireRoll < (faults.expireRate ?? 0),
      gone: false,
      canceled: false,
      finalized: false,
      timing: { id, model: spec.model, createdAt: now, readyAt, outcome, polls: 0 },
      ...(spec.webhook ? { webhook: spec.webhook } : {}),
      ...(spec.replicate ? { replicate: spec.replicate } : {}),
    };
    this.tasks.set(id, task);
    this.stats.tasks.push(task.timing);
    this.stats.accepted++;
    this.stats.creditsSpent = Math.round((this.stats.creditsSpent + spec.cost) * 100) / 100;
    const ks = keyStats(this.stats, spec.key);
    ks.accepted++;
    if (readyAt <= now) {
      this.finalize(task);
    } else {
      let running = this.inFlight.get(spec.key);
      if (!running) this.inFlight.set(spec.key, (running = new Set()));
      running.add(task);
      this.stats.inFlight++;
      ks.inFlight = running.size;
      ks.maxInFlightSeen = Math.max(ks.maxInFlightSeen, running.size);
      this.stats.maxInFlightSeen = Math.max(this.stats.maxInFlightSeen, running.size);
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        this.finalize(task);
      }, readyAt - now);
      timer.unref();
      this.timers.add(timer);
    }
    return task;
  }

  /** The task's state at `now`. Marks `expireRate` tasks gone at their first look after ready. */
  view(id: string, now: number): TaskView {
    const task = this.tasks.get(id);
    if (!task || task.gone || task.createdAt <= this.expiredBefore) return { kind: 'gone', status: 'Task not found' };
    if (task.canceled) return { kind: 'final', status: 'Canceled', task };
    if (now < task.readyAt) {
      const span = Math.max(1, task.readyAt - task.createdAt);
      const progress = Math.min(0.99, Math.round(((now - task.createdAt) / span) * 100) / 100);
      const middle = progress >= 0.25 && progress < 0.75 && this.opts.unknownStatus;
      return { kind: 'pending', status: middle ? this.opts.unknownStatus! : 'Pending', progress, phase: progress < 0.1 ? 'starting' : 'processing' };
    }
    this.finalize(task);
    if (now - task.readyAt > this.opts.taskTtlMs) return { kind: 'gone', status: 'Task not found' };
    if (task.expireWhenReady) {
      task.gone = true;
      return { kind: 'gone', status: 'Task not found' };
    }
    return { kind: 'final', status: task.outcome, task };
  }

  /** Cancel a running task (Replicate). Returns false when it already finished. */
  cancel(task: SimTask, now: number): boolean {
    if (task.finalized || now >= task.readyAt) return false;
    task.canceled = true;
    task.readyAt = now;
    task.timing.readyAt = now;
    task.timing.outcome = 'Canceled';
    this.finalize(task);
    return true;
  }

  expireAll(now: number): void {
    this.expiredBefore = now;
  }

  close(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  private sweep(key: string, now: number): Set<SimTask> {
    const running = this.inFlight.get(key) ?? new Set<SimTask>();
    for (const t of running) if (t.readyAt <= now) this.finalize(t);
    return running;
  }

  private finalize(task: SimTask): void {
    if (task.finalized) return;
    task.finalized = true;
    const running = this.inFlight.get(task.key);
    if (running?.delete(task)) {
      this.stats.inFlight--;
      keyStats(this.stats, task.key).inFlight = running.size;
    }
    this.stats.completed++;
    bump(this.stats.byStatus, task.canceled ? 'Canceled' : task.outcome);
    this.opts.onFinal?.(task);
  }
}
