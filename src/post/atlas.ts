// Atlas packing: frames in, sheets (PNG) and frame rectangles out. Deterministic by construction:
// frames are sorted by name before packing, the packer's options are fixed, pixels are composed
// in JS (no libvips compositing order to depend on) and each sheet is encoded with fixed PNG
// settings and no metadata, so the same frames always give byte-identical sheets.
import type * as Packer from 'maxrects-packer';
import sharp from 'sharp';
import { UserError } from '../errors.js';
import type { AtlasPackOptions } from './atlas-spec.js';

export interface AtlasInput {
  name: string;
  /** Encoded image (any format sharp reads). */
  data: Buffer;
}

export interface PlacedFrame {
  name: string;
  page: number;
  /** The (trimmed) frame's rectangle on its sheet, extrusion excluded. */
  x: number;
  y: number;
  w: number;
  h: number;
  sourceW: number;
  sourceH: number;
  /** Where the trimmed rectangle sits inside the source image. */
  offX: number;
  offY: number;
  trimmed: boolean;
}

export interface AtlasPage {
  width: number;
  height: number;
  png: Buffer;
  /** Sorted by name. */
  frames: PlacedFrame[];
}

interface Pixels {
  data: Buffer;
  width: number;
  height: number;
}

interface Prepared {
  name: string;
  pixels: Pixels;
  sourceW: number;
  sourceH: number;
  offX: number;
  offY: number;
}

/** Fixed encoder settings: part of the determinism promise (and of the atlas inputs hash). */
export const SHEET_PNG = { compressionLevel: 9, adaptiveFiltering: false, palette: false, progressive: false } as const;

/** Byte order, not locale order: the same on every machine. */
export const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

export async function packAtlas(inputs: AtlasInput[], opts: AtlasPackOptions, atlasName = 'atlas'): Promise<AtlasPage[]> {
  const sorted = [...inputs].sort(byName);
  const frames: Prepared[] = [];
  for (const input of sorted) frames.push(await prepare(input, opts.trim));
  const e = opts.extrude;
  for (const f of frames) {
    const w = f.pixels.width + 2 * e;
    const h = f.pixels.height + 2 * e;
    if (w + 2 * opts.border > opts.maxWidth || h + 2 * opts.border > opts.maxHeight) {
      throw new UserError(
        'atlas-frame-too-large',
        `atlas \`${atlasName}\`: frame \`${f.name}\` is ${f.pixels.width}×${f.pixels.height} (with extrude ${e} and border ${opts.border}), ` +
          `larger than the sheet's maximum ${opts.maxWidth}×${opts.maxHeight}`,
        'raise `max_size`, or resize the frames in `post`',
      );
    }
  }
  const { MaxRectsPacker, PACKING_LOGIC } = await loadPacker();
  const packer = new MaxRectsPacker(opts.maxWidth, opts.maxHeight, opts.padding, {
    smart: true,
    pot: opts.pot,
    square: opts.square,
    allowRotation: false,
    tag: false,
    border: opts.border,
    logic: PACKING_LOGIC.MAX_EDGE,
  });
  // Biggest first (the usual maxrects heuristic), ties by name: an order of our own, so a change in
  // the library's sort cannot reorder equal frames.
  const order = [...frames].sort((a, b) => {
    const ea = Math.max(a.pixels.width, a.pixels.height);
    const eb = Math.max(b.pixels.width, b.pixels.height);
    return eb - ea || b.pixels.width * b.pixels.height - a.pixels.width * a.pixels.height || byName(a, b);
  });
  for (const f of order) packer.add(f.pixels.width + 2 * e, f.pixels.height + 2 * e, { name: f.name });
  if (packer.bins.length > 1 && !opts.multipage) {
    throw new UserError(
      'atlas-overflow',
      `atlas \`${atlasName}\`: ${frames.length} frames need ${packer.bins.length} sheets of at most ${opts.maxWidth}×${opts.maxHeight}, and \`multipage\` is false`,
      'raise `max_size`, set `multipage: true`, or make the frames smaller',
    );
  }
  const byFrameName = new Map(frames.map((f) => [f.name, f]));
  const pages: AtlasPage[] = [];
  for (const [page, bin] of packer.bins.entries()) {
    const sheet: Pixels = { width: bin.width, height: bin.height, data: Buffer.alloc(bin.width * bin.height * 4) };
    const placed: PlacedFrame[] = [];
    for (const rect of bin.rects) {
      const f = byFrameName.get((rect.data as { name: string }).name)!;
      blitExtruded(sheet, f.pixels, rect.x, rect.y, e);
      placed.push({
        name: f.name,
        page,
        x: rect.x + e,
        y: rect.y + e,
        w: f.pixels.width,
        h: f.pixels.height,
        sourceW: f.sourceW,
        sourceH: f.sourceH,
        offX: f.offX,
        offY: f.offY,
        trimmed: f.pixels.width !== f.sourceW || f.pixels.height !== f.sourceH,
      });
    }
    const png = await sharp(sheet.data, { raw: { width: sheet.width, height: sheet.height, channels: 4 } }).png(SHEET_PNG).toBuffer();
    pages.push({ width: sheet.width, height: sheet.height, png, frames: placed.sort(byName) });
  }
  return pages;
}

/**
 * maxrects-packer 2 declares `"type": "module"` but its `main` is a UMD bundle, which Node then
 * loads as an ES module that exports nothing; its ES build sits beside it. Typed from the package.
 */
let packerModule: Promise<typeof Packer> | undefined;
function loadPacker(): Promise<typeof Packer> {
  const specifier: string = 'maxrects-packer/dist/maxrects-packer.mjs';
  packerModule ??= import(specifier) as Promise<typeof Packer>;
  return packerModule;
}

/** Decode to 8-bit sRGB RGBA; trim transparent borders when asked (a fully clear frame keeps 1×1). */
async function prepare(input: AtlasInput, trim: boolean): Promise<Prepared> {
  const { data, info } = await sharp(input.data, { limitInputPixels: false })
    .toColourspace('srgb')
    .ensureAlpha()
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true });
  const full: Pixels = { data, width: info.width, height: info.height };
  const base = { name: input.name, sourceW: info.width, sourceH: info.height };
  if (!trim) return { ...base, pixels: full, offX: 0, offY: 0 };
  const box = opaqueBox(full) ?? { x: 0, y: 0, w: 1, h: 1 };
  return { ...base, pixels: crop(full, box), offX: box.x, offY: box.y };
}

function opaqueBox(p: Pixels): { x: number; y: number; w: number; h: number } | undefined {
  let x0 = p.width;
  let y0 = p.height;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < p.height; y++) {
    for (let x = 0; x < p.width; x++) {
      if (p.data[(y * p.width + x) * 4 + 3] === 0) continue;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      y1 = y;
    }
  }
  return x1 < 0 ? undefined : { x: x0, y: y0, w: x1 - x0 + 1, h: y1 - y0 + 1 };
}

function crop(p: Pixels, box: { x: number; y: number; w: number; h: number }): Pixels {
  const out = Buffer.alloc(box.w * box.h * 4);
  for (let y = 0; y < box.h; y++) {
    const from = ((box.y + y) * p.width + box.x) * 4;
    p.data.copy(out, y * box.w * 4, from, from + box.w * 4);
  }
  return { data: out, width: box.w, height: box.h };
}

/** Copy `src` to (x + e, y + e) on `dst`, repeating its edge pixels `e` times on every side. */
function blitExtruded(dst: Pixels, src: Pixels, x: number, y: number, e: number): void {
  const row = Buffer.alloc((src.width + 2 * e) * 4);
  for (let dy = 0; dy < src.height + 2 * e; dy++) {
    const sy = Math.min(src.height - 1, Math.max(0, dy - e));
    const start = sy * src.width * 4;
    src.data.copy(row, e * 4, start, start + src.width * 4);
    for (let k = 0; k < e; k++) {
      src.data.copy(row, k * 4, start, start + 4);
      src.data.copy(row, (e + src.width + k) * 4, start + (src.width - 1) * 4, start + src.width * 4);
    }
    row.copy(dst.data, ((y + dy) * dst.width + x) * 4);
  }
}
