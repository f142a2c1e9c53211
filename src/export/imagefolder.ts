// Dataset export in Hugging Face's ImageFolder layout: `<dir>/<split>/<job path>.<ext>` plus
// `<dir>/<split>/metadata.jsonl`, one line per image with file_name, prompt, seed, model, job and
// the matrix variables (every line has every column, null where a job lacks one, so the `datasets`
// loader infers one schema). Only finished jobs whose outputs are intact are exported; files are
// hard-linked when the folder is on the same file system (a rebuild replaces an output by rename,
// so the link keeps the exported bytes), copied otherwise.
import { copyFile, link, mkdir, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { UserError } from '../errors.js';
import { writeFileAtomic } from '../fs/atomic.js';
import type { LockEntry } from '../lock/entry.js';
import { intactIds } from '../lock/status.js';
import type { Project } from '../pipeline.js';
import { pickOutput, type OutputSelector } from '../post/atlas-spec.js';

export const EXPORT_FORMATS = ['imagefolder'] as const;

export interface ImageFolderOptions {
  dir: string;
  /** Replace the split folder when `dir` is not empty. */
  force?: boolean;
  /** Which output of each job (default 0). */
  output?: OutputSelector;
  /** Split folder name (default `train`). */
  split?: string;
  /** Always copy, never hard-link. */
  copy?: boolean;
}

export interface ExportResult {
  dir: string;
  metadata: string;
  exported: number;
  linked: number;
  skipped: { id: string; reason: string }[];
}

export type MetadataRow = Record<string, string | number | boolean | null>;

export async function exportImageFolder(project: Project, entries: ReadonlyMap<string, LockEntry>, opts: ImageFolderOptions): Promise<ExportResult> {
  const { manifest } = project;
  const split = opts.split ?? 'train';
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(split)) throw new UserError('usage', `--split must be a plain folder name, got "${split}"`);
  const dir = path.resolve(opts.dir);
  const splitDir = path.join(dir, split);
  const inside = (child: string, parent: string) => !path.relative(parent, child).startsWith('..') && !path.isAbsolute(path.relative(parent, child));
  if (inside(manifest.outputDir, splitDir) || inside(manifest.dir, splitDir)) {
    throw new UserError('usage', `export folder ${splitDir} contains the project's outputs`, 'export to a folder outside the project');
  }
  const existing = await readdir(dir).catch(() => [] as string[]);
  if (existing.length > 0 && !opts.force) {
    throw new UserError('usage', `export folder ${dir} is not empty`, `choose an empty or new folder, or pass --force to replace ${path.join(dir, split)}`);
  }
  await rm(splitDir, { recursive: true, force: true });

  const done = manifest.jobs.map((j) => entries.get(j.id)).filter((e): e is LockEntry => e?.state === 'done');
  const intact = await intactIds(done, manifest.dir);
  const rows: MetadataRow[] = [];
  const skipped: ExportResult['skipped'] = [];
  let linked = 0;
  for (const job of manifest.jobs) {
    const entry = entries.get(job.id);
    const why = !entry ? 'not generated yet' : entry.state === 'failed' ? `failed: ${entry.error?.reason ?? 'error'}` : entry.state !== 'done' ? `not finished (${entry.state})` : !intact.has(job.id) ? 'outputs missing or changed since the run (run again)' : undefined;
    const out = why ? undefined : pickOutput(job, entry!.outputs, opts.output ?? 0);
    if (!out) {
      skipped.push({ id: job.id, reason: why ?? `has no output ${JSON.stringify(opts.output)}` });
      continue;
    }
    const src = path.resolve(manifest.dir, out.path);
    const fileName = `${job.path}${path.extname(out.path)}`;
    const dst = path.join(splitDir, ...fileName.split('/'));
    await mkdir(path.dirname(dst), { recursive: true });
    if (!opts.copy && (await link(src, dst).then(() => true, () => false))) linked++;
    else await copyFile(src, dst);
    const seed = entry!.seed ?? (typeof job.request.seed === 'number' ? job.request.seed : null);
    rows.push({ file_name: fileName, prompt: typeof job.request.prompt === 'string' ? job.request.prompt : '', seed, model: job.model, job: job.name, ...job.vars });
  }
  const metadata = path.join(splitDir, 'metadata.jsonl');
  await mkdir(splitDir, { recursive: true });
  await writeFileAtomic(metadata, metadataJsonl(rows), { fsync: false });
  return { dir, metadata, exported: rows.length, linked, skipped };
}

const CORE = ['file_name', 'prompt', 'seed', 'model', 'job'];

/** One JSON object per line, sorted by file_name, core columns first, then the variables A→Z. */
export function metadataJsonl(rows: MetadataRow[]): string {
  const vars = [...new Set(rows.flatMap((r) => Object.keys(r)))].filter((k) => !CORE.includes(k)).sort();
  const columns = [...CORE, ...vars];
  return [...rows]
    .sort((a, b) => (String(a.file_name) < String(b.file_name) ? -1 : 1))
    .map((r) => `${JSON.stringify(Object.fromEntries(columns.map((c) => [c, r[c] ?? null])))}\n`)
    .join('');
}
