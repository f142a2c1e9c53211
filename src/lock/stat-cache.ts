// Remembers which output files were already verified, by their stat stamp, so a no-op rerun over
// thousands of outputs checks sizes and times instead of hashing every byte. It lives in the cache
// folder, not in the lock: timestamps differ per checkout and would break the byte-stable lock.
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../fs/atomic.js';

/** size, mtimeMs, ctimeMs, ino, sha256 of a file as last verified. */
type Stamp = [number, number, number, number, string];

interface StatLike {
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
}

const FORMAT = 1;

export function statCachePathFor(cacheDir: string): string {
  return join(cacheDir, 'stat-cache.json');
}

export class OutputStatCache {
  private dirty = false;

  private constructor(
    readonly file: string | undefined,
    private readonly stamps: Map<string, Stamp>,
  ) {}

  /** Load from `file`; a missing or unreadable file is an empty cache (it is only a hint). */
  static async load(file: string): Promise<OutputStatCache> {
    const stamps = new Map<string, Stamp>();
    try {
      const raw = JSON.parse(await readFile(file, 'utf8')) as { 'flux-batch-stat'?: number; files?: Record<string, Stamp> };
      if (raw['flux-batch-stat'] === FORMAT && raw.files) {
        for (const [path, stamp] of Object.entries(raw.files)) if (isStamp(stamp)) stamps.set(path, stamp);
      }
    } catch {
      // start empty
    }
    return new OutputStatCache(file, stamps);
  }

  /** A cache that is never saved (tests, one-off checks). */
  static inMemory(): OutputStatCache {
    return new OutputStatCache(undefined, new Map());
  }

  /** True when the file at `absPath` still has the stamp it had when it was verified with `sha`. */
  matches(absPath: string, st: StatLike, sha: string): boolean {
    const s = this.stamps.get(absPath);
    return s !== undefined && s[0] === st.size && s[1] === st.mtimeMs && s[2] === st.ctimeMs &&
      s[3] === st.ino && s[4] === sha;
  }

  remember(absPath: string, st: StatLike, sha: string): void {
    this.stamps.set(absPath, [st.size, st.mtimeMs, st.ctimeMs, st.ino, sha]);
    this.dirty = true;
  }

  /** Stat a file just written with known content and remember it. */
  async recordWritten(absPath: string, sha: string): Promise<void> {
    this.remember(absPath, await stat(absPath), sha);
  }

  forget(absPath: string): void {
    if (this.stamps.delete(absPath)) this.dirty = true;
  }

  async save(): Promise<void> {
    if (!this.file || !this.dirty) return;
    const files = Object.fromEntries([...this.stamps].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    // No fsync: losing this file only costs one rehash.
    await writeFileAtomic(this.file, JSON.stringify({ 'flux-batch-stat': FORMAT, files }), { fsync: false });
    this.dirty = false;
  }
}

function isStamp(v: unknown): v is Stamp {
  return Array.isArray(v) && v.length === 5 && v.slice(0, 4).every((n) => typeof n === 'number') &&
    typeof v[4] === 'string';
}
