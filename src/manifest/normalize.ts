// `post` and `outputs` in the shapes the post stage takes.
import type { OutputFormat, OutputSpec, PostOp } from '../types.js';
import { isPlain } from './context.js';

/** `[{resize: {...}}]` → `[{op: 'resize', options: {...}}]`. */
export function normalizePost(value: unknown): PostOp[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((step): PostOp[] => {
    if (!isPlain(step)) return [];
    const [entry] = Object.entries(step);
    return entry ? [{ op: entry[0], options: entry[1] ?? {} }] : [];
  });
}

/** `[{png: {palette: true}, suffix: '-pal'}]` → `[{format: 'png', options: {palette: true}, suffix: '-pal'}]`. */
export function normalizeOutputs(value: unknown): OutputSpec[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((item): OutputSpec[] => {
    if (!isPlain(item)) return [];
    const format = Object.keys(item).find((k) => k !== 'suffix');
    if (!format) return [];
    const options = item[format];
    return [
      {
        format: format as OutputFormat,
        options: isPlain(options) ? { ...options } : {},
        suffix: typeof item.suffix === 'string' ? item.suffix : '',
      },
    ];
  });
}
