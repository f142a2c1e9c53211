// Two jobs (or cells) writing the same file is an error, also when only the letter case differs
// (macOS and Windows folders ignore case).
import type { BuiltJob } from './build.js';
import { formatPath, type IssueSink } from './issues.js';

export function checkPathCollisions(built: BuiltJob[], sink: IssueSink): void {
  const owners = new Map<string, [BuiltJob, string]>();
  const reported = new Set<string>();
  for (const b of built) {
    const stems = b.job.outputs.length ? [...new Set(b.job.outputs.map((o) => b.job.path + o.suffix))] : [b.job.path];
    for (const stem of stems) {
      const id = stem.toLowerCase();
      const owner = owners.get(id);
      if (!owner) {
        owners.set(id, [b, stem]);
        continue;
      }
      const [first, firstStem] = owner;
      const pair = `${first.job.name}\0${b.job.name}\0${formatPath(b.pathAt)}`;
      if (reported.has(pair)) continue;
      reported.add(pair);
      const who = (x: BuiltJob) => `job \`${x.job.name}\` cell ${x.job.index}`;
      const caseOnly = firstStem !== stem ? ` as ${JSON.stringify(firstStem)} (paths differing only in case collide on macOS and Windows)` : '';
      sink.add({
        code: 'path-collision',
        path: b.pathAt,
        message: `output path ${JSON.stringify(stem)} of ${who(b)} is also written by ${who(first)}${caseOnly}`,
        received: stem,
        hint:
          first.job.name === b.job.name
            ? 'put every matrix variable that varies (e.g. `{seed}`) in `path`, or drop `path` to use the default'
            : 'give the jobs different `path` templates (start them with `{job}/`)',
      });
    }
  }
}
