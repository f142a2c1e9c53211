// Contact sheets: one grid image per job, like an X/Y plot — rows and columns are two matrix axes,
// labelled with their values; failed cells are marked with the reason, unfinished ones greyed.
// Axes beyond the two make more sheets (one per combination, in a folder named after the job). Each sheet records the hash of its
// inputs in a PNG text chunk and is rebuilt only when that changes.
import { readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import sharp, { type OverlayOptions } from 'sharp';
import type { ArtifactContext, ArtifactResult } from '../artifacts/index.js';
import { writeFileAtomic } from '../fs/atomic.js';
import type { LockEntry } from '../lock/entry.js';
import { canonicalJson, sha256Hex } from '../manifest/keys.js';
import type { SourcePos } from '../types.js';
import { pickOutput, type OutputSelector } from './atlas-spec.js';
import { SHEET_PNG } from './atlas.js';
import { insertPngChunks, readPngText, ztxt } from './provenance.js';

export const CONTACT_SHEET_VERSION = 1;
const HASH_KEYWORD = 'flux-batch:inputs';

export interface ContactCell {
  jobId: string;
  row: number;
  column: number;
}

export interface ContactPage {
  /** Without extension, relative to the output root. */
  path: string;
  /** The values of the other axes, e.g. `seed=1`; empty for a single sheet. */
  title: string;
  cells: ContactCell[];
}

export interface ContactSheetSpec {
  job: string;
  rows?: string;
  columns?: string;
  rowValues: string[];
  columnValues: string[];
  /** Each image is fitted into a cell×cell square. */
  cell: number;
  output: OutputSelector;
  /** The sheet's path without extension (one page), or the folder of its pages. */
  base: string;
  labels: boolean;
  pages: ContactPage[];
  source: SourcePos;
}

type CellState = { kind: 'image'; abs: string; sha256: string } | { kind: 'failed'; reason: string } | { kind: 'missing' };

const GAP = 8;
const FONT = 'DejaVu Sans, Arial, sans-serif';

export async function buildContactSheets(ctx: ArtifactContext): Promise<ArtifactResult> {
  const result: ArtifactResult = { written: [], unchanged: [] };
  for (const spec of ctx.project.manifest.contactSheets ?? []) {
    for (const page of spec.pages) {
      const abs = path.join(ctx.project.manifest.outputDir, `${page.path}.png`);
      const states = page.cells.map((c) => cellState(spec, c, ctx));
      const hash = sha256Hex(canonicalJson({ v: CONTACT_SHEET_VERSION, spec: { ...spec, pages: undefined, source: undefined }, page, states: states.map(stateKey), sharp: sharp.versions }));
      const existing = await readFile(abs).catch(() => undefined);
      if (existing && safeText(existing) === hash) {
        result.unchanged.push(abs);
        continue;
      }
      const png = await renderContactSheet(spec, page, states);
      await writeFileAtomic(abs, insertPngChunks(png, [ztxt(HASH_KEYWORD, hash)]));
      result.written.push(abs);
    }
    await removeStalePages(ctx.project.manifest.outputDir, spec);
  }
  return result;
}

/** A sheet split by another axis lives in `<path>/<axis>-<value>….png`; drop pages no longer made. */
async function removeStalePages(outputDir: string, spec: ContactSheetSpec): Promise<void> {
  const current = new Set(spec.pages.map((p) => path.join(outputDir, `${p.path}.png`)));
  const single = path.join(outputDir, `${spec.base}.png`);
  const folder = path.join(outputDir, spec.base);
  const candidates = [single, ...(await readdir(folder).catch(() => [] as string[])).filter((n) => PAGE_FILE.test(n)).map((n) => path.join(folder, n))];
  await Promise.all(candidates.filter((f) => !current.has(f)).map((f) => rm(f, { force: true })));
}

const PAGE_FILE = /^[A-Za-z0-9._]+-[^/]*\.png$/;

function cellState(spec: ContactSheetSpec, cell: ContactCell, ctx: ArtifactContext): CellState {
  const entry: LockEntry | undefined = ctx.entries.get(cell.jobId);
  const job = ctx.project.manifest.jobs.find((j) => j.id === cell.jobId);
  if (entry?.state === 'failed') return { kind: 'failed', reason: entry.error?.reason ?? entry.error?.kind ?? 'failed' };
  const out = job && entry?.state === 'done' ? pickOutput(job, entry.outputs, spec.output) : undefined;
  return out ? { kind: 'image', abs: path.resolve(ctx.project.manifest.dir, out.path), sha256: out.sha256 } : { kind: 'missing' };
}

const stateKey = (s: CellState) => (s.kind === 'image' ? s.sha256 : s.kind === 'failed' ? `failed:${s.reason}` : 'missing');

function safeText(png: Buffer): string | undefined {
  try {
    return readPngText(png, HASH_KEYWORD);
  } catch {
    return undefined;
  }
}

interface Layout {
  width: number;
  height: number;
  left: number;
  top: number;
  cellX: (column: number) => number;
  cellY: (row: number) => number;
}

function layout(spec: ContactSheetSpec, title: string): Layout {
  const cols = Math.max(1, spec.columnValues.length);
  const rows = Math.max(1, spec.rowValues.length);
  const longest = Math.max(0, ...spec.rowValues.map((v) => v.length), (spec.rows ?? '').length);
  const left = spec.labels && spec.rows ? Math.min(240, Math.max(60, 12 + longest * 8)) : GAP;
  const top = spec.labels ? 30 + (spec.columns ? 24 : 0) : GAP;
  const pitch = spec.cell + GAP;
  return {
    // Wide enough for the title (bold 13 px DejaVu Sans: under 9 px a character).
    width: Math.max(left + cols * pitch, spec.labels ? Math.ceil(2 * GAP + title.length * 9) : 0),
    height: top + rows * pitch,
    left,
    top,
    cellX: (c) => left + c * pitch,
    cellY: (r) => top + r * pitch,
  };
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

async function renderContactSheet(spec: ContactSheetSpec, page: ContactPage, states: CellState[]): Promise<Buffer> {
  const axes = [spec.rows && `rows: ${spec.rows}`, spec.columns && `columns: ${spec.columns}`].filter(Boolean).join(' × ');
  const title = [spec.job, page.title, axes].filter(Boolean).join('  ·  ');
  const L = layout(spec, title);
  const svg: string[] = [];
  const text = (x: number, y: number, s: string, opts = '', size = 13) => svg.push(`<text x="${x}" y="${y}" font-family="${FONT}" font-size="${size}" ${opts}>${esc(s)}</text>`);
  if (spec.labels) {
    text(GAP, 20, title, 'font-weight="bold"');
    spec.columnValues.forEach((v, c) => text(L.cellX(c) + spec.cell / 2, L.top - 8, clip(v, Math.floor(spec.cell / 8)), 'text-anchor="middle"'));
    spec.rowValues.forEach((v, r) => text(L.left - 8, L.cellY(r) + spec.cell / 2, clip(v, 28), 'text-anchor="end"'));
  }
  const composites: OverlayOptions[] = [];
  for (const [i, cell] of page.cells.entries()) {
    const x = L.cellX(cell.column);
    const y = L.cellY(cell.row);
    const state = states[i]!;
    if (state.kind === 'image') {
      const data = await readFile(state.abs).catch(() => undefined);
      if (data) {
        const fitted = await sharp(data, { limitInputPixels: false }).resize(spec.cell, spec.cell, { fit: 'contain', background: '#00000000' }).png().toBuffer();
        composites.push({ input: fitted, left: x, top: y });
        continue;
      }
    }
    const failed = state.kind === 'failed';
    svg.push(`<rect x="${x}" y="${y}" width="${spec.cell}" height="${spec.cell}" fill="${failed ? '#fde8e8' : '#eeeeee'}" stroke="${failed ? '#d32f2f' : '#bbbbbb'}" stroke-width="2"/>`);
    if (failed) svg.push(`<path d="M${x + 8} ${y + 8}L${x + spec.cell - 8} ${y + spec.cell - 8}M${x + spec.cell - 8} ${y + 8}L${x + 8} ${y + spec.cell - 8}" stroke="#d32f2f" stroke-width="3"/>`);
    text(x + spec.cell / 2, y + spec.cell / 2 - 4, failed ? 'FAILED' : 'missing', `text-anchor="middle" fill="${failed ? '#b71c1c' : '#666666'}" font-weight="bold"`);
    if (state.kind === 'failed') text(x + spec.cell / 2, y + spec.cell / 2 + 14, clip(state.reason, Math.floor(spec.cell / 7)), 'text-anchor="middle" fill="#b71c1c"', 11);
  }
  const overlay = Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${L.width}" height="${L.height}">${svg.join('')}</svg>`);
  composites.push({ input: overlay, left: 0, top: 0 });
  return sharp({ create: { width: L.width, height: L.height, channels: 4, background: '#ffffff' } })
    .composite(composites)
    .png(SHEET_PNG)
    .toBuffer();
}
