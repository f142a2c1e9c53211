import { runManifest } from '../../pipeline.js';
import { formatSummary, relative } from '../../report/format.js';
import { listrReporter } from '../../report/listr.js';
import { jsonReporter, plainReporter } from '../../report/plain.js';
import type { RunEvent } from '../../run/events.js';
import { redact } from '../../providers/redact.js';
import { writeLine, type CliIO } from '../io.js';
import { EXIT } from '../main.js';
import { PLAN_FLAGS, parseManifestCommand, projectOptions } from './shared.js';

export async function runCommand(argv: string[], io: CliIO): Promise<number> {
  const p = parseManifestCommand(argv, PLAN_FLAGS, 'run');
  const opts = projectOptions(p, 'run');
  const groups = new Map<string, number>();
  let view: ReturnType<typeof listrReporter> | undefined;
  let emit: (e: RunEvent) => void;
  if (p.flags.json) emit = jsonReporter(io.stdout);
  else if (io.interactive && !p.flags.verbose) {
    // The listr2 view needs the job groups, known only once the manifest is loaded: start it lazily.
    const plain = plainReporter(io.stdout, false);
    emit = (e) => {
      if (e.type === 'start') view = listrReporter(groups, io.stdout);
      if (view) view.emit(e);
      else plain(e);
    };
  } else emit = plainReporter(io.stdout, p.flags.verbose);
  const result = await runManifest({
    ...opts,
    signal: io.signal,
    env: io.env,
    emit,
    onProject: (project) => {
      for (const j of project.manifest.jobs) groups.set(j.name, (groups.get(j.name) ?? 0) + 1);
    },
  });
  await view?.done();
  const s = result.summary;
  if (!p.flags.json) {
    writeLine(io.stdout, redact(formatSummary(s)));
    const report = result.artifacts.written.concat(result.artifacts.unchanged).find((f) => f.endsWith('report.html'));
    if (report) writeLine(io.stdout, `  gallery: ${relative(report, io.cwd)}`);
  }
  if (io.signal?.aborted || s.interrupted > 0) return EXIT.interrupted;
  return s.failed > 0 ? EXIT.failed : EXIT.ok;
}
