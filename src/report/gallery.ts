// The gallery builder: `<output>/report.html` after every run, with thumbnails in `<output>/.gallery/`.
// Everything is linked by relative URL, so the page works from file:// and in a copied folder.
import path from 'node:path';
import type { ArtifactContext, ArtifactResult } from '../artifacts/index.js';
import { writeFileAtomic } from '../fs/atomic.js';
import { renderGallery } from './gallery-html.js';
import { collectGallery } from './gallery-model.js';
import { ensureThumbs, THUMB_DIR } from './gallery-thumbs.js';

export const GALLERY_FILE = 'report.html';

export interface GalleryOptions {
  /** The date printed in the header (tests pin it). */
  now?: () => Date;
}

export async function buildGallery(ctx: ArtifactContext, opts: GalleryOptions = {}): Promise<ArtifactResult> {
  const { manifest, config } = ctx.project;
  const groups = collectGallery(manifest.jobs, ctx.entries, { manifestDir: manifest.dir, outputDir: manifest.outputDir });
  const previews = groups.flatMap((g) => g.cells.flatMap((c) => (c.preview ? [c.preview] : [])));
  const thumbs = await ensureThumbs(manifest.outputDir, previews);
  const html = renderGallery({
    title: path.basename(manifest.file),
    provider: config.provider,
    generatedAt: (opts.now ?? (() => new Date()))(),
    summary: ctx.summary,
    groups,
    thumbs: thumbs.thumbs,
    problems: thumbs.problems,
  });
  const file = path.join(manifest.outputDir, GALLERY_FILE);
  await writeFileAtomic(file, html);
  return { written: [file, ...thumbs.written], unchanged: thumbs.unchanged };
}

/** The gallery's own files in an output folder (the page and its thumbnails): artifacts, never orphans. */
export function isGalleryFile(outputDir: string, abs: string): boolean {
  const rel = path.relative(outputDir, abs);
  return rel === GALLERY_FILE || rel.split(path.sep)[0] === THUMB_DIR;
}
