// CometAPI's Replicate-format route (PROTOCOLS 2.2, 3): predictions under `{baseUrl}/replicate/v1`
// with `Authorization: Bearer`. `urls.get` in responses points at api.replicate.com and is never
// followed. Query responses come either as a Replicate prediction or wrapped in a task envelope
// (`data.status` SUCCESS/FAILURE…, `data.data.output`); both are accepted.
//
// Field mapping (`toReplicateRequest` in models.ts, the single table): manifests use BFL's names;
// here they become Replicate's inputs — `output_format: jpeg` → `jpg`; width/height → `aspect_ratio:
// "custom"` + width/height (flux-pro, flux-1.1-pro, FLUX.2) or, for flux-dev (no custom size), an
// exact aspect ratio of its list + `megapixels` "0.25"/"1"; `steps` → `num_inference_steps`
// (flux-dev); `input_image…_8` → `input_images: [...]` (FLUX.2); `webhook_url` → top-level
// `webhook`. Fields a model does not take on Replicate (`webhook_secret`, flux-dev's
// `safety_tolerance`/`prompt_upsampling`/`image_prompt`, Kontext's `input_image_2..4`…) are refused
// before anything is sent — validation reports them, and submit refuses them again. One prediction
// makes one image: `num_outputs` is never sent (a second output would be paid for and dropped).
import { UserError } from '../errors.js';
import { getModel, toReplicateRequest } from '../models.js';
import {
  DEFAULT_API_TIMEOUTS,
  describeUrl,
  downloadResult,
  httpErrorFromResponse,
  httpRequest,
  makeHttpError,
  type HttpTimeouts,
} from '../http/index.js';
import type { Job, Provider, ProviderContext, SubmitResult, TaskRef, TaskState } from '../types.js';
import { field, numberField, signalOf, stringField, submitId, trimSlash, type ApiProviderOptions } from './bfl.js';
import { COMETAPI_BASE_URL } from './cometapi.js';
import { encodeImageInputs } from './inputs.js';
import { registerSecret } from './redact.js';

export type ReplicateRoute = 'models' | 'predictions';

/** `baseUrl` defaults to `https://api.cometapi.com`. */
export interface ReplicateProviderOptions extends ApiProviderOptions {
  /** `models`: `POST …/models/{owner}/{name}/predictions {input}`; `predictions`: legacy `{model, input}`. */
  route?: ReplicateRoute;
  /** Send `Prefer: wait=N` (1–60 s) so a fast model may answer the create call with its output. */
  preferWaitSeconds?: number;
}

/** Our model names (BFL's endpoint names) → Replicate model ids. */
export const REPLICATE_MODELS: Readonly<Record<string, string>> = {
  'flux-pro-1.1': 'black-forest-labs/flux-1.1-pro',
  'flux-pro-1.1-ultra': 'black-forest-labs/flux-1.1-pro-ultra',
  'flux-dev': 'black-forest-labs/flux-dev',
  'flux-schnell': 'black-forest-labs/flux-schnell',
  'flux-pro': 'black-forest-labs/flux-pro',
  'flux-2-pro': 'black-forest-labs/flux-2-pro',
  'flux-2-flex': 'black-forest-labs/flux-2-flex',
  'flux-2-dev': 'black-forest-labs/flux-2-dev',
  'flux-kontext-pro': 'black-forest-labs/flux-kontext-pro',
  'flux-kontext-max': 'black-forest-labs/flux-kontext-max',
};

/** The Replicate id for a model: from the table, or an `owner/name` given as is. */
export function replicateModelId(model: string): string {
  const id = getModel(model)?.replicate?.id ?? REPLICATE_MODELS[model] ?? (/^[\w.-]+\/[\w.-]+$/.test(model) ? model : undefined);
  if (id) return id;
  throw new UserError(
    'unsupported-model',
    `model ${model} is not available in the Replicate format`,
    `use one of ${Object.keys(REPLICATE_MODELS).join(', ')}, or an owner/name id`,
  );
}

export function createReplicateProvider(opts: ReplicateProviderOptions): Provider {
  const baseUrl = `${trimSlash(opts.baseUrl ?? COMETAPI_BASE_URL)}/replicate/v1`;
  const route = opts.route ?? 'models';
  const timeouts = opts.timeouts ?? DEFAULT_API_TIMEOUTS;
  registerSecret(opts.apiKey);
  const auth = { authorization: `Bearer ${opts.apiKey}` };
  const wait = opts.preferWaitSeconds === undefined ? undefined : Math.min(60, Math.max(1, Math.round(opts.preferWaitSeconds)));
  // A waiting create holds the response back for up to `wait` seconds: the headers timeout must allow it.
  const submitTimeouts: HttpTimeouts = { ...timeouts };
  if (wait !== undefined) {
    submitTimeouts.headersMs = Math.max(timeouts.headersMs, wait * 1000 + 15_000);
    if (timeouts.totalMs !== undefined) {
      submitTimeouts.totalMs = Math.max(timeouts.totalMs, submitTimeouts.headersMs + timeouts.idleMs);
    }
  }
  // Terminal states that came with the create call (`Prefer: wait`): the first poll of such a task
  // answers from here, with no request, whether or not the scheduler reads `SubmitResult.state`.
  const settled = new Map<string, TaskState>();
  return {
    name: 'replicate',
    family: 'replicate',
    async submit(job: Job, ctx: ProviderContext): Promise<SubmitResult> {
      const model = replicateModelId(job.model);
      const { input, webhook } = replicateInput(job, await encodeImageInputs(job, 'data-url'));
      const url = route === 'models' ? `${baseUrl}/models/${model}/predictions` : `${baseUrl}/predictions`;
      const body = { ...(route === 'models' ? {} : { model }), input, ...(webhook ? { webhook } : {}) };
      const headers: Record<string, string> = { ...auth, ...(wait ? { prefer: `wait=${wait}` } : {}) };
      const res = await httpRequest(url, {
        method: 'POST',
        headers,
        body,
        timeouts: submitTimeouts,
        ...signalOf(ctx),
      });
      const json = res.json();
      const id = submitId(idSource(json), 'POST', url);
      const state = parseReplicatePrediction(json);
      // Only a terminal state lets the scheduler skip polling.
      if (state && state.state !== 'pending') settled.set(id, state);
      return { provider: 'replicate', id, pollingUrl: undefined, ...(state && state.state !== 'pending' ? { state } : {}) };
    },
    async poll(task: TaskRef, ctx: ProviderContext): Promise<TaskState> {
      const known = settled.get(task.id);
      if (known) {
        settled.delete(task.id); // one-shot: a later poll (e.g. after a failed download) asks the server
        return known;
      }
      const url = `${baseUrl}/predictions/${encodeURIComponent(task.id)}`;
      const res = await httpRequest(url, { headers: auth, timeouts, acceptErrorStatus: true, ...signalOf(ctx) });
      const state = parseReplicatePrediction(res.json());
      if (state) return state;
      if (res.status < 200 || res.status >= 300) throw httpErrorFromResponse('GET', url, res);
      throw makeHttpError(`GET ${describeUrl(url)}: prediction has no status`, 'ambiguous', {
        status: res.status,
        body: res.json(),
        code: 'bad-response',
      });
    },
    download(url: string, ctx: ProviderContext): Promise<Buffer> {
      return downloadResult(url, { ...opts.download, ...signalOf(ctx) });
    },
  };
}

/** The job's request in Replicate's input names; a field the model would ignore is a UserError, not a charge. */
function replicateInput(job: Job, request: Record<string, unknown>): { input: Record<string, unknown>; webhook?: string } {
  // Models outside the table (an `owner/name` id) go as written.
  if (!getModel(job.model)?.replicate) return { input: request };
  const mapped = toReplicateRequest(job.model, request);
  if (mapped.problems.length > 0) {
    throw new UserError(
      'replicate-field',
      `job ${job.id}: ${mapped.problems.map((p) => p.message).join('; ')}`,
      'remove or change those fields, or use provider bfl / cometapi',
    );
  }
  return mapped.webhook !== undefined ? { input: mapped.input, webhook: mapped.webhook } : { input: mapped.input };
}

interface Unwrapped {
  /** Replicate prediction object, when there is one. */
  prediction?: unknown;
  /** Envelope status (SUCCESS, FAILURE, IN_PROGRESS…), when wrapped. */
  envelopeStatus?: string;
  envelopeReason?: string;
}

/** Accept a bare prediction or the `{data: {status, fail_reason, data: prediction}}` envelope. */
function unwrap(body: unknown): Unwrapped {
  if (stringField(body, 'status') !== undefined) return { prediction: body };
  const data = field(body, 'data');
  const envelopeStatus = stringField(data, 'status');
  if (envelopeStatus === undefined) return {};
  const inner = field(data, 'data');
  const reason = stringField(data, 'fail_reason') ?? stringField(inner, 'error');
  return {
    ...(inner !== null && typeof inner === 'object' ? { prediction: inner } : {}),
    envelopeStatus,
    ...(reason ? { envelopeReason: reason } : {}),
  };
}

/** Where the id lives: the prediction, or the envelope's `data.task_id`. */
function idSource(json: unknown): unknown {
  const { prediction } = unwrap(json);
  if (field(prediction, 'id') !== undefined) return prediction;
  const taskId = field(field(json, 'data'), 'task_id');
  return taskId !== undefined ? { id: taskId } : json;
}

/** Map a prediction (or enveloped prediction) to a TaskState; undefined when it carries no status. */
export function parseReplicatePrediction(body: unknown): TaskState | undefined {
  const { prediction, envelopeStatus, envelopeReason } = unwrap(body);
  const innerStatus = stringField(prediction, 'status');
  const status = envelopeStatus !== undefined && !innerStatus ? envelopeStatus : (innerStatus ?? envelopeStatus);
  if (status === undefined) return undefined;
  switch (normaliseStatus(status)) {
    case 'succeeded': {
      const urls = normaliseOutput(field(prediction, 'output'));
      if (field(prediction, 'data_removed') === true && urls.length === 0) {
        return { state: 'failed', status, kind: 'not-found', reason: 'prediction data removed (expired)' };
      }
      if (urls.length === 0) return { state: 'failed', status, kind: 'error', reason: 'succeeded without output' };
      const seed = seedOf(prediction);
      return { state: 'ready', status, urls, ...(seed !== undefined ? { seed } : {}) };
    }
    case 'failed': {
      const error = stringField(prediction, 'error') ?? envelopeReason;
      const reason = error ? `${status}: ${error}` : status;
      // Replicate reports its safety checker as an error; name it moderation so it is not retried blindly.
      const kind = error && /nsfw|moderat|safety|flagged/i.test(error) ? 'moderated' : 'error';
      return { state: 'failed', status, kind, reason };
    }
    default:
      return { state: 'pending', status };
  }
}

function normaliseStatus(status: string): 'succeeded' | 'failed' | 'pending' {
  switch (status.trim().toLowerCase()) {
    case 'succeeded':
    case 'success':
      return 'succeeded';
    case 'failed':
    case 'failure':
    case 'canceled':
    case 'cancelled':
    case 'aborted':
      return 'failed';
    default:
      // starting, processing, IN_PROGRESS, NOT_START, SUBMITTED, QUEUED…
      return 'pending';
  }
}

/** Output as a list of URLs: a single string (flux-1.1-pro) or an array (flux-schnell, flux-dev). */
export function normaliseOutput(output: unknown): string[] {
  if (typeof output === 'string') return output ? [output] : [];
  if (Array.isArray(output)) return output.filter((o): o is string => typeof o === 'string' && o.length > 0);
  return [];
}

function seedOf(prediction: unknown): number | undefined {
  const seed = numberField(field(prediction, 'input'), 'seed');
  if (seed !== undefined) return seed;
  const logs = stringField(prediction, 'logs');
  const m = logs ? /seed[^\d-]{0,5}(-?\d+)/i.exec(logs) : null;
  return m?.[1] ? Number(m[1]) : undefined;
}
