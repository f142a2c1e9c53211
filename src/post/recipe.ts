// Recipe hashes (DESIGN decision 1): what an output was made from, so a changed recipe rebuilds
// it from the cached original and an unchanged one is skipped.
import { createHash } from 'node:crypto';
import sharp from 'sharp';
import type { OutputSpec, PostOp } from '../types.js';

export const sha256 = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');

/**
 * The recipe hash of one output (DESIGN decision 1): sha256 hex of the canonical JSON of the
 * original's sha256, the operations, the encoding, and the sharp and libvips versions. `suffix`
 * is left out: it names the file, it does not change the bytes.
 */
export function recipeHash(originalSha256: string, post: PostOp[], output: OutputSpec | null): string {
  return sha256(
    canonicalJson({
      original: originalSha256,
      post: post.map(({ op, options }) => ({ op, options: options ?? null })),
      output: output ? { format: output.format, options: output.options ?? {} } : null,
      sharp: sharp.versions.sharp,
      vips: sharp.versions.vips,
    }),
  );
}

/** JSON with object keys sorted at every depth; `undefined` properties dropped, as JSON does. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v ?? null)).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
