// What every validation rule sees.
import type { ProviderName } from '../types.js';
import type { IssueSink } from './issues.js';

export interface LoadManifestOptions {
  provider: ProviderName;
  /** Provider family, part of every job key (`mock`, `bfl`, `replicate`). */
  family: string;
  /** Refuse manifests that expand to more jobs than this (default 10000). */
  maxJobs?: number;
}

export type Plain = Record<string, unknown>;

export interface ManifestContext {
  file: string;
  /** Absolute folder of the manifest. */
  dir: string;
  opts: LoadManifestOptions;
  /** The parsed document (already known to be a mapping). */
  data: Plain;
  sink: IssueSink;
  /** Paths (JSON of segments) reported as secrets; other rules leave them alone. */
  secretPaths: Set<string>;
}

/** A named cross-field check over the whole document. Rules report; they never throw. */
export type Rule = (ctx: ManifestContext) => void;

export const isPlain = (x: unknown): x is Plain => typeof x === 'object' && x !== null && !Array.isArray(x);

/** The jobs that are mappings, with their index. */
export function jobsOf(data: Plain): [number, Plain][] {
  const jobs = data.jobs;
  if (!Array.isArray(jobs)) return [];
  return jobs.flatMap((j, i): [number, Plain][] => (isPlain(j) ? [[i, j]] : []));
}

/** Keys of a job that are not request fields. */
export const MANIFEST_KEYS: readonly string[] = ['name', 'model', 'matrix', 'include', 'exclude', 'path', 'post', 'outputs', 'atlas', 'contact_sheet', 'provenance'];

/** Template builtins; matrix keys may not reuse them. */
export const BUILTIN_VARS: readonly string[] = ['job', 'model', 'seed', 'index', 'hash'];
