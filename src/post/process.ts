// The post stage: one decode of a cached original, the manifest's operations in order, one encode
// per output. Stateless; safe to call concurrently (the scheduler bounds how many run at once).
import sharp, { type Sharp } from 'sharp';
import { UserError } from '../errors.js';
import type { OutputSpec, PostOp } from '../types.js';
import { applyOp, predictSize, type Size } from './apply.js';
import { extensionFor, sniffFormat } from './format.js';
import { checkOutputOptions, checkPostOp, MAX_CANVAS_SIDE } from './ops.js';
import { recipeHash, sha256 } from './recipe.js';

export { extensionFor, sniffFormat } from './format.js';
export { recipeHash } from './recipe.js';

/** sharp's `limitInputPixels` for originals: 100 MP is far beyond any Flux output. */
export const DEFAULT_LIMIT_INPUT_PIXELS = 100_000_000;

export interface ProcessedOutput {
  /** null: the original's own format (bytes unchanged when there is no post either). */
  spec: OutputSpec | null;
  ext: string;
  data: Buffer;
  width: number;
  height: number;
  recipe: string;
}

export interface ProcessOptions {
  limitInputPixels?: number;
  /** sha256 hex of `original` when the caller already has it (saves hashing it again). */
  originalSha?: string;
}

/** Decoded pixels between steps, held as uncompressed TIFF (see `renderPixels`). */
interface StepImage extends Size {
  data: Buffer;
}

let configured = false;
/**
 * libvips' operation cache (default 50 MB / 100 ops / 20 open files) pays off when the same
 * operation runs on the same image again; a batch never does that (distinct originals, each
 * intermediate used once), so it can only hold memory. Measured (sharp 0.35.5, 2 CPUs, 100
 * distinct 1056² PNGs, trim + resize + webp + palette png, 2 at a time, twice each way): cache on
 * kept 6 MB resident in libvips (16 MB high) for no hits; off, 0 MB. Peak RSS (226-240 MB) and
 * wall time (22-29 s) were the same either way within run-to-run noise. So: off, set once on first
 * use (not at import). Thread count (`sharp.concurrency`) stays at sharp's default: how many
 * images run at once is the scheduler's limit to set.
 */
function configureSharp(): void {
  if (configured) return;
  configured = true;
  sharp.cache(false);
}

/** Apply `post` in order to `original`, then encode once per output. See DESIGN decision 1. */
export async function processImage(
  original: Buffer,
  post: PostOp[],
  outputs: OutputSpec[],
  opts: ProcessOptions = {},
): Promise<ProcessedOutput[]> {
  configureSharp();
  const limit = opts.limitInputPixels ?? DEFAULT_LIMIT_INPUT_PIXELS;
  const originalSha = opts.originalSha ?? sha256(original);
  const originalFormat = sniffFormat(original);

  if (post.length === 0 && outputs.length === 0) {
    if (!originalFormat) throw unknownFormat(original);
    const { width, height } = await readHeader(original);
    const recipe = recipeHash(originalSha, post, null);
    return [{ spec: null, ext: extensionFor(originalFormat), data: original, width, height, recipe }];
  }

  checkRecipe(post, outputs);
  if (outputs.length === 0 && !originalFormat) {
    throw unknownFormat(original, 'add an `outputs` entry to choose the format');
  }
  const pixels = await renderPixels(original, post, limit);
  // One sharp instance over the finished pixels; each output is a clone of it, encoded once.
  const base = sharp(pixels.data, { limitInputPixels: false });
  const specs: (OutputSpec | null)[] = outputs.length > 0 ? outputs : [null];
  return Promise.all(
    specs.map(async (spec, i) => {
      const format = spec?.format ?? originalFormat!;
      const encoded = await encode(base.clone(), format, spec?.options ?? {}, i);
      return { spec, ext: extensionFor(format), ...encoded, recipe: recipeHash(originalSha, post, spec) };
    }),
  );
}

function checkRecipe(post: PostOp[], outputs: OutputSpec[]): void {
  post.forEach(({ op, options }, i) => {
    const problem = checkPostOp(op, options);
    if (problem) throw new UserError('post-op', `post[${i}] ${problem}`);
    if (op === 'autoOrient' && i > 0) {
      throw new UserError(
        'post-op',
        `post[${i}] autoOrient: must be the first operation`,
        'it reads the EXIF orientation of the original, which earlier steps discard; move it to the top',
      );
    }
  });
  outputs.forEach(({ format, options }, i) => {
    const problem = checkOutputOptions(format, options);
    if (problem) throw new UserError('post-output', `outputs[${i}] ${problem}`);
  });
}

/**
 * Decode the original once, then run each operation as its own step.
 * sharp applies the operations of one pipeline in its own fixed order (trim before resize, one
 * resize and one rotate per pipeline, …), not in call order; the manifest promises its order, so
 * each step gets a pipeline. Steps hand over uncompressed 8-bit TIFF: lossless and about as cheap
 * as raw pixels (measured: 8.8 vs 7.3 ms for a 1024² RGBA round trip), but unlike sharp's raw
 * output it keeps the alpha band of a greyscale image (raw output keeps only the first band).
 */
async function renderPixels(original: Buffer, post: PostOp[], limit: number): Promise<StepImage> {
  const header = await readHeader(original); // read first, so a refusal can say what it saw
  if (header.width * header.height > limit) {
    throw new UserError(
      'image-too-large',
      `original is ${header.width}×${header.height} (${megapixels(header.width * header.height)}), ` +
        `over the ${megapixels(limit)} limit`,
      'this guards against decompression bombs; raise limitInputPixels only for a trusted source',
    );
  }
  const orient = post[0]?.op === 'autoOrient';
  const input = sharp(original, { limitInputPixels: limit });
  let pixels = await toStep(orient ? input.autoOrient() : input).catch((error: unknown) => {
    const message = `original could not be decoded: ${messageOf(error)}`;
    throw new UserError('image-undecodable', message, undefined, { cause: error });
  });
  for (const [i, { op, options }] of post.entries()) {
    if (i === 0 && orient) continue;
    const where = `post[${i}] ${op}`;
    const size = { width: pixels.width, height: pixels.height };
    checkCanvas(where, size, predictSize(op, options, size), op, options);
    // No pixel limit here: checkCanvas bounds every step to MAX_CANVAS_SIDE a side.
    const step = sharp(pixels.data, { limitInputPixels: false });
    pixels = await toStep(applyOp(step, op, options)).catch((error: unknown) => {
      const hint = `check the ${op} options against the image at this step`;
      throw new UserError('post-op', `${where}: ${messageOf(error)}`, hint, { cause: error });
    });
    checkCanvas(where, size, pixels, op, options);
  }
  return pixels;
}

function checkCanvas(where: string, before: Size, after: Size, op: string, options: unknown): void {
  if (op === 'extract') {
    const o = options as { left: number; top: number; width: number; height: number };
    if (o.left + o.width > before.width || o.top + o.height > before.height) {
      throw new UserError(
        'post-op',
        `${where}: region ${o.width}×${o.height} at (${o.left}, ${o.top}) ` +
          `does not fit the ${before.width}×${before.height} image`,
        'make left + width and top + height fit inside the image at this step',
      );
    }
  }
  if (after.width > MAX_CANVAS_SIDE || after.height > MAX_CANVAS_SIDE) {
    throw new UserError(
      'post-canvas',
      `${where}: would make a ${after.width}×${after.height} canvas from ${before.width}×${before.height}; ` +
        `the limit is ${MAX_CANVAS_SIDE} px a side`,
      `reduce the ${op} sizes`,
    );
  }
}

async function toStep(img: Sharp): Promise<StepImage> {
  const { data, info } = await img.tiff({ compression: 'none' }).toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

async function encode(img: Sharp, format: string, options: Record<string, unknown>, index: number) {
  try {
    // Checked by checkOutputOptions; sharp's per-format method takes them as they are.
    const encoder = img[format as 'png'].bind(img) as (o: unknown) => Sharp;
    const { data, info } = await encoder(options).toBuffer({ resolveWithObject: true });
    return { data, width: info.width, height: info.height };
  } catch (error) {
    const message = `outputs[${index}] ${format}: ${messageOf(error)}`;
    throw new UserError('post-output', message, undefined, { cause: error });
  }
}

/** Format and size from the header alone: no pixels are decoded, so no pixel limit applies. */
async function readHeader(data: Buffer): Promise<Size & { format: string }> {
  try {
    const meta = await sharp(data, { limitInputPixels: false }).metadata();
    if (!meta.width || !meta.height) throw new Error('no dimensions in the header');
    return { width: meta.width, height: meta.height, format: meta.format ?? 'unknown' };
  } catch (error) {
    const message = `not a readable image (${data.length} bytes, starts ${hexStart(data)}): ${messageOf(error)}`;
    throw new UserError('image-undecodable', message, undefined, { cause: error });
  }
}

/**
 * Format and size of encoded image bytes. Decodes every pixel (sharp's `stats`) so truncated or
 * corrupt data fails here, with a clear error, rather than later in the post stage.
 */
export async function inspectImage(data: Buffer): Promise<{ format: string; width: number; height: number }> {
  configureSharp();
  const header = await readHeader(data);
  const format = sniffFormat(data) ?? header.format;
  if (header.width * header.height > DEFAULT_LIMIT_INPUT_PIXELS) {
    const limit = megapixels(DEFAULT_LIMIT_INPUT_PIXELS);
    throw new UserError('image-too-large', `${format} image is ${header.width}×${header.height}, over the ${limit} limit`);
  }
  try {
    await sharp(data, { limitInputPixels: DEFAULT_LIMIT_INPUT_PIXELS }).stats();
  } catch (error) {
    throw new UserError(
      'image-undecodable',
      `${format} image (${header.width}×${header.height}, ${data.length} bytes) is truncated or corrupt: ` +
        messageOf(error),
      'download it again',
      { cause: error },
    );
  }
  return { format, width: header.width, height: header.height };
}

function unknownFormat(data: Buffer, hint?: string): UserError {
  return new UserError(
    'image-format',
    `original is not a PNG, JPEG, WebP, AVIF, TIFF or GIF image (starts ${hexStart(data)})`,
    hint,
  );
}

const megapixels = (pixels: number) =>
  pixels >= 1e6 ? `${Math.round(pixels / 1e5) / 10} MP` : `${pixels} px`;
const hexStart = (data: Buffer) => data.subarray(0, 8).toString('hex') || 'empty';
const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));
