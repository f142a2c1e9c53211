// Local image inputs: the manifest may point image fields (input_image, image_prompt, image, mask…)
// at local files. They are read at submit time and sent as the API expects: raw base64 for BFL and
// CometAPI's BFL route, a data URL for the Replicate format. URLs pass through unchanged.
import { readFile, stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { UserError } from '../errors.js';
import type { Job } from '../types.js';

export type ImageEncoding = 'base64' | 'data-url';

/** BFL documents "up to 20MB" per input image. */
export const MAX_INPUT_BYTES = 20 * 1024 * 1024;

const PASS_THROUGH = /^(https?:|data:)/i;

/** A copy of `job.request` with every local image input replaced by its encoded bytes. */
export async function encodeImageInputs(job: Job, style: ImageEncoding): Promise<Record<string, unknown>> {
  const request: Record<string, unknown> = { ...job.request };
  for (const [field, source] of Object.entries(job.inputs ?? {})) {
    if (PASS_THROUGH.test(source)) {
      request[field] = source;
      continue;
    }
    const bytes = await readInput(job, field, source);
    request[field] = style === 'base64' ? bytes.toString('base64') : `data:${mimeType(bytes, source)};base64,${bytes.toString('base64')}`;
  }
  return request;
}

async function readInput(job: Job, field: string, path: string): Promise<Buffer> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch (err) {
    throw new UserError(
      'input-missing',
      `job ${job.id}: ${field} refers to ${path}, which cannot be read`,
      'check the path (relative paths resolve against the manifest folder)',
      { cause: err },
    );
  }
  if (size > MAX_INPUT_BYTES) {
    const mb = (size / (1024 * 1024)).toFixed(1);
    throw new UserError(
      'input-too-large',
      `job ${job.id}: ${field} file ${path} is ${mb} MB; the API accepts at most 20 MB`,
      'shrink or recompress the image, or host it and give its URL instead',
    );
  }
  return readFile(path);
}

/** MIME type from the magic bytes, falling back to the file extension. */
export function mimeType(bytes: Buffer, path: string): string {
  if (bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'image/png';
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'image/jpeg';
  if (bytes.toString('latin1', 0, 4) === 'RIFF' && bytes.toString('latin1', 8, 12) === 'WEBP') return 'image/webp';
  if (bytes.toString('latin1', 0, 4) === 'GIF8') return 'image/gif';
  const byExt: Record<string, string> = {
    '.png': 'image/png',
    '.jpg': 'image/jpeg',
    '.jpeg': 'image/jpeg',
    '.webp': 'image/webp',
    '.gif': 'image/gif',
    '.avif': 'image/avif',
  };
  return byExt[extname(path).toLowerCase()] ?? 'application/octet-stream';
}
