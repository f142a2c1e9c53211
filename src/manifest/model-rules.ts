// Per-model rules, run on each expanded cell's request (after defaults and templating).
import { checkRequestField, IMAGE_FIELDS, listModels, toReplicateRequest, type ModelSpec } from '../models.js';
import type { ManifestContext } from './context.js';
import type { Seg } from './source.js';

export interface CellContext {
  ctx: ManifestContext;
  model: ModelSpec;
  request: Record<string, unknown>;
  /** Where each request field was written. */
  sources: Map<string, Seg[]>;
  /** Where the job (or its include entry) is declared. */
  at: Seg[];
}

export type CellRule = (c: CellContext) => void;

const INPUT_IMAGE = /^input_image(?:_(\d+))?$/;

const takers = (field: string) => listModels().filter((m) => m.fields[field]).map((m) => m.id);

export const ruleFieldsAccepted: CellRule = ({ ctx, model, request, sources, at }) => {
  for (const field of Object.keys(request)) {
    if (model.fields[field]) continue;
    const path = sources.get(field) ?? at;
    if (INPUT_IMAGE.test(field) && model.fields.input_image) {
      ctx.sink.add({
        code: 'too-many-images',
        path,
        atKey: true,
        message: `${model.id} takes at most ${model.maxInputImages} input images (input_image … input_image_${model.maxInputImages}), got \`${field}\``,
        hint: 'drop some references, or use a model that takes more (FLUX.2 [pro]/[max]/[flex] take 8)',
      });
      continue;
    }
    const others = takers(field);
    ctx.sink.add({
      code: 'field-not-accepted',
      path,
      atKey: true,
      message: `\`${field}\` is not a field of ${model.id}; it takes: ${Object.keys(model.fields).join(', ')}`,
      hint: others.length ? `remove it, or use a model that takes it: ${others.join(', ')}` : 'remove it',
    });
  }
};

function codeFor(field: string): string {
  if (field === 'width' || field === 'height') return `${field}-range`;
  if (field === 'seed') return 'seed-invalid';
  if (field === 'aspect_ratio') return 'aspect-ratio';
  return 'field-value';
}

export const ruleFieldValues: CellRule = ({ ctx, model, request, sources, at }) => {
  for (const [field, value] of Object.entries(request)) {
    if (!model.fields[field]) continue;
    const problem = checkRequestField(model, field, value);
    if (problem) ctx.sink.add({ code: codeFor(field), path: sources.get(field) ?? at, message: problem, received: value });
  }
};

export const rulePixelLimit: CellRule = ({ ctx, model, request, sources, at }) => {
  const { width, height } = request;
  if (!model.maxPixels || typeof width !== 'number' || typeof height !== 'number') return;
  if (width * height <= model.maxPixels) return;
  ctx.sink.add({
    code: 'pixel-limit',
    path: sources.get('width') ?? at,
    message: `${width}×${height} is ${((width * height) / 1e6).toFixed(1)} MP; ${model.id} makes at most ${(model.maxPixels / 1e6).toFixed(1)} MP (e.g. 2048×2048)`,
    received: `${width}×${height}`,
    hint: 'lower width or height (≤ 2 MP is recommended)',
  });
};

export const ruleRequiredFields: CellRule = ({ ctx, model, request, at }) => {
  // One issue per cell, naming every missing group (fill without image and mask: "needs `image` and `mask`").
  const missing = model.required.filter((group) => !group.some((f) => request[f] !== undefined && request[f] !== null && request[f] !== ''));
  if (missing.length === 0) return;
  const names = missing.map((group) => group.map((f) => `\`${f}\``).join(' or ')).join(' and ');
  const images = missing.flat().some((f) => IMAGE_FIELDS.includes(f));
  ctx.sink.add({
    code: 'required-missing',
    path: at,
    message: `${model.id} needs ${names}`,
    hint: images ? `set ${names} to an image file, URL or data URI` : `set ${names}`,
  });
};

/**
 * Provider `replicate`: every field must survive the mapping to Replicate's input names
 * (models.ts `toReplicateRequest`); one the model would ignore there is refused here, before sending.
 */
export const ruleReplicateFields: CellRule = ({ ctx, model, request, sources, at }) => {
  if (ctx.opts.provider !== 'replicate' || !model.replicate) return;
  const known = Object.fromEntries(Object.entries(request).filter(([f]) => model.fields[f]));
  for (const p of toReplicateRequest(model, known).problems) {
    ctx.sink.add({
      code: 'replicate-field',
      path: sources.get(p.field) ?? at,
      atKey: true,
      message: p.message,
      received: request[p.field],
      hint: 'change or remove it, or use provider bfl / cometapi, which take BFL\'s fields as they are',
    });
  }
};

export const MODEL_RULES: readonly CellRule[] = [ruleFieldsAccepted, ruleFieldValues, rulePixelLimit, ruleRequiredFields, ruleReplicateFields];
