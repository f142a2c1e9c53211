import { planProject, loadProject, readLockEntries } from '../../pipeline.js';
import { summarizePlan } from '../../plan/index.js';
import { formatPlan } from '../../report/format.js';
import { writeLine, type CliIO } from '../io.js';
import { EXIT } from '../main.js';
import { PLAN_FLAGS, parseManifestCommand, projectOptions } from './shared.js';

export async function planCommand(argv: string[], io: CliIO): Promise<number> {
  const p = parseManifestCommand(argv, { ...PLAN_FLAGS, jobs: { type: 'boolean' } }, 'plan');
  const opts = projectOptions(p, 'plan');
  const project = await loadProject(opts);
  const planned = await planProject(project, await readLockEntries(project.lockPath), opts);
  const summary = summarizePlan(planned);
  const jobs = planned.map((x) => ({ id: x.job.id, name: x.job.name, model: x.job.model, path: x.job.path, key: x.job.key, action: x.action, reason: x.reason }));
  if (p.flags.json) {
    writeLine(io.stdout, JSON.stringify({ file: project.manifest.file, provider: project.config.provider, ...summary, jobs }));
  } else {
    writeLine(io.stdout, formatPlan(summary, { file: project.manifest.file, provider: project.config.provider, jobs: p.values.jobs ? jobs : undefined }));
  }
  return EXIT.ok;
}
