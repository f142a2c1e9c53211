import path from 'node:path';
import { UserError } from '../../errors.js';
import { EXPORT_FORMATS, exportImageFolder } from '../../export/imagefolder.js';
import { loadProject, readLockEntries } from '../../pipeline.js';
import { relative } from '../../report/format.js';
import { parseCommand } from '../args.js';
import { writeLine, type CliIO } from '../io.js';
import { EXIT } from '../main.js';

export async function exportCommand(argv: string[], io: CliIO): Promise<number> {
  const p = parseCommand(argv, { format: { type: 'string' }, force: { type: 'boolean' }, output: { type: 'string' }, split: { type: 'string' }, copy: { type: 'boolean' } }, 'export');
  const [manifestPath, dir, ...rest] = p.positionals;
  const usage = 'usage: flux-batch export <manifest> --format imagefolder <dir>';
  if (!manifestPath || !dir) throw new UserError('usage', `export: missing the ${manifestPath ? 'destination folder' : 'manifest file'}`, usage);
  if (rest.length) throw new UserError('usage', `export: unexpected argument "${rest[0]}"`, usage);
  const format = String(p.values.format ?? 'imagefolder');
  if (!(EXPORT_FORMATS as readonly string[]).includes(format)) throw new UserError('usage', `export: unknown --format "${format}"`, `formats: ${EXPORT_FORMATS.join(', ')}`);
  const raw = p.values.output as string | undefined;
  const output = raw === undefined ? 0 : /^\d+$/.test(raw) ? Number(raw) : raw;
  const project = await loadProject({ manifestPath, configFile: p.flags.config, overrides: { provider: p.flags.provider } });
  const r = await exportImageFolder(project, await readLockEntries(project.lockPath), {
    dir: path.resolve(io.cwd, dir),
    force: Boolean(p.values.force),
    output,
    split: p.values.split as string | undefined,
    copy: Boolean(p.values.copy),
  });
  if (p.flags.json) {
    writeLine(io.stdout, JSON.stringify(r));
    return EXIT.ok;
  }
  for (const s of p.flags.verbose ? r.skipped : []) writeLine(io.stdout, `skipped  ${s.id}  ${s.reason}`);
  const skipped = r.skipped.length ? `, ${r.skipped.length} skipped (not done, or without that output${p.flags.verbose ? '' : '; --verbose lists them'})` : '';
  writeLine(io.stdout, `exported ${r.exported} image${r.exported === 1 ? '' : 's'} (${r.linked} hard-linked) to ${relative(r.dir, io.cwd)}${skipped}; metadata in ${relative(r.metadata, io.cwd)}`);
  return EXIT.ok;
}
