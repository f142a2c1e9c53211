// From original bytes to outputs on disk: cache the original (before sharp touches it), run the
// sharp recipe, write each output atomically, then journal. A kill between any two steps leaves
// a state the next run picks up from (cached original → rebuild).
import path from 'node:path';
import { stat } from 'node:fs/promises';
import { writeFileAtomic, sha256 } from '../fs/atomic.js';
import type { LockEntry, LockOutput } from '../lock/entry.js';
import type { OutputStatCache } from '../lock/stat-cache.js';
import { expectedOutputs, type OriginalRef } from '../plan/outputs.js';
import { processImage } from '../post/process.js';
import { embedProvenance, pinnedSeed, provenanceRecord } from '../post/provenance.js';
import type { Job } from '../types.js';

export interface FinishContext {
  manifestDir: string;
  outputDir: string;
  limitInputPixels?: number;
  /** Remembers what was written, so the next run's up-to-date check needs no hashing. */
  stats?: OutputStatCache;
  /** Runs the CPU-bound part (sharp) under the caller's limit; file writes stay outside it. */
  cpu?: <T>(fn: () => Promise<T>) => Promise<T>;
}

/** Post-process `original` and write every output; returns the lock records of the outputs. */
export async function writeOutputs(job: Job, original: Buffer, ref: OriginalRef, ctx: FinishContext): Promise<LockOutput[]> {
  const want = expectedOutputs(job, ref, ctx.manifestDir, ctx.outputDir);
  const process = () => processImage(original, job.post, job.outputs, { limitInputPixels: ctx.limitInputPixels, originalSha: ref.sha256 });
  const made = await (ctx.cpu ? ctx.cpu(process) : process());
  const provenance = job.provenance === 'embed' ? provenanceRecord(job, { seed: pinnedSeed(job, ctx), source: ref.sha256 }) : undefined;
  const records: LockOutput[] = [];
  for (const [i, w] of want.entries()) {
    const out = made[i];
    if (!out) throw new Error(`post-processing of ${job.id} made ${made.length} outputs, expected ${want.length}`);
    const data = provenance ? embedProvenance(out.data, out.ext, provenance) : out.data;
    const abs = path.join(ctx.manifestDir, w.path);
    // Atomic (never half-written) but not fsynced: an output lost to a power cut is detected by size
    // and hash on the next run and rebuilt from the cached original, which is fsynced.
    await writeFileAtomic(abs, data, { fsync: false });
    const st = await stat(abs);
    // Unchanged original bytes (no post, no outputs, no provenance): its hash is known.
    const sha = data === original ? ref.sha256 : sha256(data);
    ctx.stats?.remember(abs, st, sha);
    records.push({ path: w.path, sha256: sha, recipe: w.recipe, bytes: data.length, mtimeMs: st.mtimeMs });
  }
  return records;
}

/** The journal record of a job in a given state; fields the state does not have are dropped. */
export function lockEntry(job: Job, provider: LockEntry['provider'], patch: Partial<LockEntry> & Pick<LockEntry, 'state'>, prev?: LockEntry): LockEntry {
  const base: LockEntry = {
    id: job.id,
    key: job.key,
    model: job.model,
    provider,
    state: patch.state,
    seed: patch.seed ?? prev?.seed,
    attempts: patch.attempts ?? prev?.attempts,
    cost: patch.cost ?? prev?.cost,
  };
  if (patch.state === 'submitted' || patch.state === 'ready') base.task = patch.task ?? prev?.task;
  if (patch.state === 'cached' || patch.state === 'done') base.original = patch.original ?? prev?.original;
  if (patch.state === 'done') base.outputs = patch.outputs;
  if (patch.state === 'failed') base.error = patch.error;
  for (const k of Object.keys(base) as (keyof LockEntry)[]) if (base[k] === undefined) delete base[k];
  return base;
}
