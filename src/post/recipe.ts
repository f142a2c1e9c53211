// Recipe hashes (DESIGN decision 1): what an output was made from, so a changed recipe rebuilds
// it from the cached original and an unchanged one is skipped.
import { createHash } from 'node:crypto';
import sharp from 'sharp';
import { canonicalJson } from '../manifest/keys.js';
import type { OutputSpec, PostOp } from '../types.js';

/** Bump when the way steps are applied changes, so every output is rebuilt with the new logic. */
export const PIPELINE_VERSION = 1;

export const sha256 = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');

/**
 * The recipe hash of one output (DESIGN decision 1): sha256 hex of the canonical JSON of the
 * original's sha256, the operations, the encoding, and the sharp and libvips versions. `suffix`
 * is left out: it names the file, it does not change the bytes.
 */
export function recipeHash(originalSha256: string, post: PostOp[], output: OutputSpec | null): string {
  return sha256(
    canonicalJson({
      pipeline: PIPELINE_VERSION,
      original: originalSha256,
      post: post.map(({ op, options }) => ({ op, options: options ?? null })),
      output: output ? { format: output.format, options: output.options ?? {} } : null,
      sharp: sharp.versions.sharp,
      vips: sharp.versions.vips,
    }),
  );
}
