// Which files in an output folder are artifacts (atlas sheets and data, contact sheets) rather
// than job outputs (and the gallery's thumbnails): `gc --outputs` must not call them orphans. Sidecars are JSON, never images.
import path from 'node:path';
import { atlasFilePattern } from '../post/atlas-formats.js';
import { isGalleryFile } from '../report/gallery.js';
import type { Manifest } from '../types.js';

export function artifactMatcher(manifest: Manifest): (abs: string) => boolean {
  const atlases = (manifest.atlases ?? []).map((a) => {
    const target = path.join(manifest.outputDir, a.path);
    return { dir: path.dirname(target), pattern: atlasFilePattern(path.basename(target)) };
  });
  const sheets = new Set((manifest.contactSheets ?? []).flatMap((s) => s.pages.map((p) => path.join(manifest.outputDir, `${p.path}.png`))));
  return (abs) =>
    sheets.has(abs) ||
    isGalleryFile(manifest.outputDir, abs) ||
    atlases.some((a) => path.dirname(abs) === a.dir && a.pattern.test(path.basename(abs)));
}
