// Image formats from bytes (magic numbers, no decode) and the file extensions we write.
import type { OutputFormat } from '../types.js';

const startsWith = (data: Buffer, bytes: readonly number[], at = 0) =>
  data.length >= at + bytes.length && bytes.every((b, i) => data[at + i] === b);
const ascii = (data: Buffer, text: string, at = 0) =>
  data.length >= at + text.length && data.toString('latin1', at, at + text.length) === text;

/** The format of encoded image bytes by their magic numbers; undefined when not one we write. */
export function sniffFormat(data: Buffer): OutputFormat | undefined {
  if (startsWith(data, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'png';
  if (startsWith(data, [0xff, 0xd8, 0xff])) return 'jpeg';
  if (ascii(data, 'RIFF') && ascii(data, 'WEBP', 8)) return 'webp';
  if (ascii(data, 'GIF87a') || ascii(data, 'GIF89a')) return 'gif';
  // Classic and BigTIFF, both byte orders.
  if (ascii(data, 'II') && (data[2] === 42 || data[2] === 43) && data[3] === 0) return 'tiff';
  if (ascii(data, 'MM') && data[2] === 0 && (data[3] === 42 || data[3] === 43)) return 'tiff';
  if (isAvif(data)) return 'avif';
  return undefined;
}

/** ISO-BMFF `ftyp` box whose major or a compatible brand is `avif`/`avis` (HEIC is not AVIF). */
function isAvif(data: Buffer): boolean {
  if (!ascii(data, 'ftyp', 4) || data.length < 16) return false;
  const boxSize = Math.min(data.readUInt32BE(0), data.length);
  for (let at = 8; at + 4 <= boxSize; at += 4) {
    if (at === 12) continue; // minor version, not a brand
    const brand = data.toString('latin1', at, at + 4);
    if (brand === 'avif' || brand === 'avis') return true;
  }
  return false;
}

/**
 * The file extension (no dot) for a format. We write the short, most common spellings:
 * `jpeg` → `jpg` and `tiff` → `tif`, so every extension is three or four letters a viewer knows;
 * other formats keep their names. `jpg`/`tif` are accepted as input too. Throws for anything else.
 */
export function extensionFor(format: string): string {
  switch (format) {
    case 'jpeg':
    case 'jpg':
      return 'jpg';
    case 'tiff':
    case 'tif':
      return 'tif';
    case 'png':
    case 'webp':
    case 'avif':
    case 'gif':
      return format;
    default:
      throw new Error(`no file extension for image format "${format}" (known: png, jpeg, webp, avif, tiff, gif)`);
  }
}
