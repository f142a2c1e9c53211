// Where a manifest's lock and cache live: beside the manifest, so they travel with it.
import { basename, dirname, extname, join } from 'node:path';

/** `sprites.yaml` → `sprites.lock`, `x.yml` → `x.lock`, `Makefile` → `Makefile.lock` (same folder). */
export function lockPathFor(manifestPath: string): string {
  const base = basename(manifestPath);
  const ext = extname(base);
  return join(dirname(manifestPath), `${ext ? base.slice(0, -ext.length) : base}.lock`);
}

/** The default original cache: `.flux-cache` beside the manifest (DESIGN decision 4). */
export function defaultCacheDir(manifestPath: string): string {
  return join(dirname(manifestPath), '.flux-cache');
}
