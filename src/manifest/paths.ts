// Output paths: the default form, safe file names, and staying inside the output folder (DESIGN 11).
import { posix } from 'node:path';
import { sha256Hex } from './keys.js';
import type { Scalar } from './expand.js';

const MAX_SEGMENT = 48;

/** A value made safe as (part of) a file name: no separators, no leading dots, bounded length. */
export function sanitizeSegment(value: string): string {
  let s = value
    .normalize('NFKC')
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^[-.]+|[-.]+$/g, '');
  if (s.length > MAX_SEGMENT) s = `${s.slice(0, MAX_SEGMENT - 9).replace(/[-.]+$/, '')}-${sha256Hex(value).slice(0, 8)}`;
  return s || '_';
}

/**
 * `{job}` then the cell's variables in key order: `hero/class-knight_pose-idle_seed-1`. It depends
 * only on the cell's own values (never on its index), so adding a matrix value keeps existing paths.
 */
export function defaultPath(jobName: string, entries: Iterable<[string, Scalar]>): string {
  const parts = [...entries].map(([k, v]) => `${sanitizeSegment(k)}-${sanitizeSegment(String(v))}`);
  return parts.length ? `${jobName}/${parts.join('_')}` : jobName;
}

/** The normalised path, or why it is not a safe relative path inside the output folder. */
export function checkOutputPath(raw: string): { path?: string; problem?: string } {
  if (!raw.trim()) return { problem: 'is empty' };
  if (raw.includes('\\')) return { problem: 'uses `\\`; write `/` between folders' };
  if (/[\u0000-\u001F]/.test(raw)) return { problem: 'contains control characters' };
  if (raw.startsWith('/') || /^[A-Za-z]:/.test(raw) || raw.startsWith('~')) return { problem: 'is absolute; paths are relative to the output folder' };
  const norm = posix.normalize(raw).replace(/\/+$/, '');
  if (norm === '..' || norm.startsWith('../') || raw.split('/').includes('..')) return { problem: 'leaves the output folder (`..`)' };
  if (norm === '.' || norm === '') return { problem: 'names the output folder itself, not a file' };
  return { path: norm };
}
