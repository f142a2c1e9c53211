// Encoder options per output format, in sharp's own names and bounds (sharp 0.35 `output` module).
import { OUTPUT_FORMATS } from '../types.js';
import { bool, checkFields, didYouMean, int, isPlainObject, num, oneOf, show, type Rule } from './option-rules.js';

const quality = int(1, 100);
const colours = int(2, 256);
const chromaSubsampling = oneOf(['4:2:0', '4:4:4']);
const animation: Record<string, Rule> = {
  loop: int(0, 65535),
  delay: (v) =>
    Array.isArray(v) ? (v.every((d) => !int(0, 65535)(d)) ? undefined : 'must list integers from 0 to 65535') : int(0, 65535)(v),
};

const ENCODER_OPTIONS: Record<string, Record<string, Rule>> = {
  png: {
    progressive: bool,
    compressionLevel: int(0, 9),
    adaptiveFiltering: bool,
    palette: bool,
    quality: int(0, 100),
    effort: int(1, 10),
    colours,
    colors: colours,
    dither: num(0, 1),
  },
  jpeg: {
    quality,
    progressive: bool,
    chromaSubsampling,
    optimiseCoding: bool,
    optimizeCoding: bool,
    mozjpeg: bool,
    trellisQuantisation: bool,
    trellisQuantization: bool,
    overshootDeringing: bool,
    optimiseScans: bool,
    optimizeScans: bool,
    quantisationTable: int(0, 8),
    quantizationTable: int(0, 8),
  },
  webp: {
    quality,
    alphaQuality: int(0, 100),
    lossless: bool,
    nearLossless: bool,
    smartSubsample: bool,
    smartDeblock: bool,
    preset: oneOf(['default', 'photo', 'picture', 'drawing', 'icon', 'text']),
    effort: int(0, 6),
    minSize: bool,
    mixed: bool,
    exact: bool,
    ...animation,
  },
  avif: {
    quality,
    lossless: bool,
    effort: int(0, 9),
    chromaSubsampling,
    bitdepth: oneOf([8, 10, 12]),
    tune: oneOf(['auto', 'iq', 'psnr', 'ssim']),
  },
  tiff: {
    quality,
    compression: oneOf(['none', 'jpeg', 'deflate', 'packbits', 'ccittfax4', 'lzw', 'webp', 'zstd', 'jp2k']),
    predictor: oneOf(['none', 'horizontal', 'float']),
    pyramid: bool,
    bigtiff: bool,
    tile: bool,
    tileWidth: int(1, 32768),
    tileHeight: int(1, 32768),
    xres: num(0.001, 1_000_000),
    yres: num(0.001, 1_000_000),
    resolutionUnit: oneOf(['inch', 'cm']),
    bitdepth: oneOf([1, 2, 4]),
    miniswhite: bool,
  },
  gif: {
    reuse: bool,
    progressive: bool,
    colours,
    colors: colours,
    effort: int(1, 10),
    dither: num(0, 1),
    interFrameMaxError: num(0, 32),
    interPaletteMaxError: num(0, 256),
    keepDuplicateFrames: bool,
    ...animation,
  },
};

/**
 * Checks an output's format and encoder options; returns what is wrong or undefined.
 * `suffix` is not an encoder option: the manifest layer takes it off before calling this.
 */
export function checkOutputOptions(format: string, options: unknown): string | undefined {
  const fields = (OUTPUT_FORMATS as readonly string[]).includes(format) ? ENCODER_OPTIONS[format] : undefined;
  if (!fields) {
    const hint = format === 'jpg' ? 'jpeg' : format === 'tif' ? 'tiff' : didYouMean(format, OUTPUT_FORMATS);
    return hint
      ? `unknown output format "${format}"; did you mean "${hint}"?`
      : `unknown output format "${format}" (known: ${OUTPUT_FORMATS.join(', ')})`;
  }
  if (options === undefined || options === null) return undefined;
  if (!isPlainObject(options)) return `${format}: options must be an object like { quality: 90 }, got ${show(options)}`;
  if ('suffix' in options) {
    return `${format}: suffix is not an encoder option; put it on the output entry beside "${format}:", not inside its options`;
  }
  const problem = checkFields(options, fields);
  return problem ? `${format}: ${problem}` : undefined;
}
