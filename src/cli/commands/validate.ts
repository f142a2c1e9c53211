import { loadProject } from '../../pipeline.js';
import { relative } from '../../report/format.js';
import { writeLine, type CliIO } from '../io.js';
import { EXIT } from '../main.js';
import { parseManifestCommand, projectOptions } from './shared.js';

export async function validateCommand(argv: string[], io: CliIO): Promise<number> {
  const p = parseManifestCommand(argv, {}, 'validate');
  const project = await loadProject(projectOptions(p, 'validate'));
  const { manifest, config } = project;
  if (p.flags.json) {
    writeLine(io.stdout, JSON.stringify({ ok: true, file: manifest.file, provider: config.provider, jobs: manifest.jobs.length, issues: [] }));
  } else {
    const names = new Set(manifest.jobs.map((j) => j.name)).size;
    writeLine(io.stdout, `${relative(manifest.file, io.cwd)}: valid — ${names} job${names === 1 ? '' : 's'} expanding to ${manifest.jobs.length} image${manifest.jobs.length === 1 ? '' : 's'} (provider ${config.provider})`);
  }
  return EXIT.ok;
}
