// The lockfile is the journal (DESIGN decision 3): every job event appends one full snapshot line and is
// fsynced before `append` resolves; nothing rewrites the file except compaction at the end of a run.
import { appendFile, mkdir, open, type FileHandle } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { removeStaleTemps, writeFileAtomic } from '../fs/atomic.js';
import { isLockEntry, orderEntry, serializeEntry, type LockEntry } from './entry.js';
import { acquireProcessLock, type ProcessLock } from './process-lock.js';
import { LOCK_HEADER, readLock } from './read.js';

export { lockPathFor } from './paths.js';

/** The last record per job id, without taking the lock (plan, gc, status). Missing file → empty. */
export async function readLockEntries(lockPath: string): Promise<Map<string, LockEntry>> {
  return (await readLock(lockPath)).entries;
}

export interface LockJournalOptions {
  /** Take `<lock>.pid` so two runs on one manifest cannot interleave. Default true. */
  processLock?: boolean;
  /** fsync every batch of appends. Default true; only benches should turn it off. */
  fsync?: boolean;
  /** Wait this long before a flush to gather more appends into one fsync. Default 0: appends made in
   *  the same tick, or while a flush is on disk, already share one fsync. */
  groupCommitMs?: number;
  /** Clock for `updatedAt` (tests). */
  now?: () => Date;
}

export interface JournalRecovery {
  /** 1-based line numbers that were not valid entries and were ignored. */
  droppedLines: number[];
  /** Bytes of torn or garbled tail cut off so new lines do not glue onto it. */
  truncatedBytes: number;
  /** Where invalid lines from the middle of the file were copied (`<lock>.garbled`), if there were any. */
  rescuedTo?: string;
}

export interface CompactOptions {
  /** Keep only the jobs for which this returns true (e.g. jobs still in the manifest). Default: all. */
  keep?: (id: string) => boolean;
}

export interface CompactResult {
  kept: number;
  removed: number;
  bytes: number;
}

interface Pending {
  line: string;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export class LockJournal {
  private pending: Pending[] = [];
  private flushScheduled = false;
  private flushing = false;
  private failure: unknown;
  private closed = false;
  /** Serialises flushes, compaction and close: they all use or swap the file handle. */
  private chain: Promise<void> = Promise.resolve();

  private constructor(
    readonly path: string,
    private fh: FileHandle,
    private readonly map: Map<string, LockEntry>,
    readonly recovery: JournalRecovery,
    private readonly pidLock: ProcessLock | undefined,
    private readonly opts: LockJournalOptions,
  ) {}

  static async open(lockPath: string, opts: LockJournalOptions = {}): Promise<LockJournal> {
    await mkdir(dirname(lockPath), { recursive: true });
    const pidLock = opts.processLock === false ? undefined : await acquireProcessLock(lockPath);
    try {
      // Temps of a compaction that a killed run left behind.
      await removeStaleTemps(dirname(lockPath), { target: basename(lockPath) });
      const snap = await readLock(lockPath);
      // Compaction would drop garbled lines for good: keep their text beside the lock for a human.
      const rescuedTo = snap.garbled.length > 0 ? `${lockPath}.garbled` : undefined;
      if (rescuedTo) await appendFile(rescuedTo, snap.garbled.map((l) => `${l}\n`).join(''));
      if (!snap.exists) await writeFileAtomic(lockPath, `${LOCK_HEADER}\n`, { fsync: opts.fsync ?? true });
      const fh = await open(lockPath, 'a');
      const truncatedBytes = snap.exists ? snap.totalBytes - snap.validBytes : 0;
      if (truncatedBytes > 0) {
        await fh.truncate(snap.validBytes);
        await fh.datasync();
      }
      const recovery = { droppedLines: snap.droppedLines, truncatedBytes, rescuedTo };
      for (const [id, e] of snap.entries) snap.entries.set(id, deepFreeze(e));
      return new LockJournal(lockPath, fh, snap.entries, recovery, pidLock, opts);
    } catch (err) {
      await pidLock?.release();
      throw err;
    }
  }

  /** The last record for a job. Frozen: to change it, append a new snapshot. */
  get(id: string): LockEntry | undefined {
    return this.map.get(id);
  }

  has(id: string): boolean {
    return this.map.has(id);
  }

  get size(): number {
    return this.map.size;
  }

  entries(): LockEntry[] {
    return [...this.map.values()];
  }

  private appendCount = 0;

  /**
   * Whether `compact` would change the file: something was appended since it was opened, or it
   * still holds journal records (only compaction drops their `updatedAt`), or a job is to go.
   */
  needsCompaction(keep: (id: string) => boolean = () => true): boolean {
    if (this.appendCount > 0 || this.recovery.droppedLines.length > 0) return true;
    for (const e of this.map.values()) if (e.updatedAt !== undefined || !keep(e.id)) return true;
    return false;
  }

  /** Live read-only view of the last record per id (it follows later appends). */
  entriesMap(): ReadonlyMap<string, LockEntry> {
    return this.map;
  }

  /** Record a full snapshot of one job's entry; resolves once the line is on disk. */
  append(entry: LockEntry): Promise<void> {
    if (this.closed) return Promise.reject(new Error(`lock journal ${this.path} is closed`));
    if (this.failure !== undefined) return Promise.reject(this.failure);
    const stamped = { ...entry, updatedAt: (this.opts.now?.() ?? new Date()).toISOString() };
    if (!isLockEntry(stamped)) {
      return Promise.reject(new TypeError(`not a valid lock entry: ${JSON.stringify(entry).slice(0, 200)}`));
    }
    const stored = deepFreeze(orderEntry(stamped));
    this.map.set(stored.id, stored);
    this.appendCount++;
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ line: `${serializeEntry(stored)}\n`, resolve, reject });
      this.scheduleFlush();
    });
  }

  /** Resolves when every append made so far is on disk. */
  flush(): Promise<void> {
    return this.exclusive(() => this.drain());
  }

  /**
   * Rewrite the lock as one line per kept job, sorted by first output path (then id), keys in a fixed
   * order, no timestamps: the same results give a byte-identical file. Appends continue on the new file.
   */
  compact(opts: CompactOptions = {}): Promise<CompactResult> {
    return this.exclusive(async () => {
      this.assertUsable();
      // Lines not yet written are in the map, so the compacted file carries them.
      const carried = this.pending.splice(0);
      try {
        const kept = [...this.map.values()].filter((e) => opts.keep?.(e.id) ?? true);
        const removed = this.map.size - kept.length;
        const text = renderCompacted(kept);
        await writeFileAtomic(this.path, text, { fsync: this.opts.fsync ?? true });
        await this.fh.close();
        this.fh = await open(this.path, 'a');
        const keepIds = new Set(kept.map((e) => e.id));
        for (const id of [...this.map.keys()]) if (!keepIds.has(id)) this.map.delete(id);
        for (const p of carried) p.resolve();
        return { kept: kept.length, removed, bytes: Buffer.byteLength(text) };
      } catch (err) {
        this.fail(err, carried);
        throw err;
      }
    });
  }

  /** Flush, close the file and release the process lock. Safe to call twice. A failed write was
   *  already reported to its `append`, so close does not throw it again. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.exclusive(() => this.drain()).catch(() => undefined);
      await this.fh.close().catch(() => undefined);
    } finally {
      await this.pidLock?.release();
    }
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.flushing) return;
    this.flushScheduled = true;
    const start = (): void => {
      this.flushScheduled = false;
      this.flushing = true;
      void this.exclusive(() => this.drain())
        .catch(() => undefined) // reported to each append's promise
        .finally(() => {
          this.flushing = false;
          if (this.pending.length > 0) this.scheduleFlush();
        });
    };
    const ms = this.opts.groupCommitMs ?? 0;
    if (ms > 0) setTimeout(start, ms);
    else setImmediate(start);
  }

  /** Write and fsync batches until nothing is pending; appends made meanwhile join the next batch. */
  private async drain(): Promise<void> {
    while (this.pending.length > 0 && this.failure === undefined) {
      const batch = this.pending.splice(0);
      try {
        await writeAll(this.fh, Buffer.from(batch.map((p) => p.line).join('')));
        if (this.opts.fsync ?? true) await this.fh.datasync();
      } catch (err) {
        this.fail(err, batch);
        throw err;
      }
      for (const p of batch) p.resolve();
    }
  }

  /** A failed write leaves the file in an unknown state: refuse further appends rather than guess. */
  private fail(err: unknown, batch: Pending[]): void {
    this.failure = err;
    for (const p of [...batch, ...this.pending.splice(0)]) p.reject(err);
  }

  private assertUsable(): void {
    if (this.closed) throw new Error(`lock journal ${this.path} is closed`);
    if (this.failure !== undefined) throw this.failure;
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn);
    this.chain = run.then(() => undefined, () => undefined);
    return run;
  }
}

/** The compacted text: header, then entries sorted by first output path (code-unit order, not locale). */
export function renderCompacted(entries: Iterable<LockEntry>): string {
  const rows = [...entries].map((e) => ({ sortKey: e.outputs?.[0]?.path ?? e.id, e }));
  rows.sort((a, b) => compare(a.sortKey, b.sortKey) || compare(a.e.id, b.e.id));
  return [LOCK_HEADER, ...rows.map((r) => serializeEntry(r.e, { stable: true }))].join('\n') + '\n';
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

async function writeAll(fh: FileHandle, buf: Buffer): Promise<void> {
  let off = 0;
  while (off < buf.length) off += (await fh.write(buf, off, buf.length - off)).bytesWritten;
}

function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const child of Object.values(v)) deepFreeze(child);
  }
  return v;
}
