// Atlas data files in the layouts engines load as is: TexturePacker's JSON hash and JSON array
// (Phaser `load.atlas`, PixiJS `Spritesheet`) and Phaser 3's multi-atlas (`load.multiatlas`).
// Keys are written in a fixed order and nothing varies between runs (no dates, no absolute paths):
// the only run-specific value is `meta.smartupdate`, the hash of the atlas inputs.
import type { AtlasFormat } from './atlas-spec.js';
import type { AtlasPage, PlacedFrame } from './atlas.js';

export const ATLAS_APP = 'https://github.com/flux-batch/flux-batch';

export interface AtlasFiles {
  /** Sheet file names (relative to the atlas folder), one per page. */
  sheets: string[];
  /** Data file name → its text. */
  data: Map<string, string>;
}

export interface AtlasLayoutInput {
  /** File base name, e.g. `hero` for `hero.png` + `hero.json`. */
  base: string;
  pages: AtlasPage[];
  formats: AtlasFormat[];
  /** Animation name → frame names in order. */
  animations: Map<string, string[]>;
  smartupdate: string;
}

const DATA_SUFFIX: Record<AtlasFormat, string> = { 'json-hash': '.json', 'json-array': '.array.json', phaser3: '.multiatlas.json' };

/** Sheet file names: `hero.png`, or `hero-0.png`, `hero-1.png`… when the frames need several. */
export function sheetNames(base: string, pages: number): string[] {
  return pages === 1 ? [`${base}.png`] : Array.from({ length: pages }, (_, i) => `${base}-${i}.png`);
}

/** Data file names of a format: one per page for hash/array, one for the Phaser 3 multi-atlas. */
export function dataNames(base: string, format: AtlasFormat, pages: number): string[] {
  if (format === 'phaser3') return [`${base}${DATA_SUFFIX.phaser3}`];
  const suffix = DATA_SUFFIX[format];
  return pages === 1 ? [`${base}${suffix}`] : Array.from({ length: pages }, (_, i) => `${base}-${i}${suffix}`);
}

/** Matches every file an atlas with this base name can write (for clean-up and for `gc`). */
export function atlasFilePattern(base: string): RegExp {
  return new RegExp(`^${base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(-\\d+)?(\\.array|\\.multiatlas)?\\.(png|json)$`);
}

export function atlasFiles(input: AtlasLayoutInput): AtlasFiles {
  const n = input.pages.length;
  const sheets = sheetNames(input.base, n);
  const data = new Map<string, string>();
  for (const format of input.formats) {
    const names = dataNames(input.base, format, n);
    if (format === 'phaser3') {
      data.set(names[0]!, stringify(multiAtlas(input, sheets)));
      continue;
    }
    input.pages.forEach((page, i) => {
      const related = i === 0 ? names.slice(1) : [];
      data.set(names[i]!, stringify(texturePacker(format, page, sheets[i]!, related, pageAnimations(input.animations, page), input.smartupdate)));
    });
  }
  return { sheets, data };
}

function stringify(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

function frameFields(f: PlacedFrame) {
  return {
    frame: { x: f.x, y: f.y, w: f.w, h: f.h },
    rotated: false,
    trimmed: f.trimmed,
    spriteSourceSize: { x: f.offX, y: f.offY, w: f.w, h: f.h },
    sourceSize: { w: f.sourceW, h: f.sourceH },
  };
}

function texturePacker(format: 'json-hash' | 'json-array', page: AtlasPage, image: string, related: string[], animations: Record<string, string[]> | undefined, smartupdate: string) {
  const frames =
    format === 'json-hash'
      ? Object.fromEntries(page.frames.map((f) => [f.name, frameFields(f)]))
      : page.frames.map((f) => ({ filename: f.name, ...frameFields(f) }));
  const meta: Record<string, unknown> = {
    app: ATLAS_APP,
    version: '1.0',
    image,
    format: 'RGBA8888',
    size: { w: page.width, h: page.height },
    scale: '1',
  };
  // PixiJS loads the other pages of a multi-page sheet from the first one's `related_multi_packs`.
  if (related.length) meta.related_multi_packs = related;
  meta.smartupdate = smartupdate;
  return animations ? { frames, animations, meta } : { frames, meta };
}

function multiAtlas(input: AtlasLayoutInput, sheets: string[]) {
  const textures = input.pages.map((page, i) => ({
    image: sheets[i],
    format: 'RGBA8888',
    size: { w: page.width, h: page.height },
    scale: 1,
    frames: page.frames.map((f) => ({ filename: f.name, ...frameFields(f) })),
  }));
  const animations = input.animations.size ? Object.fromEntries(input.animations) : undefined;
  const meta = { app: ATLAS_APP, version: '3.0', smartupdate: input.smartupdate };
  return animations ? { textures, animations, meta } : { textures, meta };
}

/** A page's own animations: the frames of each animation that are on this page, in order. */
function pageAnimations(all: Map<string, string[]>, page: AtlasPage): Record<string, string[]> | undefined {
  if (all.size === 0) return undefined;
  const here = new Set(page.frames.map((f) => f.name));
  const out: Record<string, string[]> = {};
  for (const [name, frames] of all) {
    const mine = frames.filter((f) => here.has(f));
    if (mine.length) out[name] = mine;
  }
  return Object.keys(out).length ? out : undefined;
}
