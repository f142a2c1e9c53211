// The whole pipeline, in the order of DESIGN.md's diagram:
// load config → load + validate + expand manifest → plan against the lock → schedule → compact lock.
import path from 'node:path';
import pLimit from 'p-limit';
import { buildArtifacts, type ArtifactResult } from './artifacts/index.js';
import { loadConfig, type ConfigOverrides, type FluxConfig } from './config/index.js';
import { InvalidInputError, UserError } from './errors.js';
import { removeStaleTemps } from './fs/atomic.js';
import { OriginalCache } from './lock/cache.js';
import type { LockEntry } from './lock/entry.js';
import { LockJournal, lockPathFor, readLockEntries } from './lock/journal.js';
import { OutputStatCache, statCachePathFor } from './lock/stat-cache.js';
import { intactIds } from './lock/status.js';
import { loadManifest } from './manifest/index.js';
import { planJobs, summarizePlan, type PlannedJob, type PlanSummary } from './plan/index.js';
import { createProvider, providerFamily } from './providers/index.js';
import type { RunEvent, RunSummary } from './run/events.js';
import { runJobs } from './run/scheduler.js';
import type { Job, Manifest, Provider } from './types.js';

export interface ProjectOptions {
  manifestPath: string;
  configFile?: string;
  overrides?: ConfigOverrides;
}

export interface Project {
  config: FluxConfig;
  configFile?: string;
  manifest: Manifest;
  lockPath: string;
  cacheDir: string;
}

/** Config and manifest, validated; throws InvalidInputError with every problem at once. */
export async function loadProject(opts: ProjectOptions): Promise<Project> {
  const manifestPath = path.resolve(opts.manifestPath);
  const loaded = await loadConfig({ searchFrom: path.dirname(manifestPath), configFile: opts.configFile, overrides: opts.overrides });
  const { config } = loaded;
  const { manifest, issues } = await loadManifest(manifestPath, {
    provider: config.provider,
    family: providerFamily(config.provider),
    maxJobs: config.maxJobs,
  });
  const all = [...loaded.issues, ...issues];
  if (all.some((i) => i.severity === 'error') || !manifest) throw new InvalidInputError(all);
  return {
    config,
    configFile: loaded.file,
    manifest,
    lockPath: lockPathFor(manifestPath),
    cacheDir: path.resolve(manifest.dir, config.cacheDir),
  };
}

export interface PlanOptions {
  retryFailed?: boolean;
  /** Regenerate jobs whose id or name matches (glob with `*`); `true` for all. */
  force?: string | boolean;
  /** Regenerate with new seeds jobs whose id or name matches. */
  reroll?: string | boolean;
}

/** Decide an action for every job from the lock and the files on disk. Reads only. */
export async function planProject(
  project: Project,
  entries: ReadonlyMap<string, LockEntry>,
  opts: PlanOptions = {},
  stats?: OutputStatCache,
): Promise<PlannedJob[]> {
  const { manifest, config } = project;
  const cache = new OriginalCache(project.cacheDir);
  const current = manifest.jobs.map((j) => entries.get(j.id)).filter((e): e is LockEntry => e !== undefined);
  const done = current.filter((e) => e.state === 'done');
  const intact = await intactIds(done, manifest.dir, { stats: stats ?? (await OutputStatCache.load(statCachePathFor(project.cacheDir))) });
  // Originals matter only where outputs are not up to date: check those first, and the rest only if
  // the plan finds their outputs stale (a changed recipe), so a no-op rerun stats no cache file.
  const cached = new Set<string>();
  const limit = pLimit(64);
  const probe = (list: LockEntry[]) =>
    Promise.all(
      list.map((e) =>
        limit(async () => {
          if (e.original && (await cache.has(e.original.sha256, e.original.ext))) cached.add(e.original.sha256);
        }),
      ),
    );
  await probe(current.filter((e) => !intact.has(e.id)));
  const plan = () =>
    planJobs({
      jobs: manifest.jobs,
      entries,
      provider: config.provider,
      manifestDir: manifest.dir,
      outputDir: manifest.outputDir,
      intact,
      cached,
      retryFailed: opts.retryFailed ?? config.retryFailed,
      force: matcher(opts.force),
      reroll: matcher(opts.reroll),
    });
  const first = plan();
  const recheck = first.filter((p) => p.reason === 'original not cached' && p.entry && intact.has(p.entry.id));
  if (recheck.length === 0) return first;
  await probe(recheck.map((p) => p.entry!));
  return plan();
}

export interface RunOptions extends ProjectOptions, PlanOptions {
  signal?: AbortSignal;
  emit?: (e: RunEvent) => void;
  env?: NodeJS.ProcessEnv;
  /** Use this provider instead of building one from the config (tests, embedding). */
  provider?: Provider;
  /** Called once the manifest is loaded and valid, before anything is sent. */
  onProject?: (project: Project) => void;
}

export interface RunResult {
  project: Project;
  plan: PlanSummary;
  summary: RunSummary;
  artifacts: ArtifactResult;
}

export async function runManifest(opts: RunOptions): Promise<RunResult> {
  const project = await loadProject(opts);
  opts.onProject?.(project);
  const { config, manifest } = project;
  if (manifest.jobs.length > config.maxJobs) {
    throw new UserError('too-many-jobs', `${manifest.jobs.length} jobs is more than the limit of ${config.maxJobs}`, 'check the matrix, or raise the limit with --max-jobs');
  }
  const provider = opts.provider ?? createProvider(config.provider, { baseUrl: config.baseUrl, env: opts.env, config });
  const journal = await LockJournal.open(project.lockPath);
  // Temp files of a run that was killed mid-write (their writer is dead): never visible as outputs,
  // but litter. Holding the journal's process lock, no live run of this manifest is writing them.
  await Promise.all([removeStaleTemps(manifest.outputDir, { recursive: true }), removeStaleTemps(project.cacheDir, { recursive: true })]);
  const stats = await OutputStatCache.load(statCachePathFor(project.cacheDir));
  try {
    const planned = await planProject(project, journal.entriesMap(), opts, stats);
    const plan = summarizePlan(planned);
    const emit = opts.emit ?? (() => {});
    emit({ type: 'start', total: planned.length, actions: plan.byAction, provider: provider.name });
    const summary = await runJobs(planned, {
      provider,
      journal,
      cache: new OriginalCache(project.cacheDir),
      config,
      manifestDir: manifest.dir,
      outputDir: manifest.outputDir,
      emit,
      stats,
      signal: opts.signal,
    });
    emit({ type: 'end', summary });
    // Compaction keeps the last record of every job, in-flight tasks included, so an interrupted
    // run compacts too and still resumes.
    const ids = new Set(manifest.jobs.map((j) => j.id));
    const keep = (id: string) => ids.has(id);
    if (journal.needsCompaction(keep)) await journal.compact({ keep });
    await stats.save();
    const artifacts = await buildArtifacts({ project, entries: journal.entriesMap(), summary });
    return { project, plan, summary, artifacts };
  } finally {
    await journal.close();
  }
}

/** `undefined`/`false`: nothing; `true`: everything; a string: glob (`*`) on job id or name, comma-separated. */
export function matcher(pattern: string | boolean | undefined): ((job: Job) => boolean) | undefined {
  if (!pattern) return undefined;
  if (pattern === true) return () => true;
  const res = pattern.split(',').map((p) => new RegExp(`^${p.trim().split('*').map(escapeRe).join('.*')}$`));
  return (job) => res.some((re) => re.test(job.id) || re.test(job.name) || re.test(job.path));
}

function escapeRe(s: string): string {
  return s.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
}

export { readLockEntries };
