// How one group's cells are laid out: a grid when nothing (or one thing) varies, otherwise a table
// whose columns are the last axes (as many as fit a screen) and whose rows are the other axes'
// combinations. Pure.
import type { GalleryCell, GalleryGroup } from './gallery-model.js';

/** More columns than this do not fit a screen: the table would scroll sideways. */
export const MAX_COLUMNS = 8;

export interface TableLayout {
  kind: 'table';
  rowAxes: string[];
  colAxes: string[];
  /** One entry per column: its values on the column axes, in manifest order. */
  cols: string[][];
  /** One row per combination of the row axes; cells[i] are the cells in column i (usually one). */
  rows: Array<{ values: string[]; cells: GalleryCell[][] }>;
}

export type GroupLayout = { kind: 'grid' } | TableLayout;

export function layoutGroup(group: GalleryGroup): GroupLayout {
  const { axes, cells } = group;
  if (axes.length < 2) return { kind: 'grid' };
  const combos = (list: string[]) => distinct(cells.map((c) => list.map((a) => c.coords[a] ?? '—')));
  // Manifests tend to list the finest variation (seed) last: take trailing axes as columns while
  // they fit, and keep at least one axis for the rows.
  let colAxes: string[] = [];
  for (let k = axes.length - 1; k >= 1; k--) {
    const candidate = axes.slice(k);
    if (combos(candidate).length > MAX_COLUMNS) break;
    colAxes = candidate;
  }
  if (colAxes.length === 0) return { kind: 'grid' };
  const rowAxes = axes.slice(0, axes.length - colAxes.length);
  const cols = combos(colAxes);
  const colIndex = new Map(cols.map((v, i) => [JSON.stringify(v), i]));
  const rows = new Map<string, { values: string[]; cells: GalleryCell[][] }>();
  for (const cell of cells) {
    const values = rowAxes.map((a) => cell.coords[a] ?? '—');
    const key = JSON.stringify(values);
    let row = rows.get(key);
    if (!row) rows.set(key, (row = { values, cells: cols.map(() => []) }));
    row.cells[colIndex.get(JSON.stringify(colAxes.map((a) => cell.coords[a] ?? '—')))!]!.push(cell);
  }
  return { kind: 'table', rowAxes, colAxes, cols, rows: [...rows.values()] };
}

/**
 * Header rows of a table: one per column axis, neighbouring columns with the same values so far
 * merged into one cell (`idle` spanning `seed 1`, `seed 2`).
 */
export function headerRows(cols: string[][], depth: number): Array<Array<{ label: string; span: number }>> {
  const out: Array<Array<{ label: string; span: number }>> = [];
  for (let level = 0; level < depth; level++) {
    const row: Array<{ label: string; span: number; key: string }> = [];
    for (const col of cols) {
      const key = JSON.stringify(col.slice(0, level + 1));
      const last = row[row.length - 1];
      if (last && last.key === key) last.span++;
      else row.push({ label: col[level] ?? '—', span: 1, key });
    }
    out.push(row.map(({ label, span }) => ({ label, span })));
  }
  return out;
}

function distinct(list: string[][]): string[][] {
  const seen = new Map<string, string[]>();
  for (const v of list) {
    const key = JSON.stringify(v);
    if (!seen.has(key)) seen.set(key, v);
  }
  return [...seen.values()];
}
