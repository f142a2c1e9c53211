// The provenance sidecars: `<job path>.json` beside the outputs of every finished job that asks
// for `provenance:`, written from the lock after the run (so the seed the API picked is there).
// Same facts, same bytes: a sidecar is rewritten only when its content changes.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ArtifactContext, ArtifactResult } from '../artifacts/index.js';
import { writeFileAtomic } from '../fs/atomic.js';
import type { LockEntry } from '../lock/entry.js';
import { provenanceRecord, type ProvenanceSidecar } from '../post/provenance.js';
import type { Job, Manifest } from '../types.js';

/** Where a job's sidecar goes: its path plus `.json`, inside the output folder. */
export function sidecarPath(manifest: Pick<Manifest, 'outputDir'>, job: Pick<Job, 'path'>): string {
  return path.join(manifest.outputDir, `${job.path}.json`);
}

export function sidecarFor(job: Job, entry: LockEntry, manifest: Manifest): ProvenanceSidecar | undefined {
  if (entry.state !== 'done' || !entry.original) return undefined;
  const dir = path.dirname(sidecarPath(manifest, job));
  const record = provenanceRecord(job, { seed: entry.seed, source: entry.original.sha256 });
  const outputs = (entry.outputs ?? []).map((o) => ({
    file: path.relative(dir, path.resolve(manifest.dir, o.path)).split(path.sep).join('/'),
    sha256: o.sha256,
  }));
  return { ...record, outputs };
}

export async function buildProvenanceSidecars(ctx: ArtifactContext): Promise<ArtifactResult> {
  const result: ArtifactResult = { written: [], unchanged: [] };
  const { manifest } = ctx.project;
  for (const job of manifest.jobs) {
    if (!job.provenance) continue;
    const entry = ctx.entries.get(job.id);
    const sidecar = entry && sidecarFor(job, entry, manifest);
    if (!sidecar) continue;
    const abs = sidecarPath(manifest, job);
    const text = `${JSON.stringify(sidecar, null, 2)}\n`;
    if ((await readFile(abs, 'utf8').catch(() => undefined)) === text) {
      result.unchanged.push(abs);
      continue;
    }
    await writeFileAtomic(abs, text, { fsync: false });
    result.written.push(abs);
  }
  return result;
}
