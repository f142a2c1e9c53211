// Job keys: sha256 of canonical JSON (DESIGN decision 1).
import { createHash } from 'node:crypto';

/** JSON with object keys sorted recursively and undefined members dropped: equal data, equal text. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

export interface JobKeyInput {
  family: string;
  model: string;
  request: Record<string, unknown>;
  /** Image field → sha256 of the local file's content. */
  inputs: Record<string, string>;
}

export function jobKey(input: JobKeyInput): string {
  return sha256Hex(canonicalJson(input));
}
