// One expanded cell → one Job: model, request (templated), local inputs, key, output path.
import { allRequestFields, getModel, IMAGE_FIELDS, modelsForProvider, type ModelSpec } from '../models.js';
import type { Job, OutputSpec, PostOp } from '../types.js';
import type { ManifestContext } from './context.js';
import type { Cell, MergedJob, Scalar } from './expand.js';
import type { ImageResolver } from './inputs.js';
import { jobKey } from './keys.js';
import { MODEL_RULES } from './model-rules.js';
import { checkOutputPath, defaultPath, sanitizeSegment } from './paths.js';
import type { Seg } from './source.js';
import { closest, didYouMean } from './suggest.js';
import { isTemplate, parseTemplate, renderTemplate } from './templates.js';

const REQUEST_FIELDS = new Set(allRequestFields());
export const isRequestField = (k: string) => REQUEST_FIELDS.has(k);

export interface BuildInput {
  ctx: ManifestContext;
  job: MergedJob;
  cell: Cell;
  images: ImageResolver;
  post: PostOp[];
  outputs: OutputSpec[];
}

export interface BuiltJob {
  job: Job;
  /** Where the job's path comes from (its `path` template, or the cell). */
  pathAt: Seg[];
}

function resolveModel({ ctx, job, cell }: BuildInput): { spec: ModelSpec; at: Seg[] } | undefined {
  const src = cell.entries.get('model') ?? job.fields.get('model');
  if (!src || typeof src.value !== 'string') {
    ctx.sink.add({
      code: 'model-missing',
      path: job.at,
      message: `job \`${job.name}\` has no \`model\``,
      hint: `set \`model:\` on the job or in \`defaults\`; ${ctx.opts.provider} offers: ${modelsForProvider(ctx.opts.provider).map((m) => m.id).join(', ')}`,
    });
    return undefined;
  }
  const spec = getModel(src.value);
  if (spec && spec.providers.includes(ctx.opts.provider)) return { spec, at: src.at };
  const offered = modelsForProvider(ctx.opts.provider).map((m) => m.id);
  ctx.sink.add({
    code: 'unknown-model',
    path: src.at,
    message: spec
      ? `model \`${src.value}\` is not offered by ${ctx.opts.provider}; it offers: ${offered.join(', ')}`
      : `unknown model \`${src.value}\`; ${ctx.opts.provider} offers: ${offered.join(', ')}`,
    received: src.value,
    hint: spec
      ? `use another model, or a provider that offers it: ${spec.providers.join(', ')}`
      : (closest(src.value, offered) ? `did you mean \`${closest(src.value, offered)}\`? ` : '') + `\`flux-batch models --provider ${ctx.opts.provider}\` lists them`,
  });
  return undefined;
}

/** Renders `{var}` templates in one string; reports syntax errors and unknown names. */
function render(b: BuildInput, source: string, at: Seg[], scope: Record<string, string>, field: string, transform?: (v: string) => string): string {
  if (!isTemplate(source)) return source;
  const parsed = parseTemplate(source);
  if (parsed.error) {
    b.ctx.sink.add({ code: 'template-syntax', path: at, message: `\`${field}\`: ${parsed.error}`, received: source });
    return source;
  }
  const { text, missing } = renderTemplate(parsed, scope, transform);
  for (const name of missing) {
    if (name === 'hash') {
      b.ctx.sink.add({
        code: 'template-hash-in-request',
        path: at,
        message: `\`{hash}\` in \`${field}\`: the hash is made from the request itself, so only \`path\` can use it`,
        hint: 'use `{index}` or a matrix variable instead',
      });
    } else if (name === 'seed') {
      b.ctx.sink.add({
        code: 'template-no-seed',
        path: at,
        message: `\`{seed}\` in \`${field}\`, but job \`${b.job.name}\` has no seed (the API picks one)`,
        hint: 'set `seed` (a number, list or range), or drop `{seed}`',
      });
    } else {
      const known = Object.keys(scope).filter((k) => k !== 'hash' || field === 'path');
      b.ctx.sink.add({
        code: 'template-undefined',
        path: at,
        message: `\`{${name}}\` in \`${field}\` is neither a matrix key nor a builtin (job, model, seed, index${field === 'path' ? ', hash' : ''})`,
        received: source,
        hint: `${didYouMean(name, known)} For a literal brace write \`{{${name}}}\``,
      });
    }
  }
  return text;
}

/** The request: job fields over defaults, then the cell's request-field keys; the rest are variables. */
function collectRequest({ job, cell }: BuildInput) {
  const request: Record<string, unknown> = {};
  const sources = new Map<string, Seg[]>();
  const vars: Record<string, Scalar> = {};
  for (const [k, src] of job.fields) {
    if (!isRequestField(k) || (k === 'seed' && typeof src.value !== 'number')) continue; // seed lists are axes
    request[k] = src.value;
    sources.set(k, src.at);
  }
  for (const [k, src] of cell.entries) {
    if (isRequestField(k)) {
      request[k] = src.value;
      sources.set(k, src.at);
    } else if (k !== 'model') vars[k] = src.value;
  }
  return { request, sources, vars };
}

/** Local image files: absolute path for the provider, content hash for the key. */
function resolveInputs(b: BuildInput, request: Record<string, unknown>, sources: Map<string, Seg[]>) {
  const inputs: Record<string, string> = {};
  const hashes: Record<string, string> = {};
  for (const field of IMAGE_FIELDS) {
    const value = request[field];
    if (typeof value !== 'string' || !value) continue;
    const ref = b.images.resolve(value);
    if (ref.kind === 'file') {
      inputs[field] = ref.abs;
      hashes[field] = ref.sha256;
    } else if (ref.kind === 'missing') {
      b.ctx.sink.add({
        code: 'input-missing',
        path: sources.get(field) ?? b.job.at,
        message: `\`${field}\`: ${JSON.stringify(value)} ${ref.why} (looked at ${ref.abs})`,
        received: value,
        hint: 'image fields take a URL, a data URI, or a file path relative to the manifest',
      });
    }
  }
  return { inputs, hashes };
}

/** The `path` template rendered (values made file-name safe), or the default path; checked to stay inside. */
function outputPath(b: BuildInput, scope: Record<string, string>, key: string): { path: string; at: Seg[] } {
  const src = b.job.fields.get('path');
  const raw =
    src && typeof src.value === 'string'
      ? render(b, src.value, src.at, { ...scope, hash: key.slice(0, 8) }, 'path', sanitizeSegment)
      : defaultPath(b.job.name, [...b.cell.entries].map(([k, s]) => [k, s.value]));
  const at = src?.at ?? b.cell.at;
  const checked = checkOutputPath(raw);
  if (checked.problem) {
    b.ctx.sink.add({
      code: 'path-outside-output',
      path: at,
      message: `output path ${JSON.stringify(raw)} ${checked.problem}`,
      received: raw,
      hint: 'write a relative path such as `{job}/{class}-{seed}`; outputs stay inside the output folder',
    });
  }
  return { path: checked.path ?? raw, at };
}

export function buildJob(b: BuildInput): BuiltJob | undefined {
  const { ctx, job, cell } = b;
  const model = resolveModel(b);
  if (!model) return undefined;
  const { request, sources, vars } = collectRequest(b);
  const scope: Record<string, string> = Object.fromEntries([...cell.entries].map(([k, s]) => [k, String(s.value)]));
  Object.assign(scope, { job: job.name, model: model.spec.id, index: String(cell.index) });
  if (typeof request.seed === 'number') scope.seed = String(request.seed);
  for (const [k, v] of Object.entries(request)) {
    if (typeof v === 'string') request[k] = render(b, v, sources.get(k) ?? job.at, scope, k);
  }
  for (const rule of MODEL_RULES) rule({ ctx, model: model.spec, request, sources, at: cell.at });
  const { inputs, hashes } = resolveInputs(b, request, sources);
  const key = jobKey({ family: ctx.opts.family, model: model.spec.id, request, inputs: hashes });
  const out = outputPath(b, scope, key);
  const result: Job = {
    name: job.name,
    id: `${job.name}:${out.path}`,
    key,
    model: model.spec.id,
    request,
    vars,
    path: out.path,
    post: b.post,
    outputs: b.outputs,
    index: cell.index,
    source: { file: ctx.file, ...ctx.sink.position(job.at) },
  };
  if (Object.keys(inputs).length) result.inputs = inputs;
  return { job: result, pathAt: out.at };
}
