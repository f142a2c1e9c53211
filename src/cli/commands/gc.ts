import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { artifactMatcher } from '../../export/artifact-files.js';
import { OriginalCache } from '../../lock/cache.js';
import { loadProject, readLockEntries, type Project } from '../../pipeline.js';
import { relative } from '../../report/format.js';
import { parseCommand } from '../args.js';
import { writeLine, type CliIO } from '../io.js';
import { EXIT } from '../main.js';
import { UserError } from '../../errors.js';

export async function gcCommand(argv: string[], io: CliIO): Promise<number> {
  const p = parseCommand(argv, { outputs: { type: 'boolean' }, 'dry-run': { type: 'boolean' }, yes: { type: 'boolean', short: 'y' } }, 'gc');
  if (p.positionals.length === 0) throw new UserError('usage', 'gc: missing the manifest file', 'usage: flux-batch gc <manifest.yaml> [more manifests]');
  const dry = Boolean(p.values['dry-run']);
  const projects: Project[] = [];
  for (const file of p.positionals) projects.push(await loadProject({ manifestPath: file, configFile: p.flags.config, overrides: { provider: p.flags.provider } }));
  // Originals: keep every one any given lock refers to, per cache folder.
  const keepByCache = new Map<string, Set<string>>();
  const keepOutputs = new Set<string>();
  for (const project of projects) {
    const keep = keepByCache.get(project.cacheDir) ?? new Set<string>();
    keepByCache.set(project.cacheDir, keep);
    for (const e of (await readLockEntries(project.lockPath)).values()) {
      if (e.original) keep.add(e.original.sha256);
      for (const o of e.outputs ?? []) keepOutputs.add(path.resolve(project.manifest.dir, o.path));
    }
  }
  let removed = 0;
  let bytes = 0;
  for (const [dir, keep] of keepByCache) {
    const r = await new OriginalCache(dir).gc(keep, { dryRun: dry });
    removed += r.removed.length;
    bytes += r.bytes;
  }
  writeLine(io.stdout, `${dry ? 'would remove' : 'removed'} ${removed} cached original${removed === 1 ? '' : 's'} (${(bytes / 1e6).toFixed(1)} MB) that no lock refers to`);
  if (!p.values.outputs) return EXIT.ok;
  const orphans: string[] = [];
  for (const project of projects) {
    const isArtifact = artifactMatcher(project.manifest);
    for (const file of await listFiles(project.manifest.outputDir)) if (!keepOutputs.has(file) && isImage(file) && !isArtifact(file)) orphans.push(file);
  }
  for (const f of orphans) writeLine(io.stdout, `  ${dry || !p.values.yes ? 'orphan' : 'removing'} ${relative(f, io.cwd)}`);
  if (orphans.length === 0) writeLine(io.stdout, 'no orphaned output files');
  else if (dry) writeLine(io.stdout, `would remove ${orphans.length} output file(s)`);
  else if (!p.values.yes) writeLine(io.stdout, `${orphans.length} output file(s) no lock refers to; rerun with --yes to delete them`);
  else {
    await Promise.all(orphans.map((f) => rm(f, { force: true })));
    writeLine(io.stdout, `removed ${orphans.length} output file(s)`);
  }
  return EXIT.ok;
}

const IMAGE_EXT = /\.(png|jpe?g|webp|avif|tiff?|gif)$/i;
function isImage(f: string): boolean {
  return IMAGE_EXT.test(f);
}

async function listFiles(dir: string): Promise<string[]> {
  try {
    const entries = await readdir(dir, { recursive: true, withFileTypes: true });
    return entries.filter((e) => e.isFile()).map((e) => path.join(e.parentPath ?? (e as { path?: string }).path ?? dir, e.name));
  } catch {
    return [];
  }
}
