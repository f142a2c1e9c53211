// Thumbnails for the gallery: small WebP files in `<output>/.gallery/`, named by the content hash of
// the image they show (and the thumbnail recipe), with their size in the name. A rerun lists the
// folder once and makes only the thumbnails it lacks: no decode, no stat per image.
import { createHash } from 'node:crypto';
import { mkdir, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pLimit from 'p-limit';
import sharp from 'sharp';
import { writeFileAtomic } from '../fs/atomic.js';

export const THUMB_DIR = '.gallery';
/** Longest side, px: sharp enough for ~200 px cards on a 1.25× screen, small enough for 5000 of them. */
export const THUMB_MAX = 256;
/** Part of every thumbnail's name: changing how thumbnails are made gives them new names. */
const THUMB_RECIPE = `thumb-v1:inside:${THUMB_MAX}:webp:q70`;
const THUMB_NAME = /^([0-9a-f]{24})-(\d+)x(\d+)\.webp$/;

export interface Thumb {
  /** File name inside THUMB_DIR. */
  file: string;
  width: number;
  height: number;
}

export interface ThumbSource {
  /** Content hash of the image (from the lock). */
  sha256: string;
  abs: string;
}

export interface ThumbResult {
  /** Image sha256 → its thumbnail. */
  thumbs: Map<string, Thumb>;
  /** Image sha256 → why no thumbnail could be made (file missing or not an image). */
  problems: Map<string, string>;
  written: string[];
  unchanged: string[];
  removed: string[];
}

export async function ensureThumbs(outputDir: string, sources: readonly ThumbSource[]): Promise<ThumbResult> {
  const dir = path.join(outputDir, THUMB_DIR);
  const existing = await listThumbs(dir);
  const result: ThumbResult = { thumbs: new Map(), problems: new Map(), written: [], unchanged: [], removed: [] };
  const wanted = new Map<string, ThumbSource>();
  for (const s of sources) if (!wanted.has(s.sha256)) wanted.set(s.sha256, s);

  const missing: Array<[hash: string, ThumbSource]> = [];
  for (const [sha, source] of wanted) {
    const hash = thumbHash(sha);
    const found = existing.get(hash);
    if (found) {
      result.thumbs.set(sha, found);
      result.unchanged.push(path.join(dir, found.file));
    } else missing.push([hash, source]);
  }
  if (missing.length > 0) await mkdir(dir, { recursive: true });
  const limit = pLimit(Math.max(1, os.availableParallelism()));
  await Promise.all(
    missing.map(([hash, source]) =>
      limit(async () => {
        try {
          const thumb = await makeThumb(dir, hash, source.abs);
          result.thumbs.set(source.sha256, thumb);
          result.written.push(path.join(dir, thumb.file));
        } catch (err) {
          result.problems.set(source.sha256, describe(err, source.abs));
        }
      }),
    ),
  );
  // Thumbnails of images no job shows any more: ours to remove, so the folder does not grow forever.
  const kept = new Set([...result.thumbs.values()].map((t) => t.file));
  for (const t of existing.values()) {
    if (kept.has(t.file)) continue;
    await rm(path.join(dir, t.file), { force: true });
    result.removed.push(path.join(dir, t.file));
  }
  return result;
}

export function thumbHash(imageSha256: string): string {
  return createHash('sha256').update(`${THUMB_RECIPE}\n${imageSha256}`).digest('hex').slice(0, 24);
}

async function listThumbs(dir: string): Promise<Map<string, Thumb>> {
  const out = new Map<string, Thumb>();
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return out;
    throw err;
  }
  for (const file of names) {
    const m = THUMB_NAME.exec(file);
    if (m) out.set(m[1]!, { file, width: Number(m[2]), height: Number(m[3]) });
  }
  return out;
}

async function makeThumb(dir: string, hash: string, source: string): Promise<Thumb> {
  const { data, info } = await sharp(source, { animated: false })
    .rotate()
    .resize({ width: THUMB_MAX, height: THUMB_MAX, fit: 'inside', withoutEnlargement: true })
    .webp({ quality: 70, effort: 2 })
    .toBuffer({ resolveWithObject: true });
  const thumb: Thumb = { file: `${hash}-${info.width}x${info.height}.webp`, width: info.width, height: info.height };
  // Derived and cheap to remake: atomic (never half a file) but not fsynced.
  await writeFileAtomic(path.join(dir, thumb.file), data, { fsync: false });
  return thumb;
}

/** Why there is no thumbnail, without the local absolute path (the page may be shared). */
function describe(err: unknown, file: string): string {
  const message = err instanceof Error ? err.message : String(err);
  if ((err as NodeJS.ErrnoException).code === 'ENOENT' || /input file is missing/i.test(message)) return 'output file missing';
  return `no thumbnail: ${message.split('\n')[0]!.replaceAll(file, path.basename(file))}`;
}
