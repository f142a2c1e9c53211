// Are a job's recorded outputs still on disk, unchanged? Size first, then a stat stamp (the stat cache,
// or the mtime journalled at write time), and only when those disagree the sha256, so a no-op rerun
// over thousands of outputs stays fast.
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { sha256File } from '../fs/atomic.js';
import type { LockEntry } from './entry.js';
import type { OutputStatCache } from './stat-cache.js';

export interface OutputsIntactOptions {
  /** Verified stamps from earlier runs; updated with files hashed now. Without it every file is hashed. */
  stats?: OutputStatCache;
}

/** Every recorded output exists with its recorded size and sha256. No recorded outputs → false. */
export async function outputsIntact(
  entry: LockEntry,
  manifestDir: string,
  opts: OutputsIntactOptions = {},
): Promise<boolean> {
  if (!entry.outputs || entry.outputs.length === 0) return false;
  for (const out of entry.outputs) {
    const abs = resolve(manifestDir, out.path);
    const st = await stat(abs).catch(() => undefined);
    if (!st?.isFile() || st.size !== out.bytes) {
      opts.stats?.forget(abs);
      return false;
    }
    if (opts.stats?.matches(abs, st, out.sha256)) continue;
    // Journalled right after our own write (until compaction drops it): unchanged size and mtime.
    if (out.mtimeMs !== undefined && st.mtimeMs === out.mtimeMs) {
      opts.stats?.remember(abs, st, out.sha256);
      continue;
    }
    if ((await sha256File(abs)) !== out.sha256) {
      opts.stats?.forget(abs);
      return false;
    }
    opts.stats?.remember(abs, st, out.sha256);
  }
  return true;
}

export interface CheckOutputsOptions extends OutputsIntactOptions {
  /** Entries checked at once. Default 64. */
  concurrency?: number;
}

/** `outputsIntact` for many entries: the ids whose outputs are intact. */
export async function intactIds(
  entries: Iterable<LockEntry>,
  manifestDir: string,
  opts: CheckOutputsOptions = {},
): Promise<Set<string>> {
  const list = [...entries];
  const intact = new Set<string>();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < list.length) {
      const entry = list[next++]!;
      if (await outputsIntact(entry, manifestDir, opts)) intact.add(entry.id);
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.concurrency ?? 64, list.length) }, worker));
  return intact;
}
