// Shared types: the contracts between the stages of the pipeline.
// Each stage (manifest → plan → run → post → lock) owns its module; these are the shapes that cross.
import type { AtlasSpec } from './post/atlas-spec.js';
import type { ContactSheetSpec } from './post/contact-sheet.js';

export type ProviderName = 'cometapi' | 'bfl' | 'replicate' | 'mock';
export const PROVIDER_NAMES: readonly ProviderName[] = ['cometapi', 'bfl', 'replicate', 'mock'];

/** A place in a source file (1-based line and column). */
export interface SourcePos {
  file: string;
  line?: number;
  col?: number;
}

/** One problem found while loading or validating input. Validation returns these as data. */
export interface InputIssue extends SourcePos {
  /** Stable machine code, e.g. `unknown-key`, `yaml-syntax`, `width-range`. */
  code: string;
  /** Key path in the document, e.g. `jobs[0].matrix.seed[2]`. Empty for the document itself. */
  path: string;
  /** What is wrong, one sentence. */
  message: string;
  /** What was received, when it helps (already shortened for display). */
  received?: string;
  /** How to fix it. */
  hint?: string;
  severity: 'error' | 'warning';
}

/** One sharp operation: name is sharp's own method name, options its argument(s). */
export interface PostOp {
  op: string;
  /** Passed to sharp: an object for most ops; positional args for a few (e.g. rotate angle). */
  options: unknown;
}

export type OutputFormat = 'png' | 'jpeg' | 'webp' | 'avif' | 'tiff' | 'gif';
export const OUTPUT_FORMATS: readonly OutputFormat[] = ['png', 'jpeg', 'webp', 'avif', 'tiff', 'gif'];

/** One encoding of a post-processed image. */
export interface OutputSpec {
  format: OutputFormat;
  /** sharp's options for that format, e.g. `{ quality: 90 }`. */
  options: Record<string, unknown>;
  /** Appended to the job path before the extension, e.g. `-pal`. */
  suffix: string;
}

/** A concrete job: one request to the API, and what to make of its image. */
export interface Job {
  /** The manifest job's `name`. */
  name: string;
  /** Stable id, unique in the manifest: `${name}:${path}`. Keys the lock. */
  id: string;
  /** sha256 (hex) of the canonical request: provider family, model, every body field. */
  key: string;
  model: string;
  /** The request body as it reaches the API (after defaults and templating), without `model`. */
  request: Record<string, unknown>;
  /** Matrix/template variables of this cell (not request fields). */
  vars: Record<string, string | number | boolean>;
  /** Output path without extension, POSIX separators, relative to the output root. */
  path: string;
  post: PostOp[];
  /** Empty means: write the original bytes unchanged, with the original's extension. */
  outputs: OutputSpec[];
  /** Position of the cell within its manifest job (0-based). */
  index: number;
  /** Where the manifest job is declared. */
  source: SourcePos;
  /** Local files referenced by image fields: request field → absolute path (hashed into the key). */
  inputs?: Record<string, string>;
  /** `provenance:`: a sidecar JSON beside the outputs; `embed` also writes it into each image as XMP. */
  provenance?: 'sidecar' | 'embed';
}

/** A validated, expanded manifest. */
export interface Manifest {
  file: string;
  /** Folder of the manifest; relative paths resolve against it. */
  dir: string;
  version: 1;
  /** Absolute output root. */
  outputDir: string;
  jobs: Job[];
  /** Sprite sheets to pack after the run (`atlas:` on jobs, `atlases:` at the top). */
  atlases?: AtlasSpec[];
  /** Grid images to draw after the run (`contact_sheet:` on jobs). */
  contactSheets?: ContactSheetSpec[];
}

/** A task as the provider knows it: enough to poll it again, also from another process. */
export interface TaskRef {
  provider: ProviderName;
  id: string;
  /** Where to poll (BFL: the returned regional `polling_url`; others: derived). */
  pollingUrl?: string;
}

export interface SubmitResult extends TaskRef {
  /** Cost reported by the API, in credits where it says so. */
  cost?: number;
  /**
   * Set when the create response already carried a terminal state (Replicate `Prefer: wait`):
   * the scheduler can skip polling. Absent means "poll it".
   */
  state?: TaskState;
}

/** What one poll learned. `pending` keeps polling, whatever the provider called it. */
export type TaskState =
  | { state: 'pending'; status: string; progress?: number }
  | { state: 'ready'; status: string; urls: string[]; seed?: number }
  | {
      state: 'failed';
      status: string;
      /** `moderated` and `error` are final; `not-found` means the task expired: regenerate. */
      kind: 'moderated' | 'error' | 'not-found';
      reason: string;
    };

export interface ProviderContext {
  signal?: AbortSignal;
}

export interface Provider {
  readonly name: ProviderName;
  /** Families share job keys only within themselves (a BFL request differs from a Replicate one). */
  readonly family: string;
  /** Typical task duration, when the provider knows it better than the config (the mock does). */
  readonly expectedTaskMs?: number;
  submit(job: Job, ctx: ProviderContext): Promise<SubmitResult>;
  poll(task: TaskRef, ctx: ProviderContext): Promise<TaskState>;
  /** Fetch a result URL. Never sends the API key. */
  download(url: string, ctx: ProviderContext): Promise<Buffer>;
}

/**
 * Safety class of a failed HTTP exchange (DESIGN decision 6).
 * - `not-sent`: the server provably did not take the request: connection refused, DNS, 429, and
 *   errors the server answered itself (500, 503, 524) — safe to retry, even a POST.
 * - `ambiguous`: it may have been taken: timeout or reset after sending, 502, 504. A GET retries
 *   freely; a submit retries only by the `ambiguousRetry` policy and is counted.
 * - `fatal`: the same request fails the same way again (400, 401, 403, 404, 422, 402).
 */
export type FailureClass = 'not-sent' | 'ambiguous' | 'fatal';
