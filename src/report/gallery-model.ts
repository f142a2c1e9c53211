// What the gallery shows, as plain data: the manifest's jobs grouped by manifest job, each cell with
// its request, its state from the lock and its outputs. Pure: no I/O, so it is tested with plain data.
import path from 'node:path';
import type { LockEntry } from '../lock/entry.js';
import type { Job } from '../types.js';

export type CellState = 'done' | 'failed' | 'pending' | 'not-run';

export interface CellOutput {
  /** Absolute path on disk. */
  abs: string;
  /** URL relative to the report's folder (segments percent-encoded). */
  href: string;
  /** Short label: the extension, plus the suffix when several outputs share one. */
  label: string;
  /** Content hash from the lock: names the thumbnail. */
  sha256: string;
}

export interface GalleryCell {
  id: string;
  path: string;
  model: string;
  /** The seed sent or pinned: the lock's when the API chose it. */
  seed?: number;
  prompt: string;
  /** Request fields other than prompt and seed, ready to print. */
  params: Array<[name: string, value: string]>;
  /** Axis name → this cell's label on it (`knight`, `seed 1`), for the axes of its group. */
  coords: Record<string, string>;
  state: CellState;
  error?: { kind: string; reason: string };
  outputs: CellOutput[];
  /** The output the thumbnail is made from (the first a browser shows). */
  preview?: CellOutput;
}

export interface GalleryGroup {
  name: string;
  /** What varies between the cells: matrix variables first, then model and request fields. */
  axes: string[];
  cells: GalleryCell[];
}

export interface CollectOptions {
  manifestDir: string;
  /** The report's folder (the output root): links are relative to it. */
  outputDir: string;
}

const SHOWN_IN_BROWSER = new Set(['webp', 'png', 'jpg', 'jpeg', 'gif', 'avif', 'svg']);
const SECRET_FIELD = /secret|token|api[-_]?key|password/i;
const MAX_VALUE_CHARS = 64;

export function collectGallery(jobs: readonly Job[], entries: ReadonlyMap<string, LockEntry>, opts: CollectOptions): GalleryGroup[] {
  const byName = new Map<string, Job[]>();
  for (const job of jobs) {
    const list = byName.get(job.name);
    if (list) list.push(job);
    else byName.set(job.name, [job]);
  }
  return [...byName].map(([name, list]) => {
    const axes = varyingAxes(list);
    return { name, axes, cells: list.map((job) => toCell(job, entries.get(job.id), axes, opts)) };
  });
}

/**
 * The coordinates a cell could vary by, in display order, as labels: a variable's value alone
 * (`knight`), the model's name, a request field with its name (`seed 1`). `prompt` is left out: it
 * follows the variables.
 */
function coordinatesOf(job: Job): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(job.vars)) out.set(k, formatValue(v));
  out.set('model', job.model);
  for (const [k, v] of Object.entries(job.request)) {
    if (k !== 'prompt' && !out.has(k)) out.set(k, `${k} ${displayValue(k, v)}`);
  }
  return out;
}

export function varyingAxes(jobs: readonly Job[]): string[] {
  const seen = new Map<string, { values: Set<string>; cells: number }>();
  for (const job of jobs) {
    for (const [k, v] of coordinatesOf(job)) {
      let axis = seen.get(k);
      if (!axis) seen.set(k, (axis = { values: new Set(), cells: 0 }));
      axis.values.add(v);
      axis.cells++;
    }
  }
  // A key only some cells have varies too (an `include` cell adding a field).
  return [...seen].filter(([, a]) => a.values.size > 1 || a.cells < jobs.length).map(([k]) => k);
}

function toCell(job: Job, entry: LockEntry | undefined, axes: string[], opts: CollectOptions): GalleryCell {
  const coords = coordinatesOf(job);
  const outputs = (entry?.state === 'done' ? entry.outputs ?? [] : []).map((o) => toOutput(o.path, o.sha256, opts));
  labelOutputs(outputs);
  const seedSent = job.request.seed;
  const seed = typeof seedSent === 'number' ? seedSent : entry?.seed;
  const cell: GalleryCell = {
    id: job.id,
    path: job.path,
    model: job.model,
    ...(seed !== undefined ? { seed } : {}),
    prompt: typeof job.request.prompt === 'string' ? job.request.prompt : '',
    params: paramsOf(job.request),
    coords: Object.fromEntries(axes.map((a) => [a, coords.get(a) ?? '—'])),
    state: stateOf(entry),
    outputs,
  };
  if (entry?.state === 'failed' && entry.error) cell.error = { kind: entry.error.kind, reason: entry.error.reason };
  const preview = outputs.find((o) => SHOWN_IN_BROWSER.has(extOf(o.abs))) ?? outputs[0];
  if (preview) cell.preview = preview;
  return cell;
}

function stateOf(entry: LockEntry | undefined): CellState {
  if (!entry) return 'not-run';
  if (entry.state === 'done' || entry.state === 'failed') return entry.state;
  return 'pending';
}

function toOutput(relToManifest: string, sha256: string, opts: CollectOptions): CellOutput {
  const abs = path.resolve(opts.manifestDir, relToManifest);
  const rel = path.relative(opts.outputDir, abs).split(path.sep);
  return { abs, href: rel.map(encodeURIComponent).join('/'), label: extOf(abs), sha256 };
}

/** `webp`, `png`; with the file name's tail when two outputs share an extension (`png -pal`). */
function labelOutputs(outputs: CellOutput[]): void {
  const counts = new Map<string, number>();
  for (const o of outputs) counts.set(o.label, (counts.get(o.label) ?? 0) + 1);
  for (const o of outputs) if ((counts.get(o.label) ?? 0) > 1) o.label = path.basename(o.abs);
}

function extOf(file: string): string {
  return path.extname(file).slice(1).toLowerCase();
}

/** Request fields worth printing on a card: everything but the prompt and seed; width×height as one size. */
export function paramsOf(request: Record<string, unknown>): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const { width, height } = request;
  const size = width !== undefined && height !== undefined;
  for (const [k, v] of Object.entries(request)) {
    if (k === 'prompt' || k === 'seed' || v === undefined) continue;
    if (size && (k === 'width' || k === 'height')) {
      if (k === 'width') out.push(['size', `${formatValue(width)}×${formatValue(height)}`]);
      continue;
    }
    out.push([k, displayValue(k, v)]);
  }
  return out;
}

function displayValue(key: string, v: unknown): string {
  if (SECRET_FIELD.test(key)) return '(redacted)';
  const s = formatValue(v);
  return s.length > MAX_VALUE_CHARS ? `${s.slice(0, MAX_VALUE_CHARS - 1)}…` : s;
}

export function formatValue(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v) ?? String(v);
}
