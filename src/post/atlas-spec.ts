// What the manifest stage hands the atlas builder: one resolved `atlas:` (job-level) or
// `atlases.<name>` (top-level group), with every frame already named.
import type { SourcePos } from '../types.js';

/** Data-file formats engines load as is. */
export type AtlasFormat = 'json-hash' | 'json-array' | 'phaser3';
export const ATLAS_FORMATS: readonly AtlasFormat[] = ['json-hash', 'json-array', 'phaser3'];

/** Which output of a job feeds an atlas or a contact sheet: an index into `outputs`, or a suffix. */
export type OutputSelector = number | string;

export interface AtlasFrameRef {
  /** Job.id of the frame's job. */
  jobId: string;
  /** Frame name, rendered from the `frame` template. Unique within the atlas. */
  name: string;
  /** Animation the frame belongs to (rendered `animations` template), if any. */
  animation?: string;
}

export interface AtlasPackOptions {
  maxWidth: number;
  maxHeight: number;
  /** Pixels between frames. */
  padding: number;
  /** Pixels between the frames and the sheet's edge. */
  border: number;
  /** Pixels of each frame's edge repeated around it (stops bleeding when sampled with filtering). */
  extrude: number;
  /** Sheet sides are powers of two. */
  pot: boolean;
  square: boolean;
  /** Crop fully transparent borders; the data file keeps the source size and offset. */
  trim: boolean;
  /** Spill over into more sheets when the frames do not fit one; false makes that an error. */
  multipage: boolean;
}

export interface AtlasSpec extends AtlasPackOptions {
  name: string;
  /** Path of the sheet and data files without extension, relative to the output root. */
  path: string;
  output: OutputSelector;
  formats: AtlasFormat[];
  /** In manifest order (job order, then cell order): animations keep this order. */
  frames: AtlasFrameRef[];
  source: SourcePos;
}

export const ATLAS_DEFAULTS: Omit<AtlasSpec, 'name' | 'path' | 'frames' | 'source'> = {
  maxWidth: 2048,
  maxHeight: 2048,
  padding: 2,
  border: 0,
  extrude: 0,
  pot: true,
  square: false,
  trim: false,
  multipage: true,
  output: 0,
  formats: ['json-hash'],
};

/** The lock record of the output a selector picks: `outputs[n]`, or the one with that suffix. */
export function pickOutput<T>(job: { outputs: { suffix: string }[] }, outputs: readonly T[] | undefined, selector: OutputSelector): T | undefined {
  if (!outputs) return undefined;
  if (typeof selector === 'number') return outputs[selector];
  const i = job.outputs.findIndex((o) => o.suffix === selector);
  return i < 0 ? undefined : outputs[i];
}
