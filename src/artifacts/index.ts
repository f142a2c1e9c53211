// What a run leaves beside its images besides the images: atlases, contact sheets, the gallery.
// Built after the lock is compacted, from the lock's final state, so a rerun that changed nothing
// rebuilds nothing (each builder skips work whose inputs did not change).
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { buildProvenanceSidecars } from '../export/sidecars.js';
import type { LockEntry } from '../lock/entry.js';
import { buildAtlases } from '../post/atlas-build.js';
import { buildContactSheets } from '../post/contact-sheet.js';
import type { Project } from '../pipeline.js';
import { buildGallery, GALLERY_FILE } from '../report/gallery.js';
import type { RunSummary } from '../run/events.js';

export interface ArtifactContext {
  project: Project;
  /** The lock after the run: the last record per job id (only jobs still in the manifest). */
  entries: ReadonlyMap<string, LockEntry>;
  summary: RunSummary;
}

export interface ArtifactResult {
  /** Files written (absolute paths). */
  written: string[];
  /** Files found up to date and left alone. */
  unchanged: string[];
}

type Builder = (ctx: ArtifactContext) => Promise<ArtifactResult>;

/** Builders run in order; each is independent of the others. */
const BUILDERS: Builder[] = [buildProvenanceSidecars, buildAtlases, buildContactSheets, galleryUnlessOff];

/**
 * The gallery is on by default; `gallery: false` in the config skips it (and its thumbnails). A run
 * that changed nothing leaves the page of the last run that did.
 */
async function galleryUnlessOff(ctx: ArtifactContext): Promise<ArtifactResult> {
  if (!ctx.project.config.gallery) return { written: [], unchanged: [] };
  const s = ctx.summary;
  const page = path.join(ctx.project.manifest.outputDir, GALLERY_FILE);
  if (s.generated + s.rebuilt + s.failed + s.interrupted === 0 && (await exists(page))) return { written: [], unchanged: [page] };
  return buildGallery(ctx);
}

function exists(file: string): Promise<boolean> {
  return stat(file).then(() => true, () => false);
}

export async function buildArtifacts(ctx: ArtifactContext): Promise<ArtifactResult> {
  const result: ArtifactResult = { written: [], unchanged: [] };
  for (const build of BUILDERS) {
    const r = await build(ctx);
    result.written.push(...r.written);
    result.unchanged.push(...r.unchanged);
  }
  return result;
}
