// The manifest stage: parse → document rules → schema → expand → per-cell rules → collisions.
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { InputIssue, Job, Manifest } from '../types.js';
import { resolveArtifacts } from './artifacts.js';
import { buildJob, type BuiltJob } from './build.js';
import { checkPathCollisions } from './collisions.js';
import { isPlain, jobsOf, type LoadManifestOptions, type ManifestContext } from './context.js';
import { countCells, expandCells, mergeJob, type MergedJob } from './expand.js';
import { ImageResolver } from './inputs.js';
import { IssueSink } from './issues.js';
import { normalizeOutputs, normalizePost } from './normalize.js';
import { DOCUMENT_RULES } from './rules.js';
import { checkSchema } from './schema.js';
import { checkText, decodeManifest, parseYaml } from './source.js';

export const DEFAULT_MAX_JOBS = 10_000;

/** Document-rule codes that make a job's matrix unusable. */
const SHAPE_CODES = new Set(['seed-invalid', 'seed-conflict', 'reserved-variable']);

export interface ManifestResult {
  /** Present only when there is no `error` issue. */
  manifest?: Manifest;
  issues: InputIssue[];
}

/** Validates and expands manifest text. Never throws for bad input: problems come back as issues. */
export function validateManifestText(text: string, file: string, opts: LoadManifestOptions): ManifestResult {
  const sink = new IssueSink(file);
  const binary = checkText(text);
  if (binary) {
    sink.addAt(binary);
    return { issues: sink.sorted() };
  }
  const parsed = parseYaml(text);
  sink.setLocator(parsed.locator);
  parsed.issues.forEach((i) => sink.addAt(i));
  if (sink.hasErrors()) return { issues: sink.sorted() };

  let data: unknown;
  try {
    data = parsed.doc.toJS({ maxAliasCount: 1000 });
  } catch (err) {
    sink.addAt({ code: 'yaml-syntax', path: '', line: 1, col: 1, severity: 'error', message: `the YAML cannot be read: ${(err as Error).message}` });
    return { issues: sink.sorted() };
  }
  if (!isPlain(data)) {
    sink.add({
      code: 'not-a-mapping',
      path: [],
      message: data == null ? 'the manifest is empty' : `the manifest must be a mapping (\`version: 1\`, \`jobs: …\`), got ${Array.isArray(data) ? 'a list' : `a ${typeof data}`}`,
      hint: 'start from the example in the README: `version: 1` then `jobs:`',
    });
    return { issues: sink.sorted() };
  }

  const dir = dirname(resolve(file));
  const ctx: ManifestContext = { file, dir, opts, data, sink, secretPaths: new Set() };
  for (const rule of DOCUMENT_RULES) rule(ctx);
  const dirty = checkSchema(data, sink, { skip: ctx.secretPaths });
  // Jobs whose shape is wrong are not expanded (their cells would only repeat the problem).
  for (const issue of sink.issues) {
    if (!SHAPE_CODES.has(issue.code)) continue;
    const m = /^(?:jobs\[(\d+)\]|(defaults))/.exec(issue.path);
    if (m?.[1] !== undefined) dirty.dirtyJobs.add(Number(m[1]));
    else if (m?.[2]) dirty.dirtyTop.add('defaults');
  }
  const jobs = dirty.dirtyTop.has('defaults') || dirty.dirtyTop.has('') ? [] : expandJobs(ctx, dirty.dirtyJobs);
  const artifacts = resolveArtifacts(ctx, jobs);
  if (sink.hasErrors()) return { issues: sink.sorted() };
  const manifest: Manifest = {
    file,
    dir,
    version: 1,
    outputDir: resolve(dir, typeof data.output === 'string' ? data.output : 'out'),
    jobs,
  };
  if (artifacts.atlases.length) manifest.atlases = artifacts.atlases;
  if (artifacts.contactSheets.length) manifest.contactSheets = artifacts.contactSheets;
  return { manifest, issues: sink.sorted() };
}

function expandJobs(ctx: ManifestContext, skip: Set<number>): Job[] {
  const defaults = isPlain(ctx.data.defaults) ? ctx.data.defaults : undefined;
  // A repeated name is reported by its rule; expanding it too would only add collisions.
  const names = new Set<string>();
  const merged: MergedJob[] = jobsOf(ctx.data)
    .filter(([i, job]) => {
      const name = String(job.name).toLowerCase();
      const fresh = !names.has(name);
      names.add(name);
      return fresh && !skip.has(i);
    })
    .map(([i, job]) => mergeJob(defaults, job, i));
  const maxJobs = ctx.opts.maxJobs ?? DEFAULT_MAX_JOBS;
  const total = merged.reduce((n, m) => n + countCells(m), 0);
  if (total > maxJobs) {
    ctx.sink.add({
      code: 'too-many-jobs',
      path: ['jobs'],
      atKey: true,
      message: `the manifest expands to ${total} jobs, more than the limit of ${maxJobs}`,
      received: String(total),
      hint: `raise the limit with --max-jobs ${total} if you mean it, or shrink the matrix`,
    });
    return [];
  }
  const images = new ImageResolver(ctx.dir);
  const built: BuiltJob[] = [];
  for (const job of merged) {
    const post = normalizePost(job.fields.get('post')?.value);
    const outputs = normalizeOutputs(job.fields.get('outputs')?.value);
    const cells = expandCells(job, ctx.sink);
    if (cells.length === 0) {
      ctx.sink.add({ code: 'no-cells', path: job.at, severity: 'warning', message: `job \`${job.name}\` expands to no images (every cell is excluded)` });
    }
    for (const cell of cells) {
      const b = buildJob({ ctx, job, cell, images, post, outputs });
      if (b) built.push(b);
    }
  }
  checkPathCollisions(built, ctx.sink);
  return built.map((b) => b.job);
}

/** Reads, validates and expands a manifest file. Never throws for bad input. */
export async function loadManifest(file: string, opts: LoadManifestOptions): Promise<ManifestResult> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return {
      issues: [
        {
          file,
          code: code === 'ENOENT' ? 'file-not-found' : 'file-unreadable',
          path: '',
          message: code === 'ENOENT' ? `manifest ${file} does not exist` : `manifest ${file} cannot be read (${code ?? 'error'})`,
          hint: code === 'ENOENT' ? 'check the path; manifests are YAML files like sprites.yaml' : undefined,
          severity: 'error',
        },
      ],
    };
  }
  const decoded = decodeManifest(bytes);
  if (decoded.issue) return { issues: [{ file, ...decoded.issue }] };
  return validateManifestText(decoded.text ?? '', file, opts);
}
