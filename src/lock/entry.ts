// The lock record: one per job. Every journal line is a full snapshot of one job's entry, so reading
// the lock means taking the last valid line per id. Serialisation has a fixed key order so that the same
// results always give the same bytes (DESIGN decision 3).
import type { ProviderName } from '../types.js';

export interface LockOutput {
  /** Relative to the manifest folder, POSIX separators. */
  path: string;
  sha256: string;
  /** Recipe hash: original sha256 + operations + encoding + sharp version (DESIGN decision 1). */
  recipe: string;
  bytes: number;
  /** mtime right after the write: lets a no-op rerun skip hashing. Local to this checkout, so it is
   *  journalled but dropped at compaction (the committed lock stays byte-stable). */
  mtimeMs?: number;
}

export type LockState = 'submitted' | 'ready' | 'cached' | 'done' | 'failed';
export const LOCK_STATES: readonly LockState[] = ['submitted', 'ready', 'cached', 'done', 'failed'];

export interface LockTask {
  id: string;
  pollingUrl?: string;
  submittedAt: string;
}

export interface LockOriginal {
  sha256: string;
  ext: string;
  bytes: number;
}

export interface LockEntry {
  /** Job.id */
  id: string;
  /** Job.key (request hash) */
  key: string;
  model: string;
  provider: ProviderName;
  state: LockState;
  /** Pinned seed: the one the API reported or the manifest gave. */
  seed?: number;
  /** While submitted/ready: enough to resume polling instead of paying again. */
  task?: LockTask;
  /** The cached original (content-addressed in the original cache). */
  original?: LockOriginal;
  outputs?: LockOutput[];
  error?: { kind: string; reason: string };
  cost?: number;
  /** Paid generations for this job, for honest accounting. */
  attempts?: number;
  /** Set on every journal line; dropped at compaction so the compacted file is byte-stable. */
  updatedAt?: string;
}
// Unknown fields on a parsed line (a newer minor writer) are kept, after the known ones, keys sorted.

const KNOWN_KEYS = new Set([
  'id', 'key', 'model', 'provider', 'state', 'seed', 'task', 'original', 'outputs', 'error', 'cost',
  'attempts', 'updatedAt',
]);

export interface SerializeOptions {
  /** Leave out what differs between checkouts of the same results: `updatedAt`, `mtimeMs` (compaction). */
  stable?: boolean;
}

/** One JSON line (without the newline), keys in a fixed order. */
export function serializeEntry(entry: LockEntry, opts: SerializeOptions = {}): string {
  return JSON.stringify(orderEntry(entry, opts));
}

/** A deep copy of the entry with keys in the fixed order; `undefined` fields are left out. */
export function orderEntry(e: LockEntry, opts: SerializeOptions = {}): LockEntry {
  const out: LockEntry = { id: e.id, key: e.key, model: e.model, provider: e.provider, state: e.state };
  if (e.seed !== undefined) out.seed = e.seed;
  if (e.task) out.task = dropUndefined({ id: e.task.id, pollingUrl: e.task.pollingUrl, submittedAt: e.task.submittedAt });
  if (e.original) out.original = { sha256: e.original.sha256, ext: e.original.ext, bytes: e.original.bytes };
  if (e.outputs) {
    out.outputs = e.outputs.map((o) => {
      const rec: LockOutput = { path: o.path, sha256: o.sha256, recipe: o.recipe, bytes: o.bytes };
      if (o.mtimeMs !== undefined && !opts.stable) rec.mtimeMs = o.mtimeMs;
      return rec;
    });
  }
  if (e.error) out.error = { kind: e.error.kind, reason: e.error.reason };
  if (e.cost !== undefined) out.cost = e.cost;
  if (e.attempts !== undefined) out.attempts = e.attempts;
  if (e.updatedAt !== undefined && !opts.stable) out.updatedAt = e.updatedAt;
  const extra = e as unknown as Record<string, unknown>;
  const target = out as unknown as Record<string, unknown>;
  for (const k of Object.keys(extra).filter((k) => !KNOWN_KEYS.has(k)).sort()) {
    if (extra[k] !== undefined) target[k] = canonical(extra[k]);
  }
  return out;
}

/** Parse one journal line; `undefined` when it is not a well-formed entry (torn or garbled). */
export function parseEntry(line: string): LockEntry | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    return undefined;
  }
  return isLockEntry(raw) ? orderEntry(raw) : undefined;
}

export function isLockEntry(v: unknown): v is LockEntry {
  if (!isObject(v)) return false;
  const ok =
    isNonEmptyString(v.id) &&
    typeof v.key === 'string' &&
    typeof v.model === 'string' &&
    // Any provider name: a line from a newer version naming a new provider must not be dropped.
    isNonEmptyString(v.provider) &&
    LOCK_STATES.includes(v.state as LockState) &&
    optional(v.seed, isFiniteNumber) &&
    optional(v.task, (t) => isObject(t) && isNonEmptyString(t.id) && typeof t.submittedAt === 'string' &&
      optional(t.pollingUrl, (u) => typeof u === 'string')) &&
    optional(v.original, (o) => isObject(o) && isNonEmptyString(o.sha256) && typeof o.ext === 'string' &&
      isFiniteNumber(o.bytes)) &&
    optional(v.outputs, (list) => Array.isArray(list) && list.every(isLockOutput)) &&
    optional(v.error, (x) => isObject(x) && typeof x.kind === 'string' && typeof x.reason === 'string') &&
    optional(v.cost, isFiniteNumber) &&
    optional(v.attempts, isFiniteNumber) &&
    optional(v.updatedAt, (u) => typeof u === 'string');
  return ok;
}

function isLockOutput(o: unknown): o is LockOutput {
  return isObject(o) && isNonEmptyString(o.path) && typeof o.sha256 === 'string' &&
    typeof o.recipe === 'string' && isFiniteNumber(o.bytes) && optional(o.mtimeMs, isFiniteNumber);
}

/** JSON value with object keys sorted at every level. */
function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (!isObject(v)) return v;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v).sort()) if (v[k] !== undefined) out[k] = canonical(v[k]);
  return out;
}

function dropUndefined<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
function isNonEmptyString(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0;
}
function isFiniteNumber(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}
function optional(v: unknown, check: (v: unknown) => boolean): boolean {
  return v === undefined || check(v);
}
