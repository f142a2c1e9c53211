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
  let meta;
  try {
    meta = await sharp(data, { limitInputPixels: false }).metadata();
  } catch (err) {
    throw new Error(`${format} header unreadable: ${(err as Error).message}`);
  }
  if (!meta.width || !meta.height) throw new Error(`${format} header has no dimensions`);
  return { format, width: meta.width, height: meta.height };
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
