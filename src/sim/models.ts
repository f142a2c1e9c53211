// What the simulator knows about each model: request validation (FastAPI-style 422 issues, from
// PROTOCOLS.md 1.4), the output size and format a request resolves to, and the credit cost.
import type { PlaceholderFormat } from './image.js';

/** One FastAPI validation issue, as in `{"detail":[{loc,msg,type}]}`. */
export interface ValidationIssue {
  loc: (string | number)[];
  msg: string;
  type: string;
  input?: unknown;
  ctx?: Record<string, unknown>;
}

/** What a valid request resolves to. */
export interface ResolvedRequest {
  prompt: string;
  seed?: number;
  width: number;
  height: number;
  format: PlaceholderFormat;
}

type Family = 'flux1' | 'flux2' | 'aspect' | 'edit';
type Range = [min: number, max: number, kind: 'int' | 'number'];

interface ModelSpec {
  family: Family;
  defaultFormat: PlaceholderFormat;
  defaultAspect?: string;
  required?: string[];
  ranges: Record<string, Range>;
  /** Credits for one image of `mp` megapixels. */
  cost: (mp: number) => number;
}

const perMp = (first: number, extra: number) => (mp: number) => round2(first + Math.max(0, mp - 1) * extra);
const flat = (credits: number) => () => credits;
const flux1Ranges: Record<string, Range> = { steps: [1, 50, 'int'], guidance: [1.5, 5, 'number'], safety_tolerance: [0, 6, 'int'] };
const flux2Ranges: Record<string, Range> = { safety_tolerance: [0, 5, 'int'] };
const editRanges: Record<string, Range> = { steps: [15, 50, 'int'], guidance: [1.5, 100, 'number'], safety_tolerance: [0, 6, 'int'] };
const aspectRanges: Record<string, Range> = { safety_tolerance: [0, 6, 'int'], image_prompt_strength: [0, 1, 'number'] };

/** Models served on `/v1/{model}` (BFL) and `/flux/v1/{model}` (CometAPI). */
export const MODELS: Record<string, ModelSpec> = {
  'flux-2-pro': { family: 'flux2', defaultFormat: 'jpeg', required: ['prompt'], ranges: flux2Ranges, cost: perMp(3, 1.5) },
  'flux-2-pro-preview': { family: 'flux2', defaultFormat: 'jpeg', required: ['prompt'], ranges: flux2Ranges, cost: perMp(3, 1.5) },
  'flux-2-max': { family: 'flux2', defaultFormat: 'jpeg', required: ['prompt'], ranges: flux2Ranges, cost: perMp(7, 3) },
  'flux-2-flex': {
    family: 'flux2',
    defaultFormat: 'jpeg',
    required: ['prompt'],
    ranges: { ...flux2Ranges, steps: [1, 50, 'int'], guidance: [1.5, 10, 'number'] },
    cost: perMp(5, 5),
  },
  'flux-2-klein-4b': { family: 'flux2', defaultFormat: 'jpeg', required: ['prompt'], ranges: flux2Ranges, cost: perMp(1.4, 0.1) },
  'flux-2-klein-9b': { family: 'flux2', defaultFormat: 'jpeg', required: ['prompt'], ranges: flux2Ranges, cost: perMp(1.5, 0.2) },
  'flux-2-klein-9b-preview': { family: 'flux2', defaultFormat: 'jpeg', required: ['prompt'], ranges: flux2Ranges, cost: perMp(1.5, 0.2) },
  'flux-kontext-pro': { family: 'aspect', defaultFormat: 'png', defaultAspect: '1:1', required: ['prompt'], ranges: aspectRanges, cost: flat(4) },
  'flux-kontext-max': { family: 'aspect', defaultFormat: 'png', defaultAspect: '1:1', required: ['prompt'], ranges: aspectRanges, cost: flat(8) },
  'flux-pro-1.1': { family: 'flux1', defaultFormat: 'jpeg', ranges: { safety_tolerance: [0, 6, 'int'] }, cost: flat(4) },
  'flux-pro-1.1-ultra': { family: 'aspect', defaultFormat: 'jpeg', defaultAspect: '16:9', ranges: aspectRanges, cost: flat(6) },
  'flux-pro-1.1-ultra-finetuned': {
    family: 'aspect',
    defaultFormat: 'jpeg',
    defaultAspect: '16:9',
    required: ['finetune_id'],
    ranges: { ...aspectRanges, finetune_strength: [0, 2, 'number'] },
    cost: flat(7),
  },
  'flux-dev': { family: 'flux1', defaultFormat: 'jpeg', ranges: flux1Ranges, cost: flat(2.5) },
  'flux-pro': { family: 'flux1', defaultFormat: 'jpeg', ranges: { ...flux1Ranges, interval: [1, 4, 'number'] }, cost: flat(5) },
  'flux-pro-1.0-fill': { family: 'edit', defaultFormat: 'jpeg', required: ['image'], ranges: editRanges, cost: flat(5) },
  'flux-pro-1.0-expand': { family: 'edit', defaultFormat: 'jpeg', required: ['image'], ranges: editRanges, cost: flat(5) },
  'flux-pro-1.0-fill-finetuned': {
    family: 'edit',
    defaultFormat: 'jpeg',
    required: ['finetune_id', 'image'],
    ranges: { ...editRanges, finetune_strength: [0, 2, 'number'] },
    cost: flat(6),
  },
};

const FORMATS: readonly PlaceholderFormat[] = ['jpeg', 'png', 'webp'];

/** Validate a BFL-style body for `model` (which must be in MODELS). */
export function validateBflRequest(model: string, body: unknown): { issues: ValidationIssue[]; request?: ResolvedRequest } {
  const spec = MODELS[model];
  if (!spec) throw new Error(`unknown model ${model}`);
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { issues: [{ loc: ['body'], msg: 'Input should be a valid dictionary or object to extract fields from', type: 'model_attributes_type', input: body }] };
  }
  const b = body as Record<string, unknown>;
  const issues: ValidationIssue[] = [];
  for (const field of spec.required ?? []) {
    if (b[field] === undefined || b[field] === null) issues.push({ loc: ['body', field], msg: 'Field required', type: 'missing', input: b });
  }
  checkType(b, 'prompt', 'string', issues);
  checkType(b, 'seed', 'int', issues);
  checkType(b, 'prompt_upsampling', 'boolean', issues);
  checkType(b, 'raw', 'boolean', issues);
  for (const [field, [min, max, kind]] of Object.entries(spec.ranges)) {
    if (checkType(b, field, kind, issues)) checkRange(b, field, min, max, issues);
  }
  if (b.output_format !== undefined && b.output_format !== null && !FORMATS.includes(b.output_format as PlaceholderFormat)) {
    issues.push({ loc: ['body', 'output_format'], msg: "Input should be 'jpeg', 'png' or 'webp'", type: 'enum', input: b.output_format, ctx: { expected: "'jpeg', 'png' or 'webp'" } });
  }
  if (b.webhook_url !== undefined && b.webhook_url !== null) {
    if (typeof b.webhook_url !== 'string' || !/^https?:\/\/\S+$/.test(b.webhook_url) || b.webhook_url.length > 2083) {
      issues.push({ loc: ['body', 'webhook_url'], msg: 'Input should be a valid URL', type: 'url_parsing', input: b.webhook_url });
    }
  }
  const size = resolveSize(spec, b, issues);
  if (issues.length > 0 || !size) return { issues };
  const seed = typeof b.seed === 'number' ? b.seed : undefined;
  return {
    issues,
    request: {
      prompt: typeof b.prompt === 'string' ? b.prompt : '',
      ...(seed === undefined ? {} : { seed }),
      width: size[0],
      height: size[1],
      format: (b.output_format as PlaceholderFormat | undefined) ?? spec.defaultFormat,
    },
  };
}

/** Output size of a request, for the simulator and the mock provider. Lenient: never fails. */
export function outputSize(model: string, body: Record<string, unknown>): [number, number] {
  const spec = MODELS[model] ?? MODELS['flux-dev']!;
  return resolveSize(spec, body, []) ?? [1024, 768];
}

/** Default output format of a model. */
export function defaultFormat(model: string): PlaceholderFormat {
  return MODELS[model]?.defaultFormat ?? 'jpeg';
}

/** Credits for one image of `width`×`height` on `model`. */
export function costOf(model: string, width: number, height: number): number {
  return (MODELS[model] ?? MODELS['flux-dev']!).cost((width * height) / 1e6);
}

function resolveSize(spec: ModelSpec, b: Record<string, unknown>, issues: ValidationIssue[]): [number, number] | undefined {
  if (spec.family === 'aspect') {
    const ar = b.aspect_ratio ?? spec.defaultAspect ?? '1:1';
    const ratio = parseAspect(ar);
    if (ratio === undefined || ratio > 21 / 9 + 1e-9 || ratio < 9 / 21 - 1e-9) {
      issues.push({ loc: ['body', 'aspect_ratio'], msg: 'Value error, Aspect ratio must be between 21:9 and 9:21', type: 'value_error', input: ar });
      return undefined;
    }
    return sizeFromAspect(ratio, 1);
  }
  if (spec.family === 'edit') return [1024, 1024];
  const flux2 = spec.family === 'flux2';
  const dims: number[] = [];
  for (const [field, fallback] of [['width', flux2 ? 1024 : 1024], ['height', flux2 ? 1024 : 768]] as const) {
    const v = b[field];
    if (v === undefined || v === null || (flux2 && v === 0)) {
      dims.push(fallback);
      continue;
    }
    if (!checkType(b, field, 'int', issues)) continue;
    const n = v as number;
    const [min, max, step] = flux2 ? [64, 4096, 16] : [256, 1440, 32];
    if (n < min) issues.push({ loc: ['body', field], msg: `Input should be greater than or equal to ${min}`, type: 'greater_than_equal', input: n, ctx: { ge: min } });
    else if (n > max) issues.push({ loc: ['body', field], msg: `Input should be less than or equal to ${max}`, type: 'less_than_equal', input: n, ctx: { le: max } });
    else if (n % step !== 0) issues.push({ loc: ['body', field], msg: `Input should be a multiple of ${step}`, type: 'multiple_of', input: n, ctx: { multiple_of: step } });
    dims.push(n);
  }
  const [w, h] = dims;
  if (w === undefined || h === undefined) return undefined;
  if (flux2 && w * h > 4 * 1024 * 1024) {
    issues.push({ loc: ['body'], msg: `Value error, Output image must be at most 4 megapixels, got ${w}x${h}`, type: 'value_error' });
  }
  return [w, h];
}

/** `"16:9"` → 16/9; undefined when malformed. */
export function parseAspect(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const m = /^(\d+):(\d+)$/.exec(value.trim());
  if (!m) return undefined;
  const w = Number(m[1]);
  const h = Number(m[2]);
  return w > 0 && h > 0 ? w / h : undefined;
}

/** About `megapixels` MP at the given ratio, sides rounded to multiples of 16. */
export function sizeFromAspect(ratio: number, megapixels: number): [number, number] {
  const area = megapixels * 1024 * 1024;
  const w = Math.max(16, Math.round(Math.sqrt(area * ratio) / 16) * 16);
  const h = Math.max(16, Math.round(Math.sqrt(area / ratio) / 16) * 16);
  return [w, h];
}

function checkType(b: Record<string, unknown>, field: string, kind: 'int' | 'number' | 'string' | 'boolean', issues: ValidationIssue[]): boolean {
  const v = b[field];
  if (v === undefined || v === null) return false;
  const ok =
    kind === 'int' ? Number.isInteger(v) : kind === 'number' ? typeof v === 'number' && Number.isFinite(v) : typeof v === kind;
  if (!ok) {
    const name = { int: 'integer', number: 'number', string: 'string', boolean: 'boolean' }[kind];
    issues.push({ loc: ['body', field], msg: `Input should be a valid ${name}`, type: kind === 'int' ? 'int_type' : `${kind === 'boolean' ? 'bool' : kind}_type`, input: v });
  }
  return ok;
}

function checkRange(b: Record<string, unknown>, field: string, min: number, max: number, issues: ValidationIssue[]): void {
  const v = b[field] as number;
  if (v < min) issues.push({ loc: ['body', field], msg: `Input should be greater than or equal to ${min}`, type: 'greater_than_equal', input: v, ctx: { ge: min } });
  else if (v > max) issues.push({ loc: ['body', field], msg: `Input should be less than or equal to ${max}`, type: 'less_than_equal', input: v, ctx: { le: max } });
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}
