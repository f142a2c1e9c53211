// Where a job's outputs go and which recipe makes each: shared by the plan (is it up to date?) and
// the run (write it). Paths in the lock are relative to the manifest's folder, with POSIX separators.
import path from 'node:path';
import { sha256 } from '../fs/atomic.js';
import { extensionFor, recipeHash } from '../post/process.js';
import type { Job, OutputSpec } from '../types.js';

export interface ExpectedOutput {
  /** Relative to the manifest folder, POSIX. */
  path: string;
  recipe: string;
  spec: OutputSpec | null;
}

export interface OriginalRef {
  sha256: string;
  ext: string;
}

export function expectedOutputs(job: Job, original: OriginalRef, manifestDir: string, outputDir: string): ExpectedOutput[] {
  // Embedded provenance changes the bytes written, so it is part of every output's recipe.
  const recipe = (spec: OutputSpec | null) => {
    const r = recipeHash(original.sha256, job.post, spec);
    return job.provenance === 'embed' ? sha256(`${r}:provenance-embed`) : r;
  };
  const rel = (suffix: string, ext: string) =>
    toPosix(path.relative(manifestDir, path.join(outputDir, `${job.path}${suffix}.${ext}`)));
  if (job.outputs.length === 0) {
    return [{ path: rel('', original.ext), recipe: recipe(null), spec: null }];
  }
  return job.outputs.map((spec) => ({
    path: rel(spec.suffix, extensionFor(spec.format)),
    recipe: recipe(spec),
    spec,
  }));
}

export function toPosix(p: string): string {
  return p.split(path.sep).join('/');
}
