// The gallery page as one self-contained HTML string: inline CSS and a little inline JS, no network.
// Every piece of user text (prompts, variables, paths, reasons) goes through `esc`. Pure: the same
// page data gives the same bytes; only the header's date and run figures change between runs.
import type { RunSummary } from '../run/events.js';
import { GALLERY_CSS, GALLERY_JS } from './gallery-assets.js';
import { headerRows, layoutGroup, type TableLayout } from './gallery-layout.js';
import type { CellState, GalleryCell, GalleryGroup } from './gallery-model.js';
import { THUMB_DIR, type Thumb } from './gallery-thumbs.js';

export interface GalleryPage {
  /** The manifest's file name. */
  title: string;
  provider: string;
  generatedAt: Date;
  summary: RunSummary;
  groups: GalleryGroup[];
  /** Image sha256 → thumbnail. */
  thumbs: ReadonlyMap<string, Thumb>;
  /** Image sha256 → why it has no thumbnail. */
  problems: ReadonlyMap<string, string>;
}

/** Failures listed by name in the header; the rest are counted (a 5000-image run can fail a lot). */
const MAX_LISTED_FAILURES = 40;

export function renderGallery(page: GalleryPage): string {
  // Anchors by position, not by name: names with odd characters never collide or need escaping.
  const ids = new Map<GalleryCell | GalleryGroup, string>();
  let n = 0;
  page.groups.forEach((g, i) => {
    ids.set(g, `job-${i + 1}`);
    for (const c of g.cells) ids.set(c, `c${++n}`);
  });
  const ctx: RenderContext = { page, ids };
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    // No request may leave the page's own folder, whatever a prompt contains.
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src 'self' file: data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'">`,
    `<title>${esc(page.title)} · flux-batch gallery</title>`,
    `<style>${GALLERY_CSS}</style></head><body>`,
    renderHeader(ctx),
    '<main>',
    ...page.groups.map((g) => renderGroup(g, ctx)),
    '</main>',
    '<div id="lightbox" hidden><button type="button" class="close" aria-label="Close">×</button><img alt=""><div class="lb-caption"></div></div>',
    `<script>${GALLERY_JS}</script>`,
    '</body></html>',
    '',
  ].join('\n');
}

interface RenderContext {
  page: GalleryPage;
  ids: Map<GalleryCell | GalleryGroup, string>;
}

function renderHeader({ page, ids }: RenderContext): string {
  const cells = page.groups.flatMap((g) => g.cells);
  return [
    '<header>',
    `<h1>${esc(page.title)} <small>flux-batch gallery</small></h1>`,
    `<div class="summary">${renderTiles(cells)}${renderFacts(page)}</div>`,
    renderFailures(cells.filter((c) => c.state === 'failed'), ids),
    '<nav class="toolbar">',
    '<input id="q" type="search" placeholder="Filter by prompt, path, model, seed…" aria-label="Filter">',
    '<label><input id="only-failed" type="checkbox"> failed only</label>',
    `<span id="shown">${cells.length} shown</span>`,
    `<span class="jump">${page.groups.map((g) => `<a href="#${ids.get(g)}">${esc(g.name)}</a>`).join('')}</span>`,
    '</nav>',
    '</header>',
  ].join('\n');
}

/** The state of every job in the manifest, from the lock: also the jobs this run did not touch. */
function renderTiles(cells: GalleryCell[]): string {
  const count = (s: CellState) => cells.filter((c) => c.state === s).length;
  const failed = count('failed');
  const tiles = [tile(cells.length, 'images', 'total'), tile(count('done'), 'done', 'done'), tile(failed, 'failed', failed ? 'failed' : 'zero')];
  const open = count('pending') + count('not-run');
  if (open) tiles.push(tile(open, 'not generated', 'pending'));
  return `<div class="tiles">${tiles.join('')}</div>`;
}

/** What this run did, from its summary. */
function renderFacts(page: GalleryPage): string {
  const s = page.summary;
  const run = [
    `${s.generated} generated`, `${s.rebuilt} rebuilt`, `${s.skipped} up to date`, `${s.failed} failed`,
    ...(s.interrupted ? [`${s.interrupted} interrupted`] : []),
  ];
  const facts: Array<[string, string]> = [
    ['this run', run.join(' · ')],
    ['wall time', formatMs(s.wallMs)],
    ['cost reported by the API', `${round(s.cost)} credits · ${s.paid} paid generation${s.paid === 1 ? '' : 's'}`],
    ['provider', page.provider],
    ['date', formatDate(page.generatedAt)],
  ];
  if (s.ambiguousRetries) facts.push(['possible duplicate charges', `${s.ambiguousRetries} (submits retried after an ambiguous failure)`]);
  return `<dl class="facts">${facts.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join('')}</dl>`;
}

function renderFailures(failed: GalleryCell[], ids: RenderContext['ids']): string {
  if (failed.length === 0) return '';
  const listed = failed.slice(0, MAX_LISTED_FAILURES).map((c) =>
    `<li><a href="#${ids.get(c)}">${esc(c.id)}</a> <span class="kind">${esc(c.error?.kind ?? 'failed')}</span> ${esc(c.error?.reason ?? '')}</li>`);
  if (failed.length > MAX_LISTED_FAILURES) listed.push(`<li>… and ${failed.length - MAX_LISTED_FAILURES} more (tick <i>failed only</i>)</li>`);
  return `<section class="failures"><h2>Failures (${failed.length})</h2><ul>${listed.join('')}</ul></section>`;
}

function tile(value: number, label: string, tone: string): string {
  return `<div class="tile ${tone}"><b>${value}</b><span>${label}</span></div>`;
}

function renderGroup(group: GalleryGroup, ctx: RenderContext): string {
  const done = group.cells.filter((c) => c.state === 'done').length;
  const failed = group.cells.filter((c) => c.state === 'failed').length;
  const counts = [`${group.cells.length} image${group.cells.length === 1 ? '' : 's'}`, `${done} done`, ...(failed ? [`${failed} failed`] : [])];
  const axes = group.axes.length ? ` · varies by ${group.axes.map(esc).join(' × ')}` : '';
  const layout = layoutGroup(group);
  let body: string;
  if (layout.kind === 'grid') {
    const showCoords = group.axes.length > 0;
    body = `<div class="grid">${group.cells.map((c) => renderCard(c, ctx, showCoords)).join('\n')}</div>`;
  } else body = renderTable(layout, ctx);
  return `<section class="group" id="${ctx.ids.get(group)}"><h2>${esc(group.name)} <small>${counts.join(' · ')}${axes}</small></h2>\n${body}\n</section>`;
}

/** Cards in a table: the column axes' values across the top (merged where they repeat), the row axes' down the side. */
function renderTable(layout: TableLayout, ctx: RenderContext): string {
  const levels = headerRows(layout.cols, layout.colAxes.length);
  const corner = `<th class="corner" rowspan="${levels.length}"><span>${layout.rowAxes.map(esc).join(' · ')} ↓</span><span>${layout.colAxes.map(esc).join(' · ')} →</span></th>`;
  const head = levels.map((level, i) => {
    const ths = level.map((h) => `<th${h.span > 1 ? ` colspan="${h.span}"` : ''}>${esc(h.label)}</th>`);
    return `<tr>${i === 0 ? corner : ''}${ths.join('')}</tr>`;
  });
  const rows = layout.rows.map((r) => {
    const tds = r.cells.map((cs) => `<td>${cs.map((c) => renderCard(c, ctx, false)).join('')}</td>`);
    return `<tr><th scope="row">${r.values.map(esc).join('<br>')}</th>${tds.join('')}</tr>`;
  });
  return `<div class="scroll"><table class="matrix"><thead>${head.join('')}</thead><tbody>\n${rows.join('\n')}\n</tbody></table></div>`;
}

function renderCard(cell: GalleryCell, { page, ids }: RenderContext, showCoords: boolean): string {
  const params = cell.params.map(([k, v]) => `<span>${k === 'size' ? esc(v) : `${esc(k)} <b>${esc(v)}</b>`}</span>`).join('');
  const seed = cell.seed !== undefined ? ` · seed <b>${cell.seed}</b>` : '';
  const files = cell.outputs.map((o) => `<a href="${esc(o.href)}">${esc(o.label)}</a>`).join(' ');
  return [
    `<figure class="card ${cell.state}" id="${ids.get(cell)}" data-state="${cell.state}">`,
    renderVisual(cell, page),
    '<figcaption>',
    showCoords ? `<div class="coords">${Object.values(cell.coords).map(esc).join(' · ')}</div>` : '',
    `<p class="prompt">${esc(cell.prompt)}</p>`,
    `<div class="meta">${esc(cell.model)}${seed}</div>`,
    params ? `<div class="params">${params}</div>` : '',
    `<div class="files"><span class="path">${esc(cell.path)}</span> ${files}</div>`,
    '</figcaption></figure>',
  ].join('');
}

function renderVisual(cell: GalleryCell, page: GalleryPage): string {
  if (cell.state === 'failed') {
    const kind = cell.error?.kind ?? 'failed';
    return `<div class="thumb fail" role="img" aria-label="failed"><strong>Failed · ${esc(kind)}</strong><span class="reason">${esc(cell.error?.reason ?? 'no reason recorded')}</span></div>`;
  }
  if (cell.state !== 'done') {
    const what = cell.state === 'pending' ? 'in progress when the run ended: rerun to resume' : 'not generated yet';
    return `<div class="thumb empty"><span>${what}</span></div>`;
  }
  const preview = cell.preview;
  const thumb = preview && page.thumbs.get(preview.sha256);
  if (!preview || !thumb) {
    const why = (preview && page.problems.get(preview.sha256)) ?? 'no output';
    const inner = `<span>${esc(why)}</span>`;
    return preview ? `<a class="thumb empty" href="${esc(preview.href)}">${inner}</a>` : `<div class="thumb empty">${inner}</div>`;
  }
  const src = `${THUMB_DIR}/${encodeURIComponent(thumb.file)}`;
  return `<a class="thumb" href="${esc(preview.href)}"><img src="${src}" width="${thumb.width}" height="${thumb.height}" loading="lazy" decoding="async" alt="${esc(cell.path)}"></a>`;
}

export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (ch) => ESCAPES[ch]!);
}
const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const m = Math.floor(ms / 60_000);
  return `${m} min ${Math.round((ms - m * 60_000) / 1000)} s`;
}

function formatDate(d: Date): string {
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

function round(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(2);
}
