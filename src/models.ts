// The per-model parameter table: the one source for request validation, docs and `flux-batch models`.
// Field names, ranges and defaults follow PROTOCOLS.md 1.4 (BFL OpenAPI, 2026-04 snapshot) and 1.4.8.
import type { ProviderName } from './types.js';

export type FieldType = 'string' | 'integer' | 'number' | 'boolean';

export interface FieldSpec {
  type: FieldType;
  min?: number;
  max?: number;
  multipleOf?: number;
  enum?: readonly (string | number)[];
  /** The API's default when the field is left out. */
  default?: unknown;
  /** An image input: a URL, a data URI, or a local file (read and sent as the API expects). */
  image?: boolean;
  /** `aspect_ratio` strings `W:H` whose ratio must lie in [min, max] (width / height). */
  ratio?: { min: number; max: number; text: string };
  /** 0 is accepted and means "the model chooses" (FLUX.2 width/height). */
  zeroMeansAuto?: boolean;
  description: string;
}

export interface ModelSpec {
  id: string;
  title: string;
  /** Model generation, for grouping in docs. */
  generation: 'FLUX.1' | 'FLUX.2';
  fields: Readonly<Record<string, FieldSpec>>;
  /** Each group needs at least one of its fields (e.g. fill needs `image`; flux-pro needs prompt or image_prompt). */
  required: readonly (readonly string[])[];
  /** Most `input_image*` fields the model takes (0 when it takes none). */
  maxInputImages: number;
  /** Largest width × height, when the API caps the pixel count. */
  maxPixels?: number;
  /** Tasks in flight at once (PROTOCOLS 1.7). */
  inFlight: number;
  providers: readonly ProviderName[];
  /** Replicate model id (`owner/name`), when Replicate offers it. */
  replicateId?: string;
  /** How this model's request fields travel in the Replicate format (see `toReplicateRequest`). */
  replicate?: ReplicateSpec;
  /** USD per image where known (FLUX.2: the first megapixel; see `estimateCost`). */
  priceUsd?: number;
  /** FLUX.2: USD per further megapixel, input or output. */
  pricePerMpUsd?: number;
  /** Availability caveat worth showing, e.g. "deprecated upstream, unconfirmed". */
  note?: string;
}

export const IMAGE_FIELDS: readonly string[] = [
  'image_prompt',
  'input_image',
  'input_image_2',
  'input_image_3',
  'input_image_4',
  'input_image_5',
  'input_image_6',
  'input_image_7',
  'input_image_8',
  'image',
  'mask',
  'control_image',
  'preprocessed_image',
];

// ---- shared field specs -------------------------------------------------------------------------

const str = (description: string, extra: Partial<FieldSpec> = {}): FieldSpec => ({ type: 'string', description, ...extra });
const int = (description: string, extra: Partial<FieldSpec> = {}): FieldSpec => ({ type: 'integer', description, ...extra });
const num = (description: string, extra: Partial<FieldSpec> = {}): FieldSpec => ({ type: 'number', description, ...extra });
const bool = (description: string, dflt: boolean): FieldSpec => ({ type: 'boolean', description, default: dflt });
const img = (description: string): FieldSpec => ({ type: 'string', image: true, description });

const OUTPUT_FORMAT = ['jpeg', 'png', 'webp'] as const;
const common = {
  seed: int('Optional seed for reproducibility; leave out to let the API pick (the lock pins it).', { min: 0 }),
  webhook_url: str('URL to receive webhook notifications (1–2083 chars).'),
  webhook_secret: str('Secret for webhook signature verification.'),
};
const outputFormat = (dflt: string): FieldSpec =>
  str("Output format of the generated image: 'jpeg', 'png' or 'webp'.", { enum: OUTPUT_FORMAT, default: dflt });
const safety = (max: number): FieldSpec =>
  int(`Tolerance for input and output moderation, 0 (strict) to ${max} (permissive).`, { min: 0, max, default: 2 });
const upsampling = (dflt: boolean): FieldSpec => bool('Let the API rewrite the prompt for more creative results.', dflt);

const flux1Size = (side: 'width' | 'height', dflt: number): FieldSpec =>
  int(`${side === 'width' ? 'Width' : 'Height'} in pixels: a multiple of 32 between 256 and 1440.`, {
    min: 256,
    max: 1440,
    multipleOf: 32,
    default: dflt,
  });
const flux2Size = (side: 'width' | 'height'): FieldSpec =>
  int(`${side === 'width' ? 'Width' : 'Height'} in pixels: a multiple of 16, at least 64, width × height ≤ 4 MP; 0 lets the model choose.`, {
    min: 64,
    multipleOf: 16,
    default: 0,
    zeroMeansAuto: true,
  });

function inputImages(n: number, what: string): Record<string, FieldSpec> {
  const out: Record<string, FieldSpec> = { input_image: img(`${what} (URL, data URI or local file).`) };
  for (let i = 2; i <= n; i++) out[`input_image_${i}`] = img(`Reference image ${i} (URL, data URI or local file).`);
  return out;
}

const FLUX1_ALL: readonly ProviderName[] = ['bfl', 'cometapi', 'mock'];
const WITH_REPLICATE: readonly ProviderName[] = ['bfl', 'cometapi', 'replicate', 'mock'];
const FOUR_MP = 2048 * 2048;

// ---- FLUX.2 -------------------------------------------------------------------------------------

function flux2(id: string, title: string, extra: Record<string, FieldSpec>, maxImages: number, replicate?: string): ModelSpec {
  return {
    id,
    title,
    generation: 'FLUX.2',
    fields: {
      prompt: str('Text prompt (FLUX.2 takes up to 32K tokens).'),
      ...extra,
      ...inputImages(maxImages, 'Input image for editing or reference'),
      seed: common.seed,
      width: flux2Size('width'),
      height: flux2Size('height'),
      safety_tolerance: safety(5),
      output_format: outputFormat('jpeg'),
      webhook_url: common.webhook_url,
      webhook_secret: common.webhook_secret,
    },
    required: [['prompt']],
    maxInputImages: maxImages,
    maxPixels: FOUR_MP,
    inFlight: 24,
    providers: replicate ? WITH_REPLICATE : FLUX1_ALL,
    ...(replicate ? { replicateId: replicate } : {}),
  };
}

const flexExtra: Record<string, FieldSpec> = {
  prompt_upsampling: upsampling(true),
  input_image_blob_path: str('Blob path to the input image.'),
  guidance: num('Guidance scale: higher follows the prompt more, at some cost in realism.', { min: 1.5, max: 10, default: 5 }),
  steps: int('Number of diffusion steps.', { min: 1, max: 50, default: 50 }),
};

// ---- FLUX.1 -------------------------------------------------------------------------------------

const kontextFields: Record<string, FieldSpec> = {
  prompt: str('Text prompt, or the edit to make to the input image.'),
  ...inputImages(4, 'Image to edit (input_image_2..4 are experimental multi-reference)'),
  seed: common.seed,
  aspect_ratio: str('Aspect ratio `W:H`, between 3:7 and 7:3 (about 1 MP output; the API says 1:1 by default).', {
    ratio: { min: 3 / 7, max: 7 / 3, text: '3:7 and 7:3' },
  }),
  output_format: outputFormat('png'),
  webhook_url: common.webhook_url,
  webhook_secret: common.webhook_secret,
  prompt_upsampling: upsampling(false),
  safety_tolerance: safety(6),
};

function kontext(id: string, title: string, inFlight: number): ModelSpec {
  return {
    id,
    title,
    generation: 'FLUX.1',
    fields: kontextFields,
    required: [['prompt']],
    maxInputImages: 4,
    inFlight,
    providers: WITH_REPLICATE,
    replicateId: `black-forest-labs/${id}`,
  };
}

const proFields: Record<string, FieldSpec> = {
  prompt: str('Text prompt.', { default: '' }),
  image_prompt: img('Image to use as a prompt (Flux Redux).'),
  width: flux1Size('width', 1024),
  height: flux1Size('height', 768),
  steps: int('Number of diffusion steps.', { min: 1, max: 50, default: 40 }),
  guidance: num('Guidance scale.', { min: 1.5, max: 5, default: 2.5 }),
  interval: num('Interval: variety of the output.', { min: 1, max: 4, default: 2 }),
  prompt_upsampling: upsampling(false),
  seed: common.seed,
  safety_tolerance: safety(6),
  output_format: outputFormat('jpeg'),
  webhook_url: common.webhook_url,
  webhook_secret: common.webhook_secret,
};

const pro11Fields: Record<string, FieldSpec> = {
  prompt: str('Text prompt.', { default: '' }),
  image_prompt: img('Image to use as a prompt (Flux Redux).'),
  width: flux1Size('width', 1024),
  height: flux1Size('height', 768),
  prompt_upsampling: upsampling(false),
  seed: common.seed,
  safety_tolerance: safety(6),
  output_format: outputFormat('jpeg'),
  webhook_url: common.webhook_url,
  webhook_secret: common.webhook_secret,
};

const ultraFields: Record<string, FieldSpec> = {
  prompt: str('Text prompt.', { default: '' }),
  prompt_upsampling: upsampling(false),
  seed: common.seed,
  aspect_ratio: str('Aspect ratio `W:H`, between 21:9 and 9:21.', {
    default: '16:9',
    ratio: { min: 9 / 21, max: 21 / 9, text: '9:21 and 21:9' },
  }),
  safety_tolerance: safety(6),
  output_format: outputFormat('jpeg'),
  raw: bool('Less processed, more natural-looking images.', false),
  image_prompt: img('Image to remix.'),
  image_prompt_strength: num('Blend between the prompt (0) and the image prompt (1).', { min: 0, max: 1, default: 0.1 }),
  webhook_url: common.webhook_url,
  webhook_secret: common.webhook_secret,
};

const devFields: Record<string, FieldSpec> = {
  prompt: str('Text prompt.', { default: '' }),
  image_prompt: img('Image to use as a prompt.'),
  width: flux1Size('width', 1024),
  height: flux1Size('height', 768),
  steps: int('Number of diffusion steps.', { min: 1, max: 50, default: 28 }),
  prompt_upsampling: upsampling(false),
  seed: common.seed,
  guidance: num('Guidance scale.', { min: 1.5, max: 5, default: 3 }),
  safety_tolerance: safety(6),
  output_format: outputFormat('jpeg'),
  webhook_url: common.webhook_url,
  webhook_secret: common.webhook_secret,
};

const editCommon: Record<string, FieldSpec> = {
  prompt: str('Description of the changes to make.', { default: '' }),
  steps: int('Number of diffusion steps.', { min: 15, max: 50, default: 50 }),
  prompt_upsampling: upsampling(false),
  seed: common.seed,
  guidance: num('Guidance strength.', { min: 1.5, max: 100, default: 60 }),
  output_format: outputFormat('jpeg'),
  safety_tolerance: safety(6),
  webhook_url: common.webhook_url,
  webhook_secret: common.webhook_secret,
};

const fillFields: Record<string, FieldSpec> = {
  image: img('Image to modify; may carry an alpha mask.'),
  mask: img('Mask of the areas to modify (same size as the image; white = change). Required by flux-batch, although the API accepts an alpha mask inside `image`.'),
  ...editCommon,
};

const side = (where: string): FieldSpec => int(`Pixels to add ${where}.`, { min: 0, max: 2048, default: 0 });
const expandFields: Record<string, FieldSpec> = {
  image: img('Image to expand.'),
  top: side('at the top'),
  bottom: side('at the bottom'),
  left: side('on the left'),
  right: side('on the right'),
  ...editCommon,
};

const controlCommon: Record<string, FieldSpec> = {
  prompt: str('Text prompt.'),
  control_image: img('Control image (the structure to follow).'),
  preprocessed_image: img('Already preprocessed control image (instead of control_image).'),
  prompt_upsampling: upsampling(false),
  seed: common.seed,
  steps: int('Number of diffusion steps.', { min: 15, max: 50, default: 50 }),
  guidance: num('Guidance strength.', { min: 1, max: 100, default: 30 }),
  safety_tolerance: safety(6),
  webhook_url: common.webhook_url,
  webhook_secret: common.webhook_secret,
};

const cannyFields: Record<string, FieldSpec> = {
  ...controlCommon,
  canny_low_threshold: int('Low threshold of the Canny edge detector.', { min: 0, max: 500, default: 50 }),
  canny_high_threshold: int('High threshold of the Canny edge detector.', { min: 0, max: 500, default: 200 }),
  output_format: str("Output format: 'jpeg' or 'png'.", { enum: ['jpeg', 'png'], default: 'jpeg' }),
};

const depthFields: Record<string, FieldSpec> = { ...controlCommon, output_format: outputFormat('jpeg') };

// Replicate-only: FLUX.1 [schnell] has Replicate's own input names (PROTOCOLS 3.x, third-party mirrors).
const schnellFields: Record<string, FieldSpec> = {
  prompt: str('Text prompt.'),
  aspect_ratio: str('Aspect ratio.', {
    enum: ['1:1', '16:9', '21:9', '3:2', '2:3', '4:5', '5:4', '3:4', '4:3', '9:16', '9:21'],
    default: '1:1',
  }),
  seed: common.seed,
  // One prediction, one image: a second output would be paid for and never used. Use a seed matrix.
  num_outputs: int('Images per prediction: flux-batch makes one image per job (use a seed matrix for more).', { min: 1, max: 1, default: 1 }),
  num_inference_steps: int('Number of steps.', { min: 1, max: 4, default: 4 }),
  megapixels: str('Approximate output size in megapixels.', { enum: ['1', '0.25'], default: '1' }),
  output_format: str('Output format.', { enum: ['webp', 'jpg', 'png'], default: 'webp' }),
  output_quality: int('Quality of lossy outputs.', { min: 0, max: 100, default: 80 }),
  go_fast: bool('Faster, fp8-quantised inference.', true),
  disable_safety_checker: bool('Turn off the safety checker.', false),
};

function flux1(
  id: string,
  title: string,
  fields: Record<string, FieldSpec>,
  required: string[][],
  providers: readonly ProviderName[] = FLUX1_ALL,
  more: Partial<ModelSpec> = {},
): ModelSpec {
  const maxInputImages = Object.keys(fields).filter((f) => /^input_image(_\d+)?$/.test(f)).length;
  return { id, title, generation: 'FLUX.1', fields, required, maxInputImages, inFlight: 24, providers, ...more };
}

const MODELS: readonly ModelSpec[] = [
  flux1('flux-schnell', 'FLUX.1 [schnell] (Replicate only)', schnellFields, [['prompt']], ['replicate', 'mock'], {
    replicateId: 'black-forest-labs/flux-schnell',
  }),
  flux1('flux-dev', 'FLUX.1 [dev]', devFields, [], WITH_REPLICATE, { replicateId: 'black-forest-labs/flux-dev' }),
  flux1('flux-pro', 'FLUX.1 [pro]', proFields, [['prompt', 'image_prompt']], WITH_REPLICATE, {
    replicateId: 'black-forest-labs/flux-pro',
    note: 'not in the current BFL OpenAPI, still listed in the docs',
  }),
  flux1('flux-pro-1.1', 'FLUX1.1 [pro]', pro11Fields, [], WITH_REPLICATE, { replicateId: 'black-forest-labs/flux-1.1-pro' }),
  flux1('flux-pro-1.1-ultra', 'FLUX1.1 [pro] Ultra', ultraFields, [], WITH_REPLICATE, {
    replicateId: 'black-forest-labs/flux-1.1-pro-ultra',
  }),
  // The spec makes `mask` optional (the image's alpha channel may carry it), but a fill sent without a
  // mask is the usual mistake (an opaque image with nothing marked still costs a generation), so
  // flux-batch requires an explicit `mask` file: to use an alpha mask, save it as a mask image.
  flux1('flux-pro-1.0-fill', 'FLUX.1 Fill [pro]', fillFields, [['image'], ['mask']]),
  flux1('flux-pro-1.0-expand', 'FLUX.1 Expand [pro]', expandFields, [['image']]),
  flux1('flux-pro-1.0-canny', 'FLUX.1 Canny [pro]', cannyFields, [['prompt'], ['control_image', 'preprocessed_image']], FLUX1_ALL, {
    note: 'probably deprecated upstream (unconfirmed)',
  }),
  flux1('flux-pro-1.0-depth', 'FLUX.1 Depth [pro]', depthFields, [['control_image', 'preprocessed_image']], FLUX1_ALL, {
    note: 'probably deprecated upstream (unconfirmed)',
  }),
  kontext('flux-kontext-pro', 'FLUX.1 Kontext [pro]', 24),
  kontext('flux-kontext-max', 'FLUX.1 Kontext [max]', 6),
  flux2('flux-2-pro', 'FLUX.2 [pro]', {}, 8, 'black-forest-labs/flux-2-pro'),
  flux2('flux-2-pro-preview', 'FLUX.2 [pro] preview', {}, 8),
  flux2('flux-2-max', 'FLUX.2 [max]', {}, 8),
  flux2('flux-2-flex', 'FLUX.2 [flex]', flexExtra, 8, 'black-forest-labs/flux-2-flex'),
  flux2('flux-2-klein-4b', 'FLUX.2 [klein] 4B', {}, 4),
  flux2('flux-2-klein-9b', 'FLUX.2 [klein] 9B', {}, 4),
];

const BY_ID = new Map(MODELS.map((m) => [m.id, m]));

export function getModel(id: string): ModelSpec | undefined {
  return BY_ID.get(id);
}

export function listModels(): readonly ModelSpec[] {
  return MODELS;
}

export function modelsForProvider(provider: ProviderName): ModelSpec[] {
  return MODELS.filter((m) => m.providers.includes(provider));
}

/** Every request field any model takes (the manifest schema lists exactly these). */
export function allRequestFields(): string[] {
  const set = new Set<string>();
  for (const m of MODELS) for (const f of Object.keys(m.fields)) set.add(f);
  return [...set].sort();
}

export function inFlightLimit(model: string): number {
  return getModel(model)?.inFlight ?? 24;
}

// ---- value checks -------------------------------------------------------------------------------

function describeRange(f: FieldSpec): string {
  const range =
    f.min !== undefined && f.max !== undefined
      ? `between ${f.min} and ${f.max}`
      : f.min !== undefined
        ? `at least ${f.min}`
        : f.max !== undefined
          ? `at most ${f.max}`
          : '';
  const kind = f.multipleOf !== undefined ? `a multiple of ${f.multipleOf}` : f.type === 'integer' ? 'an integer' : 'a number';
  return [kind, range].filter(Boolean).join(' ') + (f.zeroMeansAuto ? ' (or 0 to let the model choose)' : '');
}

/** Parses `W:H` into a ratio, or undefined when it is not of that form. */
export function parseAspectRatio(value: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?):(\d+(?:\.\d+)?)$/.exec(value.trim());
  if (!m) return undefined;
  const w = Number(m[1]);
  const h = Number(m[2]);
  return w > 0 && h > 0 ? w / h : undefined;
}

const show = (v: unknown): string => (typeof v === 'string' ? JSON.stringify(v) : String(v));

/** Checks one request field's value for a model. Returns an error message, or undefined when it is fine. */
export function checkRequestField(model: string | ModelSpec, field: string, value: unknown): string | undefined {
  const spec = typeof model === 'string' ? getModel(model) : model;
  if (!spec) return `unknown model ${show(model)}`;
  const f = spec.fields[field];
  if (!f) return `\`${field}\` is not a field of ${spec.id}; it takes: ${Object.keys(spec.fields).join(', ')}`;
  if (value === null || value === undefined) return undefined;
  const must = (what: string) => `\`${field}\` must be ${what} for ${spec.id}, got ${show(value)}`;
  switch (f.type) {
    case 'boolean':
      return typeof value === 'boolean' ? undefined : must('true or false');
    case 'string':
      if (typeof value !== 'string') return must('a string');
      if (f.enum && !f.enum.includes(value)) return must(`one of ${f.enum.join(', ')}`);
      if (f.ratio) {
        const r = parseAspectRatio(value);
        if (r === undefined) return must(`a ratio like "16:9" between ${f.ratio.text}`);
        if (r < f.ratio.min - 1e-9 || r > f.ratio.max + 1e-9) return must(`a ratio between ${f.ratio.text}`);
      }
      return undefined;
    case 'integer':
    case 'number': {
      if (typeof value !== 'number' || !Number.isFinite(value)) return must(describeRange(f));
      if (f.zeroMeansAuto && value === 0) return undefined;
      const bad =
        (f.type === 'integer' && !Number.isInteger(value)) ||
        (f.min !== undefined && value < f.min) ||
        (f.max !== undefined && value > f.max) ||
        (f.multipleOf !== undefined && value % f.multipleOf !== 0) ||
        (f.enum !== undefined && !f.enum.includes(value));
      return bad ? must(f.enum ? `one of ${f.enum.join(', ')}` : describeRange(f)) : undefined;
    }
  }
}

// ---- price --------------------------------------------------------------------------------------

/** USD per image (PROTOCOLS 1.7); FLUX.1 [dev] and [pro] are third-party figures. */
const FLAT_PRICE: Record<string, number> = {
  'flux-dev': 0.025,
  'flux-pro': 0.05,
  'flux-pro-1.1': 0.04,
  'flux-pro-1.1-ultra': 0.06,
  'flux-pro-1.0-fill': 0.05,
  'flux-kontext-pro': 0.04,
  'flux-kontext-max': 0.08,
};

/** FLUX.2 per-megapixel prices in USD: the first megapixel, then each further (input or output) one. */
const MP_PRICE: Record<string, [first: number, perMp: number]> = {
  'flux-2-pro': [0.03, 0.015],
  'flux-2-pro-preview': [0.03, 0.015],
  'flux-2-max': [0.07, 0.03],
  'flux-2-flex': [0.05, 0.05],
  'flux-2-klein-4b': [0.014, 0.001],
  'flux-2-klein-9b': [0.015, 0.002],
};

for (const m of MODELS as ModelSpec[]) {
  const flat = FLAT_PRICE[m.id];
  const mp = MP_PRICE[m.id];
  if (flat !== undefined) m.priceUsd = flat;
  if (mp) [m.priceUsd, m.pricePerMpUsd] = mp;
}

/**
 * Estimated USD for one request, or undefined when the price is not known. FLUX.2 follows the
 * per-megapixel formula `first + (outMP - 1) * perMp + inMP * perMp`; input images are
 * counted as 1 MP each, output as width × height (1 MP when the model chooses).
 */
export function estimateCost(model: string, request: Record<string, unknown>): number | undefined {
  const spec = getModel(model);
  if (spec?.priceUsd === undefined) return undefined;
  if (spec.pricePerMpUsd === undefined) return spec.priceUsd;
  const w = typeof request.width === 'number' ? request.width : 0;
  const h = typeof request.height === 'number' ? request.height : 0;
  const outMp = w > 0 && h > 0 ? Math.max(1, Math.ceil((w * h) / 1e4) / 100) : 1;
  const inputs = Object.keys(request).filter((k) => /^input_image(_\d+)?$/.test(k) && request[k] != null).length;
  const usd = spec.priceUsd + (outMp - 1 + inputs) * spec.pricePerMpUsd;
  return Math.round(usd * 1e5) / 1e5;
}

// ---- Replicate format ---------------------------------------------------------------------------
//
// Manifests use BFL's field names for every provider (one manifest, one validation). Replicate's
// models name some inputs differently and lack others; a field a model does not take is silently
// ignored there and still charged, so every BFL field is either mapped or refused before sending:
//   - `output_format: jpeg` → `jpg` (Replicate's enum is webp | jpg | png; some models only jpg | png).
//   - `width`/`height` → `aspect_ratio: "custom"` plus width/height where the model has custom sizes
//     (flux-pro, flux-1.1-pro, FLUX.2); flux-dev has no custom size, so W:H must reduce to one of its
//     aspect ratios and the size becomes `megapixels` "0.25" (≤ 0.5 MP asked) or "1".
//   - `steps` → `num_inference_steps` (flux-dev); `input_image…input_image_8` → `input_images: [...]`
//     (FLUX.2); `webhook_url` → the prediction's top-level `webhook`.
//   - refused: `webhook_secret` (Replicate signs webhooks with the account's key), and the fields a
//     model lacks on Replicate (listed per model below with the reason).
//   - `aspect_ratio` must be one of the model's Replicate values (BFL takes any ratio in range).
// Sources: PROTOCOLS 2.2/3.2 and Replicate's model pages; the per-model input lists beyond
// flux-1.1-pro and flux-schnell are from those pages, not from an official spec (UNCONFIRMED).

export interface ReplicateSpec {
  id: string;
  /** How width/height travel: `custom` (aspect_ratio "custom" + width/height) or `aspect` (reduced to aspect_ratio + megapixels). */
  size?: 'custom' | 'aspect';
  /** The model's Replicate `aspect_ratio` values. */
  aspectRatios?: readonly string[];
  /** Replicate's `output_format` values. */
  formats: readonly string[];
  /** BFL field → Replicate input name. */
  rename?: Readonly<Record<string, string>>;
  /** `input_image…` go as one `input_images` list. */
  imageList?: boolean;
  /** Fields of the BFL table this model does not take on Replicate, with why. */
  unsupported?: Readonly<Record<string, string>>;
}

const REPLICATE_FORMATS = ['webp', 'jpg', 'png'] as const;
const FLUX1_RATIOS = ['1:1', '16:9', '21:9', '3:2', '2:3', '4:5', '5:4', '3:4', '4:3', '9:16', '9:21'] as const;
const KONTEXT_RATIOS = ['match_input_image', '1:1', '16:9', '9:16', '4:3', '3:4', '3:2', '2:3', '4:5', '5:4', '21:9', '9:21', '2:1', '1:2'] as const;
const NOT_ON_REPLICATE = (id: string) => `not an input of ${id} on Replicate`;

const REPLICATE: Record<string, ReplicateSpec> = {
  'flux-schnell': { id: 'black-forest-labs/flux-schnell', formats: REPLICATE_FORMATS, aspectRatios: FLUX1_RATIOS },
  'flux-dev': {
    id: 'black-forest-labs/flux-dev',
    size: 'aspect',
    aspectRatios: FLUX1_RATIOS,
    formats: REPLICATE_FORMATS,
    rename: { steps: 'num_inference_steps' },
    unsupported: {
      image_prompt: 'Replicate\'s flux-dev has no Redux image prompt (its `image` is img2img)',
      prompt_upsampling: NOT_ON_REPLICATE('flux-dev'),
      safety_tolerance: NOT_ON_REPLICATE('flux-dev'),
    },
  },
  'flux-pro': { id: 'black-forest-labs/flux-pro', size: 'custom', formats: REPLICATE_FORMATS },
  'flux-pro-1.1': { id: 'black-forest-labs/flux-1.1-pro', size: 'custom', formats: REPLICATE_FORMATS },
  'flux-pro-1.1-ultra': {
    id: 'black-forest-labs/flux-1.1-pro-ultra',
    aspectRatios: FLUX1_RATIOS,
    formats: ['jpg', 'png'],
    unsupported: { prompt_upsampling: NOT_ON_REPLICATE('flux-1.1-pro-ultra') },
  },
  'flux-kontext-pro': {
    id: 'black-forest-labs/flux-kontext-pro',
    aspectRatios: KONTEXT_RATIOS,
    formats: ['jpg', 'png'],
    unsupported: Object.fromEntries(['input_image_2', 'input_image_3', 'input_image_4'].map((f) => [f, 'Replicate\'s flux-kontext-pro takes one input_image'])),
  },
  'flux-kontext-max': {
    id: 'black-forest-labs/flux-kontext-max',
    aspectRatios: KONTEXT_RATIOS,
    formats: ['jpg', 'png'],
    unsupported: Object.fromEntries(['input_image_2', 'input_image_3', 'input_image_4'].map((f) => [f, 'Replicate\'s flux-kontext-max takes one input_image'])),
  },
  'flux-2-pro': { id: 'black-forest-labs/flux-2-pro', size: 'custom', formats: REPLICATE_FORMATS, imageList: true },
  'flux-2-flex': {
    id: 'black-forest-labs/flux-2-flex',
    size: 'custom',
    formats: REPLICATE_FORMATS,
    imageList: true,
    unsupported: { input_image_blob_path: NOT_ON_REPLICATE('flux-2-flex') },
  },
};

for (const m of MODELS as ModelSpec[]) {
  const r = REPLICATE[m.id];
  if (r) m.replicate = r;
}

export interface ReplicateRequest {
  /** The prediction's `input`. */
  input: Record<string, unknown>;
  /** The prediction's top-level `webhook`, from `webhook_url`. */
  webhook?: string;
  /** Why fields cannot be sent; non-empty means: do not send. */
  problems: { field: string; message: string }[];
}

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/**
 * A request in BFL's field names → the Replicate-format prediction for `model` (image fields
 * already encoded). Pure; `problems` lists every field that would be ignored or refused.
 */
export function toReplicateRequest(model: string | ModelSpec, request: Record<string, unknown>): ReplicateRequest {
  const spec = typeof model === 'string' ? getModel(model) : model;
  const r = spec?.replicate;
  const problems: ReplicateRequest['problems'] = [];
  if (!spec || !r) {
    return { input: { ...request }, problems: [{ field: 'model', message: `${spec?.id ?? String(model)} is not available in the Replicate format` }] };
  }
  const input: Record<string, unknown> = {};
  const images: unknown[] = [];
  let webhook: string | undefined;
  for (const [field, value] of Object.entries(request)) {
    if (value === undefined || value === null) continue;
    const why = r.unsupported?.[field];
    if (why) {
      problems.push({ field, message: `\`${field}\` cannot be sent to ${r.id}: ${why}` });
      continue;
    }
    if (field === 'webhook_url') {
      webhook = String(value);
      continue;
    }
    if (field === 'webhook_secret') {
      problems.push({ field, message: `\`webhook_secret\` cannot be sent to ${r.id}: Replicate signs webhooks with your account's signing key` });
      continue;
    }
    if (field === 'width' || field === 'height') continue; // below
    if (r.imageList && /^input_image(_\d+)?$/.test(field)) {
      images[field === 'input_image' ? 0 : Number(field.slice('input_image_'.length)) - 1] = value;
      continue;
    }
    if (field === 'output_format') {
      const v = value === 'jpeg' ? 'jpg' : value;
      if (typeof v !== 'string' || !r.formats.includes(v)) {
        problems.push({ field, message: `\`output_format: ${String(value)}\` is not offered by ${r.id} on Replicate; use ${r.formats.map((f) => (f === 'jpg' ? 'jpeg' : f)).join(', ')}` });
        continue;
      }
      input.output_format = v;
      continue;
    }
    if (field === 'aspect_ratio' && r.aspectRatios && !r.aspectRatios.includes(String(value))) {
      problems.push({ field, message: `\`aspect_ratio: ${String(value)}\` is not offered by ${r.id} on Replicate; use one of ${r.aspectRatios.join(', ')}` });
      continue;
    }
    input[r.rename?.[field] ?? field] = value;
  }
  if (images.length > 0) input.input_images = images.filter((x) => x !== undefined);
  const { width, height } = request;
  const hasSize = (typeof width === 'number' && width > 0) || (typeof height === 'number' && height > 0);
  if (hasSize) {
    if (r.size === 'custom') {
      if (typeof width === 'number' && typeof height === 'number' && width > 0 && height > 0) {
        Object.assign(input, { aspect_ratio: 'custom', width, height });
      } else {
        problems.push({ field: 'width', message: `${r.id} on Replicate needs both width and height for a custom size` });
      }
    } else if (r.size === 'aspect' && typeof width === 'number' && typeof height === 'number' && width > 0 && height > 0) {
      const g = gcd(width, height);
      const ratio = `${width / g}:${height / g}`;
      if (r.aspectRatios?.includes(ratio)) {
        input.aspect_ratio = ratio;
        input.megapixels = width * height <= 500_000 ? '0.25' : '1';
      } else {
        problems.push({
          field: 'width',
          message: `${width}×${height} (${ratio}) cannot be sent to ${r.id}: Replicate's ${spec.id} takes no width/height, only the aspect ratios ${r.aspectRatios?.join(', ')}`,
        });
      }
    } else {
      const why = r.size ? 'needs both width and height' : 'takes no width/height';
      problems.push({ field: 'width', message: `${r.id} on Replicate ${why}` });
    }
  }
  return { input, ...(webhook !== undefined ? { webhook } : {}), problems };
}
