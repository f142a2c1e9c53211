// Is a download a whole image? Cheap checks that catch what goes wrong on the wire (truncation,
// an HTML error page, a wrong format) without decoding pixels: magic bytes, a readable header, and
// the format's end marker or declared length. Decoding happens once, later, in post-processing.
import sharp from 'sharp';
import { sniffFormat } from './format.js';
import type { OutputFormat } from '../types.js';

const PNG_IEND = Buffer.from([0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82]);

/** Throws an Error saying what is wrong; resolves with the format and size otherwise. */
export async function verifyDownload(data: Buffer, expected?: string): Promise<{ format: OutputFormat; width: number; height: number }> {
  const format = sniffFormat(data);
  if (!format) throw new Error(`not an image (${data.length} bytes starting ${JSON.stringify(data.subarray(0, 16).toString('latin1'))})`);
  if (expected && normal(expected) !== format) throw new Error(`expected ${expected}, got ${format}`);
  const end = endMarkerProblem(data, format);
  if (end) throw new Error(`${format} ${end}: the body is truncated`);
  // The common formats' headers are read here (a few bytes); the rest by sharp.
  let size = headerSize(data, format);
  if (!size) {
    try {
      const meta = await sharp(data, { limitInputPixels: false }).metadata();
      if (meta.width && meta.height) size = { width: meta.width, height: meta.height };
    } catch (err) {
      throw new Error(`${format} header unreadable: ${(err as Error).message}`);
    }
  }
  if (!size || !size.width || !size.height) throw new Error(`${format} header has no dimensions`);
  return { format, ...size };
}

type Size = { width: number; height: number };

/** Dimensions from the header of a PNG, JPEG, WebP or GIF; undefined when not found. */
export function headerSize(data: Buffer, format: OutputFormat): Size | undefined {
  try {
    switch (format) {
      case 'png':
        return data.toString('latin1', 12, 16) === 'IHDR' ? { width: data.readUInt32BE(16), height: data.readUInt32BE(20) } : undefined;
      case 'gif':
        return { width: data.readUInt16LE(6), height: data.readUInt16LE(8) };
      case 'webp':
        return webpSize(data);
      case 'jpeg':
        return jpegSize(data);
      default:
        return undefined;
    }
  } catch {
    return undefined; // RangeError on a short buffer: let sharp judge
  }
}

function webpSize(d: Buffer): Size | undefined {
  const chunk = d.toString('latin1', 12, 16);
  if (chunk === 'VP8 ') return { width: d.readUInt16LE(26) & 0x3fff, height: d.readUInt16LE(28) & 0x3fff };
  if (chunk === 'VP8L') {
    const b = d.readUInt32LE(21);
    return { width: (b & 0x3fff) + 1, height: ((b >> 14) & 0x3fff) + 1 };
  }
  if (chunk === 'VP8X') return { width: d.readUIntLE(24, 3) + 1, height: d.readUIntLE(27, 3) + 1 };
  return undefined;
}

/** Walk the JPEG markers to the first start-of-frame. */
function jpegSize(d: Buffer): Size | undefined {
  let at = 2;
  while (at + 9 < d.length) {
    if (d[at] !== 0xff) return undefined;
    const marker = d[at + 1]!;
    if (marker === 0xff) {
      at++;
      continue;
    }
    const len = d.readUInt16BE(at + 2);
    const isSof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isSof) return { height: d.readUInt16BE(at + 5), width: d.readUInt16BE(at + 7) };
    at += 2 + len;
  }
  return undefined;
}

function endMarkerProblem(data: Buffer, format: OutputFormat): string | undefined {
  switch (format) {
    case 'png':
      return data.subarray(-8).equals(PNG_IEND) ? undefined : 'has no IEND chunk at the end';
    case 'jpeg': {
      // EOI marker, allowing trailing padding some encoders add.
      const tail = data.subarray(-64);
      return tail.includes(Buffer.from([0xff, 0xd9])) ? undefined : 'has no end-of-image marker';
    }
    case 'webp':
    case 'avif':
      if (format === 'webp') return data.readUInt32LE(4) + 8 === data.length ? undefined : `declares ${data.readUInt32LE(4) + 8} bytes, has ${data.length}`;
      return undefined;
    case 'gif':
      return data[data.length - 1] === 0x3b ? undefined : 'has no trailer byte';
    default:
      return undefined;
  }
}

function normal(f: string): string {
  return f === 'jpg' ? 'jpeg' : f === 'tif' ? 'tiff' : f;
}
