// The in-flight window (DESIGN decision 7): slots count tasks submitted and not yet ready. A global
// window, shrunk multiplicatively by 429s and grown additively by successful submits (AIMD), and
// a fixed per-model limit under it (flux-kontext-max: 6). Built on p-limit, whose concurrency can
// change while it runs.
import pLimit, { type LimitFunction } from 'p-limit';

export class InFlightWindow {
  private readonly global: LimitFunction;
  private readonly models = new Map<string, LimitFunction>();
  private credit = 0;
  private lastDecrease = -Infinity;

  constructor(
    readonly max: number,
    private readonly modelLimit: (model: string) => number,
    private readonly now: () => number = Date.now,
  ) {
    this.global = pLimit(max);
  }

  get size(): number {
    return this.global.concurrency;
  }

  get active(): number {
    return this.global.activeCount;
  }

  /** Run `fn` holding one slot of the model's limit and one of the global window. */
  run<T>(model: string, fn: () => Promise<T>): Promise<T> {
    let limit = this.models.get(model);
    if (!limit) {
      limit = pLimit(Math.max(1, Math.min(this.max, this.modelLimit(model))));
      this.models.set(model, limit);
    }
    // Model first, so a job waiting on its model's limit holds no global slot.
    return limit(() => this.global(fn));
  }

  /** A 429: halve the window, at most once a second (a burst of 429s is one congestion signal). */
  onRateLimited(): boolean {
    const t = this.now();
    if (t - this.lastDecrease < 1000) return false;
    this.lastDecrease = t;
    this.global.concurrency = Math.max(1, Math.floor(this.global.concurrency / 2));
    this.credit = 0;
    return true;
  }

  /** A submit that went through: grow by one slot per window's worth of successes. */
  onAccepted(): void {
    if (this.global.concurrency >= this.max) return;
    this.credit += 1;
    if (this.credit >= this.global.concurrency) {
      this.credit = 0;
      this.global.concurrency = Math.min(this.max, this.global.concurrency + 1);
    }
  }
}
