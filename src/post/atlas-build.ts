// The atlas artifact builder: after a run, pack each declared atlas from the lock's finished
// outputs. Skipped when the inputs hash (frame names, their sha256 from the lock, the options)
// matches the one recorded in the existing data files' `meta.smartupdate`: a nightly run whose
// frames did not change rewrites nothing.
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import type { ArtifactContext, ArtifactResult } from '../artifacts/index.js';
import { writeFileAtomic } from '../fs/atomic.js';
import { canonicalJson, sha256Hex } from '../manifest/keys.js';
import { atlasFilePattern, atlasFiles, dataNames, sheetNames } from './atlas-formats.js';
import { pickOutput, type AtlasFormat, type AtlasFrameRef, type AtlasSpec } from './atlas-spec.js';
import { packAtlas, SHEET_PNG } from './atlas.js';

/** Bump when packing or the data layout changes: every atlas is rebuilt once. */
export const ATLAS_VERSION = 1;

interface FrameSource {
  ref: AtlasFrameRef;
  abs: string;
  sha256: string;
}

export async function buildAtlases(ctx: ArtifactContext): Promise<ArtifactResult> {
  const result: ArtifactResult = { written: [], unchanged: [] };
  for (const spec of ctx.project.manifest.atlases ?? []) {
    const r = await buildAtlas(spec, ctx);
    result.written.push(...r.written);
    result.unchanged.push(...r.unchanged);
  }
  return result;
}

/** The finished frames of an atlas, in manifest order. Failed or unfinished jobs are left out. */
export function atlasSources(spec: AtlasSpec, ctx: Pick<ArtifactContext, 'project' | 'entries'>): FrameSource[] {
  const { manifest } = ctx.project;
  const jobs = new Map(manifest.jobs.map((j) => [j.id, j]));
  const out: FrameSource[] = [];
  for (const ref of spec.frames) {
    const job = jobs.get(ref.jobId);
    const entry = ctx.entries.get(ref.jobId);
    if (!job || entry?.state !== 'done') continue;
    const picked = pickOutput(job, entry.outputs, spec.output);
    if (picked) out.push({ ref, abs: path.resolve(manifest.dir, picked.path), sha256: picked.sha256 });
  }
  return out;
}

/** Everything the sheets and data files are made from; equal hashes mean equal bytes. */
export function atlasInputsHash(spec: AtlasSpec, frames: FrameSource[]): string {
  const { name, path: p, frames: _refs, source: _src, ...options } = spec;
  return sha256Hex(
    canonicalJson({
      atlas: ATLAS_VERSION,
      name,
      path: p,
      options,
      frames: frames.map((f) => ({ name: f.ref.name, sha256: f.sha256, animation: f.ref.animation ?? null })),
      png: SHEET_PNG,
      sharp: sharp.versions.sharp,
      vips: sharp.versions.vips,
    }),
  );
}

async function buildAtlas(spec: AtlasSpec, ctx: ArtifactContext): Promise<ArtifactResult> {
  const frames = atlasSources(spec, ctx);
  if (frames.length === 0) return { written: [], unchanged: [] };
  const smartupdate = atlasInputsHash(spec, frames);
  const target = path.join(ctx.project.manifest.outputDir, spec.path);
  const dir = path.dirname(target);
  const base = path.basename(target);
  const current = await upToDate(dir, base, spec.formats, smartupdate);
  if (current) return { written: [], unchanged: current };

  const inputs = await Promise.all(frames.map(async (f) => ({ name: f.ref.name, data: await readFile(f.abs) })));
  const pages = await packAtlas(inputs, spec, spec.name);
  const animations = new Map<string, string[]>();
  for (const f of frames) if (f.ref.animation !== undefined) animations.set(f.ref.animation, [...(animations.get(f.ref.animation) ?? []), f.ref.name]);
  const files = atlasFiles({ base, pages, formats: spec.formats, animations, smartupdate });
  const written: string[] = [];
  // Sheets first, data files last: a crash in between leaves no data file claiming to be current.
  for (const [i, name] of files.sheets.entries()) {
    await writeFileAtomic(path.join(dir, name), pages[i]!.png);
    written.push(path.join(dir, name));
  }
  for (const [name, text] of files.data) {
    await writeFileAtomic(path.join(dir, name), text);
    written.push(path.join(dir, name));
  }
  await removeStale(dir, base, new Set([...files.sheets, ...files.data.keys()]));
  return { written, unchanged: [] };
}

/** The atlas's files when they all exist and were made from these inputs; else undefined. */
async function upToDate(dir: string, base: string, formats: AtlasFormat[], smartupdate: string): Promise<string[] | undefined> {
  const first = formats[0];
  if (!first) return undefined;
  const pages = await recordedPages(dir, base, first);
  if (pages === undefined) return undefined;
  const names = [...sheetNames(base, pages), ...formats.flatMap((f) => dataNames(base, f, pages))];
  for (const name of names) {
    const abs = path.join(dir, name);
    if (name.endsWith('.json')) {
      const text = await readFile(abs, 'utf8').catch(() => undefined);
      if (!text?.includes(`"smartupdate": "${smartupdate}"`)) return undefined;
    } else if (!(await stat(abs).catch(() => undefined))?.isFile()) return undefined;
  }
  return names.map((n) => path.join(dir, n));
}

/** How many pages the existing atlas has, from its first data file. */
async function recordedPages(dir: string, base: string, format: AtlasFormat): Promise<number | undefined> {
  for (const pages of [1, 2]) {
    const text = await readFile(path.join(dir, dataNames(base, format, pages)[0]!), 'utf8').catch(() => undefined);
    if (text === undefined) continue;
    try {
      const json = JSON.parse(text) as { textures?: unknown[]; meta?: { related_multi_packs?: unknown[] } };
      return format === 'phaser3' ? json.textures?.length : 1 + (json.meta?.related_multi_packs?.length ?? 0);
    } catch {
      return undefined;
    }
  }
  return undefined;
}

async function removeStale(dir: string, base: string, keep: Set<string>): Promise<void> {
  const pattern = atlasFilePattern(base);
  const names = await readdir(dir).catch(() => [] as string[]);
  await Promise.all(names.filter((n) => pattern.test(n) && !keep.has(n)).map((n) => rm(path.join(dir, n), { force: true })));
}
