// The after-run keys: `atlas:` (job) and `atlases:` (top-level groups), `contact_sheet:` and
// `provenance:`. Resolved once the jobs are expanded, since frame names and sheet layouts depend on
// each cell's variables; every problem is reported with the key's position, like the other rules.
import { ATLAS_DEFAULTS, ATLAS_FORMATS, type AtlasFormat, type AtlasFrameRef, type AtlasSpec, type OutputSelector } from '../post/atlas-spec.js';
import type { ContactCell, ContactPage, ContactSheetSpec } from '../post/contact-sheet.js';
import type { Job } from '../types.js';
import { isPlain, jobsOf, type ManifestContext, type Plain } from './context.js';
import { checkOutputPath, sanitizeSegment } from './paths.js';
import type { Seg } from './source.js';
import { didYouMean } from './suggest.js';
import { parseTemplate, renderTemplate } from './templates.js';

export interface ResolvedArtifacts {
  atlases: AtlasSpec[];
  contactSheets: ContactSheetSpec[];
}

interface Located<T> {
  value: T;
  at: Seg[];
}

/** Sets `job.provenance` and returns the atlases and contact sheets the manifest declares. */
export function resolveArtifacts(ctx: ManifestContext, jobs: Job[]): ResolvedArtifacts {
  const byName = new Map<string, Job[]>();
  for (const job of jobs) byName.set(job.name, [...(byName.get(job.name) ?? []), job]);
  const atlases: AtlasSpec[] = [];
  const contactSheets: ContactSheetSpec[] = [];
  const where = new Map<object, Seg[]>();
  for (const [i, raw] of jobsOf(ctx.data)) {
    const cells = byName.get(String(raw.name));
    if (!cells?.length) continue;
    const prov = field(ctx, raw, i, 'provenance');
    if (prov?.value === 'sidecar' || prov?.value === 'embed') for (const j of cells) j.provenance = prov.value;
    const atlas = field(ctx, raw, i, 'atlas');
    if (atlas && (atlas.value === true || isPlain(atlas.value))) {
      const spec = atlasSpec(ctx, String(raw.name), isPlain(atlas.value) ? atlas.value : {}, atlas.at, cells);
      if (spec) {
        atlases.push(spec);
        where.set(spec, atlas.at);
      }
    }
    const sheet = field(ctx, raw, i, 'contact_sheet');
    if (sheet && (sheet.value === true || isPlain(sheet.value))) {
      const spec = contactSheetSpec(ctx, raw, i, isPlain(sheet.value) ? sheet.value : {}, sheet.at, cells);
      if (spec) {
        contactSheets.push(spec);
        where.set(spec, sheet.at);
      }
    }
  }
  if (isPlain(ctx.data.atlases)) {
    for (const [name, group] of Object.entries(ctx.data.atlases)) {
      if (!isPlain(group)) continue;
      const at: Seg[] = ['atlases', name];
      const members = Array.isArray(group.jobs) ? group.jobs : [];
      const cells: Job[] = [];
      members.forEach((m, k) => {
        const found = byName.get(String(m));
        if (found) cells.push(...found);
        else if (!jobsOf(ctx.data).some(([, j]) => j.name === m)) {
          ctx.sink.add({
            code: 'atlas-unknown-job',
            path: [...at, 'jobs', k],
            message: `atlas \`${name}\` lists job ${JSON.stringify(m)}, which the manifest does not have`,
            received: m,
            hint: didYouMean(String(m), [...byName.keys()]),
          });
        }
      });
      const spec = atlasSpec(ctx, name, group, at, cells);
      if (spec) {
        atlases.push(spec);
        where.set(spec, at);
      }
    }
  }
  checkArtifactPaths(ctx, jobs, atlases, contactSheets, where);
  return { atlases, contactSheets };
}

/** A job key's value and position: the job's own, else the one in `defaults`. */
function field(ctx: ManifestContext, raw: Plain, i: number, key: string): Located<unknown> | undefined {
  if (key in raw) return { value: raw[key], at: ['jobs', i, key] };
  if (isPlain(ctx.data.defaults) && key in ctx.data.defaults) return { value: ctx.data.defaults[key], at: ['defaults', key] };
  return undefined;
}

const int = (v: unknown, fallback: number) => (typeof v === 'number' && Number.isInteger(v) ? v : fallback);
const bool = (v: unknown, fallback: boolean) => (typeof v === 'boolean' ? v : fallback);

function templateScope(job: Job): Record<string, string> {
  const scope: Record<string, string> = Object.fromEntries(Object.entries(job.vars).map(([k, v]) => [k, String(v)]));
  Object.assign(scope, { job: job.name, model: job.model, index: String(job.index), path: job.path, hash: job.key.slice(0, 8) });
  if (typeof job.request.seed === 'number') scope.seed = String(job.request.seed);
  return scope;
}

/** Renders a template for one job; unknown names are reported once per atlas key. */
function render(ctx: ManifestContext, source: string, at: Seg[], job: Job, what: string): string | undefined {
  const parsed = parseTemplate(source);
  if (parsed.error) {
    ctx.sink.add({ code: 'template-syntax', path: at, message: `\`${what}\`: ${parsed.error}`, received: source });
    return undefined;
  }
  const scope = templateScope(job);
  const { text, missing } = renderTemplate(parsed, scope);
  for (const name of missing) {
    ctx.sink.add({
      code: 'template-undefined',
      path: at,
      message: `\`{${name}}\` in \`${what}\` is not a variable of job \`${job.name}\``,
      received: source,
      hint: `${didYouMean(name, Object.keys(scope))} Frame templates take the matrix variables and job, model, seed, index, path, hash`,
    });
  }
  return missing.length ? undefined : text;
}

function atlasSpec(ctx: ManifestContext, name: string, raw: Plain, at: Seg[], jobs: Job[]): AtlasSpec | undefined {
  const size = raw.max_size;
  const [maxWidth, maxHeight] = Array.isArray(size) ? [int(size[0], 2048), int(size[1], 2048)] : [int(size, ATLAS_DEFAULTS.maxWidth), int(size, ATLAS_DEFAULTS.maxHeight)];
  const output: OutputSelector = typeof raw.output === 'number' || typeof raw.output === 'string' ? raw.output : ATLAS_DEFAULTS.output;
  const formats = Array.isArray(raw.formats) ? [...new Set(raw.formats.filter((f): f is AtlasFormat => ATLAS_FORMATS.includes(f as AtlasFormat)))] : ATLAS_DEFAULTS.formats;
  const pathRaw = typeof raw.path === 'string' ? raw.path : `atlases/${sanitizeSegment(name)}`;
  const checked = checkOutputPath(pathRaw);
  if (checked.problem) {
    ctx.sink.add({ code: 'path-outside-output', path: [...at, 'path'], message: `atlas path ${JSON.stringify(pathRaw)} ${checked.problem}`, received: pathRaw });
  }
  const frameAt = typeof raw.frame === 'string' ? [...at, 'frame'] : at;
  const frameTemplate = typeof raw.frame === 'string' ? raw.frame : '{path}';
  const anim = typeof raw.animations === 'string' ? (raw.animations.includes('{') ? raw.animations : `{${raw.animations}}`) : undefined;
  const frames: AtlasFrameRef[] = [];
  const seen = new Map<string, string>();
  let animated = 0;
  let clashed = 0;
  for (const job of jobs) {
    checkSelector(ctx, job, output, [...at, 'output']);
    const frame = render(ctx, frameTemplate, frameAt, job, 'frame');
    if (frame === undefined) continue;
    const first = seen.get(frame);
    if (first !== undefined) {
      // One issue per atlas: the first clash shows what to fix; the rest repeat it.
      if (clashed++ === 0) ctx.sink.add({
        code: 'atlas-duplicate-frame',
        path: frameAt,
        message: `atlas \`${name}\`: ${first} and ${job.id} both get the frame name ${JSON.stringify(frame)}`,
        received: frameTemplate,
        hint: 'put a variable that differs between them in `frame`, e.g. `{job}_{index}` or `{pose}_{seed}`',
      });
      continue;
    }
    seen.set(frame, job.id);
    const ref: AtlasFrameRef = { jobId: job.id, name: frame };
    if (anim !== undefined) {
      const rendered = renderTemplate(parseTemplate(anim), templateScope(job));
      if (rendered.missing.length === 0) {
        ref.animation = rendered.text;
        animated++;
      }
    }
    frames.push(ref);
  }
  if (anim !== undefined && animated === 0 && jobs.length > 0) {
    const names = parseTemplate(anim).parts.flatMap((p) => ('name' in p ? [p.name] : []));
    ctx.sink.add({
      code: 'atlas-animations',
      path: [...at, 'animations'],
      message: `\`animations\` groups by ${names.map((n) => `\`${n}\``).join(', ')}, which no frame of atlas \`${name}\` has`,
      received: raw.animations,
      hint: didYouMean(names[0] ?? '', Object.keys(templateScope(jobs[0]!))),
    });
  }
  return {
    ...ATLAS_DEFAULTS,
    name,
    path: checked.path ?? pathRaw,
    output,
    maxWidth,
    maxHeight,
    padding: int(raw.padding, ATLAS_DEFAULTS.padding),
    border: int(raw.border, ATLAS_DEFAULTS.border),
    extrude: int(raw.extrude, ATLAS_DEFAULTS.extrude),
    pot: bool(raw.pot, ATLAS_DEFAULTS.pot),
    square: bool(raw.square, ATLAS_DEFAULTS.square),
    trim: bool(raw.trim, ATLAS_DEFAULTS.trim),
    multipage: bool(raw.multipage, ATLAS_DEFAULTS.multipage),
    formats: formats.length ? formats : ATLAS_DEFAULTS.formats,
    frames,
    source: { file: ctx.file, ...ctx.sink.position(at) },
  };
}

/** `output: 2` needs a third output; `output: "-pal"` an output with that suffix. */
function checkSelector(ctx: ManifestContext, job: Job, output: OutputSelector, at: Seg[]): void {
  const count = Math.max(1, job.outputs.length);
  if (typeof output === 'number' && output >= count) {
    ctx.sink.add({
      code: 'bad-output-selector',
      path: at,
      message: `\`output: ${output}\` picks the ${output + 1}th output, but job \`${job.name}\` writes ${count}`,
      received: output,
      hint: `outputs are counted from 0: use 0…${count - 1}, or a suffix`,
    });
  } else if (typeof output === 'string' && !job.outputs.some((o) => o.suffix === output)) {
    const suffixes = job.outputs.map((o) => JSON.stringify(o.suffix));
    ctx.sink.add({
      code: 'bad-output-selector',
      path: at,
      message: `\`output: ${JSON.stringify(output)}\`: job \`${job.name}\` has no output with that suffix`,
      received: output,
      hint: suffixes.length ? `its outputs' suffixes: ${suffixes.join(', ')}` : 'it writes the original only: use `output: 0`',
    });
  }
}

/** The job's axes in matrix order (with a job-level seed list, and include-only keys, last). */
function axesOf(ctx: ManifestContext, raw: Plain, i: number): string[] {
  const matrix = field(ctx, raw, i, 'matrix')?.value;
  const keys = isPlain(matrix) ? Object.keys(matrix) : [];
  const seed = field(ctx, raw, i, 'seed')?.value;
  if ((Array.isArray(seed) || isPlain(seed)) && !keys.includes('seed')) keys.push('seed');
  const include = field(ctx, raw, i, 'include')?.value;
  if (Array.isArray(include)) for (const c of include) if (isPlain(c)) for (const k of Object.keys(c)) if (!keys.includes(k)) keys.push(k);
  return keys;
}

function axisValue(job: Job, key: string): string {
  if (key in job.vars) return String(job.vars[key]);
  if (key === 'model') return job.model;
  const v = job.request[key];
  return v === undefined ? '—' : String(v);
}

function contactSheetSpec(ctx: ManifestContext, raw: Plain, i: number, opts: Plain, at: Seg[], jobs: Job[]): ContactSheetSpec | undefined {
  const name = String(raw.name);
  const axes = axesOf(ctx, raw, i);
  const varying = axes.filter((k) => new Set(jobs.map((j) => axisValue(j, k))).size > 1);
  let ok = true;
  const axis = (key: 'rows' | 'columns', fallback: string | undefined): string | undefined => {
    const v = opts[key];
    if (v === undefined) return fallback;
    if (typeof v === 'string' && axes.includes(v)) return v;
    ok = false;
    ctx.sink.add({
      code: 'contact-sheet-axis',
      path: [...at, key],
      message: `\`${key}: ${String(v)}\` is not a matrix axis of job \`${name}\``,
      received: v,
      hint: axes.length ? didYouMean(String(v), axes) : 'the job has no matrix: give it one, or drop `contact_sheet`',
    });
    return undefined;
  };
  const auto = opts.rows === undefined && opts.columns === undefined;
  const rows = axis('rows', auto ? varying[0] : undefined);
  const columns = axis('columns', auto ? varying[1] : undefined);
  if (rows && rows === columns) {
    ctx.sink.add({ code: 'contact-sheet-axis', path: [...at, 'columns'], message: `\`rows\` and \`columns\` are both \`${rows}\``, hint: 'pick two different axes' });
    return undefined;
  }
  const output: OutputSelector = typeof opts.output === 'number' || typeof opts.output === 'string' ? opts.output : 0;
  for (const job of jobs) checkSelector(ctx, job, output, [...at, 'output']);
  if (!ok) return undefined;
  const valuesOf = (key: string | undefined) => (key ? [...new Set(jobs.map((j) => axisValue(j, key)))] : []);
  const rowValues = valuesOf(rows);
  const columnValues = valuesOf(columns);
  const others = varying.filter((k) => k !== rows && k !== columns);
  const base = typeof opts.path === 'string' ? opts.path : `contact/${name}`;
  const checked = checkOutputPath(base);
  if (checked.problem) {
    ctx.sink.add({ code: 'path-outside-output', path: [...at, 'path'], message: `contact sheet path ${JSON.stringify(base)} ${checked.problem}`, received: base });
    return undefined;
  }
  const pages = new Map<string, ContactPage>();
  for (const job of jobs) {
    const rest = others.map((k) => [k, axisValue(job, k)] as const);
    const suffix = rest.map(([k, v]) => `${sanitizeSegment(k)}-${sanitizeSegment(v)}`).join('_');
    const p = suffix ? `${checked.path}/${suffix}` : checked.path!;
    const page = pages.get(p) ?? { path: p, title: rest.map(([k, v]) => `${k}=${v}`).join(', '), cells: [] as ContactCell[] };
    pages.set(p, page);
    page.cells.push({ jobId: job.id, row: rows ? rowValues.indexOf(axisValue(job, rows)) : 0, column: columns ? columnValues.indexOf(axisValue(job, columns)) : 0 });
  }
  return {
    job: name,
    ...(rows ? { rows } : {}),
    ...(columns ? { columns } : {}),
    rowValues,
    columnValues,
    cell: int(opts.cell, 256),
    base: checked.path!,
    output,
    labels: bool(opts.labels, true),
    pages: [...pages.values()],
    source: { file: ctx.file, ...ctx.sink.position(at) },
  };
}

/** Atlas and sheet files must not overwrite each other, nor a job's outputs or sidecar. */
function checkArtifactPaths(ctx: ManifestContext, jobs: Job[], atlases: AtlasSpec[], sheets: ContactSheetSpec[], where: Map<object, Seg[]>): void {
  const taken = new Map<string, string>();
  const claim = (p: string, what: string, at: Seg[]) => {
    const first = taken.get(p.toLowerCase());
    if (first) {
      ctx.sink.add({ code: 'artifact-path-collision', path: at, message: `${what} writes \`${p}\`, which ${first} also writes`, hint: 'give it another `name` or `path`' });
    } else taken.set(p.toLowerCase(), what);
  };
  for (const j of jobs) taken.set(j.path.toLowerCase(), `job ${j.id}`);
  for (const a of atlases) {
    const at = where.get(a) ?? [];
    for (const p of [a.path, `${a.path}.array`, `${a.path}.multiatlas`]) claim(p, `atlas \`${a.name}\``, at);
    const pages = new RegExp(`^${a.path.toLowerCase().replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-\\d+$`);
    const clash = jobs.find((j) => pages.test(j.path.toLowerCase()));
    if (clash) claim(clash.path, `atlas \`${a.name}\` (a page of it)`, at);
  }
  for (const s of sheets) for (const page of s.pages) claim(page.path, `the contact sheet of \`${s.job}\``, where.get(s) ?? []);
}
