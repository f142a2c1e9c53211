// Matrix expansion: defaults under the job, cross product in key order, exclude, include, seed ranges.
// Pure and deterministic; every value keeps the key path it was written at (for issue positions).
import { isPlain, type Plain } from './context.js';
import type { IssueSink } from './issues.js';
import type { Seg } from './source.js';

export type Scalar = string | number | boolean;

export interface Sourced<T> {
  value: T;
  at: Seg[];
}

export interface MergedJob {
  index: number;
  name: string;
  at: Seg[];
  /** The job's fields over `defaults` (shallow: a job's `matrix` replaces the default one). */
  fields: Map<string, Sourced<unknown>>;
}

export interface Cell {
  index: number;
  /** Matrix/include keys of this cell, in key order. */
  entries: Map<string, Sourced<Scalar>>;
  /** Where the cell comes from: the job, or its include entry. */
  at: Seg[];
}

interface Axis {
  key: string;
  values: Sourced<Scalar>[];
}

export function mergeJob(defaults: Plain | undefined, job: Plain, index: number): MergedJob {
  const fields = new Map<string, Sourced<unknown>>();
  for (const [k, v] of Object.entries(defaults ?? {})) if (k !== 'name') fields.set(k, { value: v, at: ['defaults', k] });
  for (const [k, v] of Object.entries(job)) fields.set(k, { value: v, at: ['jobs', index, k] });
  return { index, name: String(job.name), at: ['jobs', index], fields };
}

const isSeedAxis = (v: unknown) => Array.isArray(v) || isPlain(v);

/** The seeds of `7`, `[1, 2]`, `{from, count}` or `{from, to}`; [] when the value has none. */
export function seedValues(value: unknown, at: Seg[]): Sourced<number>[] {
  if (typeof value === 'number') return [{ value, at }];
  if (Array.isArray(value)) return value.flatMap((v, i) => (typeof v === 'number' ? [{ value: v, at: [...at, i] }] : []));
  if (isPlain(value) && typeof value.from === 'number') {
    const from = value.from;
    const count = typeof value.count === 'number' ? value.count : typeof value.to === 'number' ? value.to - from + 1 : 0;
    return Array.from({ length: Math.max(0, count) }, (_, i) => ({ value: from + i, at }));
  }
  return [];
}

function seedCount(value: unknown): number {
  if (typeof value === 'number') return 1;
  if (Array.isArray(value)) return value.length;
  if (isPlain(value) && typeof value.from === 'number') {
    return Math.max(0, typeof value.count === 'number' ? value.count : typeof value.to === 'number' ? value.to - value.from + 1 : 0);
  }
  return 0;
}

/** The axes' keys and sizes, without building them (for the job limit). */
function axisSizes(job: MergedJob): [string, number][] {
  const out: [string, number][] = [];
  const matrix = job.fields.get('matrix')?.value;
  if (isPlain(matrix)) {
    for (const [k, v] of Object.entries(matrix)) out.push([k, k === 'seed' ? seedCount(v) : Array.isArray(v) ? v.length : 0]);
  }
  const seed = job.fields.get('seed')?.value;
  if (isSeedAxis(seed) && !out.some(([k]) => k === 'seed')) out.push(['seed', seedCount(seed)]);
  return out;
}

/** How many cells the job expands to at most (before `exclude`). */
export function countCells(job: MergedJob): number {
  const include = job.fields.get('include')?.value;
  const sizes = axisSizes(job);
  const includes = Array.isArray(include) ? include.length : 0;
  const product = sizes.length === 0 && includes > 0 ? 0 : sizes.reduce((n, [, size]) => n * size, 1);
  return product + includes;
}

function axes(job: MergedJob): Axis[] {
  const out: Axis[] = [];
  const matrix = job.fields.get('matrix');
  if (matrix && isPlain(matrix.value)) {
    for (const [key, v] of Object.entries(matrix.value)) {
      const at = [...matrix.at, key];
      if (key === 'seed') out.push({ key, values: seedValues(v, at) });
      else if (Array.isArray(v)) out.push({ key, values: v.map((value: Scalar, i) => ({ value, at: [...at, i] })) });
    }
  }
  const seed = job.fields.get('seed');
  if (seed && isSeedAxis(seed.value) && !out.some((a) => a.key === 'seed')) out.push({ key: 'seed', values: seedValues(seed.value, seed.at) });
  return out;
}

const matches = (cell: Cell, pattern: Plain) => Object.entries(pattern).every(([k, v]) => cell.entries.get(k)?.value === v);

/** The job's cells: the cross product minus `exclude`, then `include`. Indexes are positions. */
export function expandCells(job: MergedJob, sink: IssueSink): Cell[] {
  const all = axes(job);
  const include = job.fields.get('include');
  const onlyInclude = all.length === 0 && Array.isArray(include?.value) && include.value.length > 0;
  // With no matrix, `include` alone lists the cells; otherwise the job is one cell.
  let cells: Cell[] = onlyInclude ? [] : [{ index: 0, entries: new Map(), at: job.at }];
  for (const axis of all) {
    cells = cells.flatMap((cell) =>
      axis.values.map((v) => ({ index: 0, at: job.at, entries: new Map([...cell.entries, [axis.key, v]]) })),
    );
  }
  const exclude = job.fields.get('exclude');
  if (exclude && Array.isArray(exclude.value)) {
    exclude.value.forEach((pattern: unknown, k) => {
      if (!isPlain(pattern)) return;
      const before = cells.length;
      cells = cells.filter((cell) => !matches(cell, pattern));
      if (cells.length === before) {
        sink.add({
          code: 'exclude-unused',
          path: [...exclude.at, k],
          severity: 'warning',
          message: 'this `exclude` entry matches no cell of the matrix',
          received: pattern,
          hint: 'check the keys and values against `matrix` (values compare exactly: 1 is not "1")',
        });
      }
    });
  }
  if (include && Array.isArray(include.value)) {
    include.value.forEach((item: unknown, k) => {
      if (!isPlain(item)) return;
      const at = [...include.at, k];
      const entries = new Map(Object.entries(item).map(([key, value]) => [key, { value: value as Scalar, at: [...at, key] }]));
      cells.push({ index: 0, at, entries });
    });
  }
  return cells.map((cell, index) => ({ ...cell, index }));
}
