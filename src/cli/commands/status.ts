import { loadProject, planProject, readLockEntries } from '../../pipeline.js';
import type { PlannedJob } from '../../plan/index.js';
import { relative } from '../../report/format.js';
import { writeLine, type CliIO } from '../io.js';
import { EXIT } from '../main.js';
import { parseManifestCommand, projectOptions } from './shared.js';

export type JobStatus = 'done' | 'stale' | 'pending' | 'failed';

/** done: outputs intact; stale: generated before but changed or missing; pending: never finished; failed. */
export function statusOf(p: PlannedJob): JobStatus {
  if (p.action === 'skip') return 'done';
  if (p.action === 'failed') return 'failed';
  if (p.action === 'rebuild') return 'stale';
  if (p.action === 'resume' || !p.entry) return 'pending';
  return p.entry.state === 'done' || p.entry.state === 'cached' ? 'stale' : 'pending';
}

export async function statusCommand(argv: string[], io: CliIO): Promise<number> {
  const p = parseManifestCommand(argv, {}, 'status');
  const opts = projectOptions(p, 'status');
  const project = await loadProject(opts);
  const planned = await planProject(project, await readLockEntries(project.lockPath), { retryFailed: false });
  const totals: Record<JobStatus, number> = { done: 0, stale: 0, pending: 0, failed: 0 };
  const jobs = planned.map((x) => {
    const status = statusOf(x);
    totals[status]++;
    return { id: x.job.id, name: x.job.name, status, reason: x.reason, ...(x.entry?.error ? { error: x.entry.error.reason } : {}) };
  });
  if (p.flags.json) {
    writeLine(io.stdout, JSON.stringify({ file: project.manifest.file, lock: project.lockPath, totals, jobs }));
    return EXIT.ok;
  }
  const show = p.flags.verbose ? jobs : jobs.filter((j) => j.status !== 'done');
  for (const j of show) writeLine(io.stdout, `${j.status.padEnd(8)} ${j.id}  ${j.status === 'failed' ? j.error ?? j.reason : j.reason}`);
  writeLine(io.stdout, `${relative(project.manifest.file, io.cwd)}: ${jobs.length} jobs — done ${totals.done}, stale ${totals.stale}, pending ${totals.pending}, failed ${totals.failed}`);
  return EXIT.ok;
}
