// The post-processing vocabulary: sharp's own operation names and option shapes, checked shallowly
// (known names, basic types, sane bounds) so a manifest fails at validation, not mid-run.
// No sharp import here: the manifest validator loads this without the native module.
import {
  bool,
  checkFields,
  colour,
  didYouMean,
  int,
  isPlainObject,
  matrix2x2,
  num,
  numberOrNumbers,
  oneOf,
  positive,
  show,
  type Rule,
} from './option-rules.js';

export { checkOutputOptions } from './output-options.js';

/** No operation may produce a canvas wider or taller than this (pixels). */
export const MAX_CANVAS_SIDE = 16384;

/** How one operation's value may be written in the manifest. */
interface OpSpec {
  /** For messages: the accepted forms. */
  accepts: string;
  /** Usable with no value: `null`, `{}` or `true`. */
  bare?: boolean;
  /** Accepts `true`/`false` (sharp's on/off argument). */
  toggle?: boolean;
  /** A non-object value: number, string or array. */
  shorthand?: Rule;
  /** Option names of the object form and their rules. */
  fields?: Record<string, Rule>;
  required?: readonly string[];
  /** Cross-field check of the object form. */
  refine?: (options: Record<string, unknown>) => string | undefined;
}

const side = int(1, MAX_CANVAS_SIDE);
const edge = int(0, MAX_CANVAS_SIDE);
const offset = int(0, 100_000_000);
const gravity = [
  'centre', 'center', 'north', 'northeast', 'east', 'southeast', 'south', 'southwest', 'west',
  'northwest', 'top', 'right', 'bottom', 'left', 'right top', 'right bottom', 'left bottom',
  'left top', 'entropy', 'attention',
] as const;
const interpolators = ['nearest', 'bilinear', 'bicubic', 'lbb', 'nohalo', 'vsqbs'] as const;

const greyscale: OpSpec = { accepts: 'nothing, or true/false', bare: true, toggle: true };
const normalise: OpSpec = {
  accepts: 'nothing, or { lower, upper } (percentiles)',
  bare: true,
  fields: { lower: num(0, 99), upper: num(1, 100) },
  refine: (o) =>
    typeof o.lower === 'number' && typeof o.upper === 'number' && o.lower >= o.upper
      ? `lower (${o.lower}) must be less than upper (${o.upper})`
      : undefined,
};

const SPECS: Record<string, OpSpec> = {
  resize: {
    accepts: 'a width, or { width, height, fit, position, background, kernel, … }',
    shorthand: side,
    fields: {
      width: side,
      height: side,
      fit: oneOf(['cover', 'contain', 'fill', 'inside', 'outside']),
      position: (v) => (typeof v === 'number' ? int(0, 17)(v) : oneOf(gravity)(v)),
      background: colour,
      kernel: oneOf(['nearest', 'linear', 'cubic', 'mitchell', 'lanczos2', 'lanczos3', 'mks2013', 'mks2021']),
      withoutEnlargement: bool,
      withoutReduction: bool,
      fastShrinkOnLoad: bool,
    },
    refine: (o) => (o.width === undefined && o.height === undefined ? 'needs width, height or both' : undefined),
  },
  extract: {
    accepts: '{ left, top, width, height }',
    fields: { left: offset, top: offset, width: side, height: side },
    required: ['left', 'top', 'width', 'height'],
  },
  trim: {
    accepts: 'nothing, or { background, threshold, lineArt, margin }',
    bare: true,
    fields: { background: colour, threshold: num(0), lineArt: bool, margin: int(0, 10_000_000) },
  },
  extend: {
    accepts: 'a pixel count for every edge, or { top, bottom, left, right, extendWith, background }',
    shorthand: int(1, MAX_CANVAS_SIDE),
    fields: {
      top: edge,
      bottom: edge,
      left: edge,
      right: edge,
      background: colour,
      extendWith: oneOf(['background', 'copy', 'repeat', 'mirror']),
    },
  },
  flatten: { accepts: 'nothing, true/false, or { background }', bare: true, toggle: true, fields: { background: colour } },
  unflatten: { accepts: 'nothing', bare: true },
  rotate: {
    accepts: 'an angle in degrees, or { angle, background } (use autoOrient for EXIF orientation)',
    shorthand: num(),
    fields: { angle: num(), background: colour },
    required: ['angle'],
  },
  autoOrient: { accepts: 'nothing', bare: true },
  flip: { accepts: 'nothing, or true/false', bare: true, toggle: true },
  flop: { accepts: 'nothing, or true/false', bare: true, toggle: true },
  affine: {
    accepts: '[a, b, c, d], or { matrix, background, idx, idy, odx, ody, interpolator }',
    shorthand: matrix2x2,
    fields: {
      matrix: matrix2x2,
      background: colour,
      idx: num(),
      idy: num(),
      odx: num(),
      ody: num(),
      interpolator: oneOf(interpolators),
    },
    required: ['matrix'],
  },
  modulate: {
    accepts: '{ brightness, saturation, hue, lightness }',
    fields: { brightness: positive, saturation: num(0), hue: num(), lightness: num() },
  },
  tint: {
    accepts: 'a colour: "#rrggbb", a name, or { r, g, b }',
    shorthand: colour,
    fields: { r: int(0, 255), g: int(0, 255), b: int(0, 255), alpha: num(0, 1) },
    required: ['r', 'g', 'b'],
  },
  greyscale,
  grayscale: greyscale,
  blur: {
    accepts: 'nothing, true/false, a sigma (0.3-1000), or { sigma, precision, minAmplitude }',
    bare: true,
    toggle: true,
    shorthand: num(0.3, 1000),
    fields: {
      sigma: num(0.3, 1000),
      precision: oneOf(['integer', 'float', 'approximate']),
      minAmplitude: num(0.001, 1),
    },
    required: ['sigma'],
  },
  sharpen: {
    accepts: 'nothing, or { sigma, m1, m2, x1, y2, y3 }',
    bare: true,
    fields: {
      sigma: num(0.000001, 10),
      m1: num(0, 1_000_000),
      m2: num(0, 1_000_000),
      x1: num(0, 1_000_000),
      y2: num(0, 1_000_000),
      y3: num(0, 1_000_000),
    },
    required: ['sigma'],
  },
  median: { accepts: 'nothing, or a window size (1-1000)', bare: true, shorthand: int(1, 1000) },
  dilate: { accepts: 'nothing, or a width in pixels', bare: true, shorthand: int(1, 1000) },
  erode: { accepts: 'nothing, or a width in pixels', bare: true, shorthand: int(1, 1000) },
  normalise,
  normalize: normalise,
  clahe: {
    accepts: '{ width, height, maxSlope }',
    fields: { width: int(1, 65536), height: int(1, 65536), maxSlope: int(0, 100) },
    required: ['width', 'height'],
  },
  gamma: {
    accepts: 'nothing, a gamma (1-3), or { gamma, gammaOut }',
    bare: true,
    shorthand: num(1, 3),
    fields: { gamma: num(1, 3), gammaOut: num(1, 3) },
  },
  negate: { accepts: 'nothing, true/false, or { alpha }', bare: true, toggle: true, fields: { alpha: bool } },
  linear: {
    accepts: '{ a, b } (multiplier and offset: numbers, or one per channel)',
    fields: { a: numberOrNumbers, b: numberOrNumbers },
  },
  threshold: {
    accepts: 'nothing, a level (0-255), or { threshold, greyscale }',
    bare: true,
    shorthand: int(0, 255),
    fields: { threshold: int(0, 255), greyscale: bool, grayscale: bool },
  },
  removeAlpha: { accepts: 'nothing', bare: true },
  ensureAlpha: { accepts: 'nothing, or an alpha from 0 to 1', bare: true, shorthand: num(0, 1) },
};

/** Operation names, exactly as sharp spells its methods. */
export const POST_OPERATIONS: readonly string[] = Object.freeze(Object.keys(SPECS));

/**
 * Checks one post operation; returns what is wrong (naming the operation and the fix) or
 * undefined. Shallow: it cannot know the image, so bounds against the image wait for the run.
 */
export function checkPostOp(op: string, options: unknown): string | undefined {
  const spec = Object.hasOwn(SPECS, op) ? SPECS[op] : undefined;
  if (!spec) {
    const hint = didYouMean(op, POST_OPERATIONS);
    return hint
      ? `unknown operation "${op}"; did you mean "${hint}"?`
      : `unknown operation "${op}" (known: ${POST_OPERATIONS.join(', ')})`;
  }
  const problem = checkValue(spec, options);
  return problem ? `${op}: ${problem}` : undefined;
}

function checkValue(spec: OpSpec, value: unknown): string | undefined {
  const expected = `expected ${spec.accepts}, got ${show(value)}`;
  if (value === undefined || value === null) return spec.bare ? undefined : `needs options: ${spec.accepts}`;
  if (typeof value === 'boolean') {
    return spec.toggle || (spec.bare && value) ? undefined : expected;
  }
  if (isPlainObject(value)) {
    if (!spec.fields) return Object.keys(value).length === 0 ? undefined : `takes no options, got ${show(value)}`;
    if (spec.bare && Object.keys(value).length === 0) return undefined;
    return checkFields(value, spec.fields, spec.required) ?? spec.refine?.(value);
  }
  if (spec.shorthand) {
    const problem = spec.shorthand(value);
    return problem ? `value ${problem}; expected ${spec.accepts}` : undefined;
  }
  return expected;
}
