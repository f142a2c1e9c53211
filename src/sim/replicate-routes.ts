// CometAPI's Replicate-format routes (`/replicate/v1/...`, Bearer auth): create a prediction by
// model path or by `{model | version}`, honour `Prefer: wait=N`, get and cancel predictions.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { applyFault, bearerKey, notePoll, sampleUrl, type SimContext } from './context.js';
import { delay, sendJson } from './http.js';
import type { PlaceholderFormat } from './image.js';
import { costOf, parseAspect, sizeFromAspect } from './models.js';
import { randomReplicateId } from './rng.js';
import { acceptSubmit, countSubmit, readJson } from './submit.js';
import type { SimTask } from './tasks.js';

interface ReplicateModel {
  /** BFL model the simulator renders and limits as. */
  model: string;
  /** `output` is an array of URLs (flux-schnell, flux-dev) rather than one URL. */
  array: boolean;
  defaultFormat: 'webp' | 'jpg' | 'png';
  defaultAspect: string;
  /** Accepts `aspect_ratio: "custom"` with width/height, rounded to this step. */
  customStep?: number;
}

const REPLICATE_MODELS: Record<string, ReplicateModel> = {
  'black-forest-labs/flux-1.1-pro': { model: 'flux-pro-1.1', array: false, defaultFormat: 'webp', defaultAspect: '1:1', customStep: 32 },
  'black-forest-labs/flux-1.1-pro-ultra': { model: 'flux-pro-1.1-ultra', array: false, defaultFormat: 'jpg', defaultAspect: '1:1' },
  'black-forest-labs/flux-pro': { model: 'flux-pro', array: false, defaultFormat: 'webp', defaultAspect: '1:1', customStep: 32 },
  'black-forest-labs/flux-dev': { model: 'flux-dev', array: true, defaultFormat: 'webp', defaultAspect: '1:1' },
  'black-forest-labs/flux-schnell': { model: 'flux-schnell', array: true, defaultFormat: 'webp', defaultAspect: '1:1' },
  'black-forest-labs/flux-kontext-pro': { model: 'flux-kontext-pro', array: false, defaultFormat: 'png', defaultAspect: '1:1' },
  'black-forest-labs/flux-kontext-max': { model: 'flux-kontext-max', array: false, defaultFormat: 'png', defaultAspect: '1:1' },
  'black-forest-labs/flux-2-pro': { model: 'flux-2-pro', array: false, defaultFormat: 'webp', defaultAspect: '1:1', customStep: 16 },
  'black-forest-labs/flux-2-max': { model: 'flux-2-max', array: false, defaultFormat: 'webp', defaultAspect: '1:1', customStep: 16 },
  'black-forest-labs/flux-2-flex': { model: 'flux-2-flex', array: false, defaultFormat: 'webp', defaultAspect: '1:1', customStep: 16 },
  'black-forest-labs/flux-2-dev': { model: 'flux-2-dev', array: false, defaultFormat: 'webp', defaultAspect: '1:1', customStep: 16 },
};

const FORMAT_OF: Record<string, PlaceholderFormat> = { webp: 'webp', jpg: 'jpeg', png: 'png' };

interface InvalidField {
  type: string;
  field: string;
  description: string;
}

/** `POST /replicate/v1/models/{owner}/{name}/predictions` (model given) or `POST /replicate/v1/predictions`. */
export async function createPrediction(ctx: SimContext, modelPath: string | undefined, req: IncomingMessage, res: ServerResponse): Promise<void> {
  countSubmit(ctx);
  const key = bearerKey(ctx, req, res);
  if (!key) return;
  countSubmit(ctx, key);
  const parsed = await readJson(ctx, req, res, 'comet');
  if (!parsed) return;
  const body = (parsed.body ?? {}) as Record<string, unknown>;
  const name = modelPath ?? String(body.model ?? body.version ?? '').split(':')[0];
  const spec = REPLICATE_MODELS[name ?? ''];
  if (!spec) {
    const status = modelPath ? 404 : 422;
    sendJson(res, status, { title: status === 404 ? 'Not found' : 'Invalid version', detail: `The requested model or version ${JSON.stringify(name)} does not exist or is not permitted`, status });
    return;
  }
  const input = body.input;
  const fields: InvalidField[] = [];
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    fields.push({ type: 'required', field: 'input', description: 'input is required and must be an object' });
    return sendInvalid(ctx, res, fields);
  }
  const resolved = resolveInput(spec, input as Record<string, unknown>, fields);
  if (!resolved) return sendInvalid(ctx, res, fields);
  const task = await acceptSubmit(ctx, res, 'comet', {
    api: 'replicate',
    key,
    model: spec.model,
    prompt: resolved.prompt,
    ...(resolved.seed === undefined ? {} : { seed: resolved.seed }),
    width: resolved.width,
    height: resolved.height,
    format: FORMAT_OF[resolved.ext] ?? 'webp',
    ext: resolved.ext,
    outputs: resolved.outputs,
    cost: costOf(spec.model, resolved.width, resolved.height) * resolved.outputs,
    replicate: { model: name!, input: input as Record<string, unknown>, arrayOutput: spec.array },
    makeId: randomReplicateId,
  });
  if (!task) return;
  const waitS = preferWait(req.headers.prefer);
  if (waitS > 0) {
    const deadline = Date.now() + waitS * 1000;
    while (Date.now() < Math.min(deadline, task.readyAt) && !task.canceled && !res.destroyed) {
      await delay(Math.min(deadline, task.readyAt) - Date.now() + 1);
    }
  }
  const p = prediction(ctx, task, Date.now()) ?? { id: task.id, status: 'failed', error: 'Task not found', urls: {} };
  const done = p.status !== 'starting' && p.status !== 'processing';
  sendJson(res, waitS > 0 && !done ? 202 : 201, p, { location: String((p.urls as Record<string, string>).get) });
}

/** `GET /replicate/v1/predictions/{id}` and `POST …/{id}/cancel`. */
export async function getPrediction(ctx: SimContext, id: string, cancel: boolean, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (!cancel) ctx.stats.polls++;
  const key = bearerKey(ctx, req, res);
  if (!key) return;
  if (!cancel && !(await applyFault(ctx, 'poll', res, 'comet'))) return;
  const now = Date.now();
  const task = ctx.store.get(id);
  if (task && cancel) ctx.store.cancel(task, now);
  const p = task ? prediction(ctx, task, now) : undefined;
  if (!cancel) notePoll(ctx, p ? String(p.status) : 'not found', task, key, now, p?.status === 'succeeded');
  if (!p) {
    sendJson(res, 404, { detail: 'Not found.' });
    return;
  }
  sendJson(res, 200, p);
}

/** The Replicate prediction object of a task now; undefined when the task is gone. */
function prediction(ctx: SimContext, task: SimTask, now: number): Record<string, unknown> | undefined {
  const view = ctx.store.view(task.id, now);
  if (view.kind === 'gone') return undefined;
  const rep = task.replicate;
  const get = `${ctx.urls.api}/replicate/v1/predictions/${task.id}`;
  const base = {
    id: task.id,
    model: rep?.model ?? `black-forest-labs/${task.model}`,
    version: 'hidden',
    input: rep?.input ?? { prompt: task.prompt },
    logs: '',
    output: null as unknown,
    data_removed: false,
    error: null as string | null,
    source: 'api',
    status: 'starting',
    created_at: new Date(task.createdAt).toISOString(),
    started_at: null as string | null,
    completed_at: null as string | null,
    urls: { get, cancel: `${get}/cancel`, web: `${ctx.urls.api}/replicate/p/${task.id}` },
    metrics: {} as Record<string, number>,
  };
  if (view.kind === 'pending') {
    if (view.phase === 'processing') return { ...base, status: 'processing', started_at: base.created_at };
    return base;
  }
  const finished = { ...base, started_at: base.created_at, completed_at: new Date(task.readyAt).toISOString() };
  const seconds = (task.readyAt - task.createdAt) / 1000;
  if (view.status === 'Canceled') return { ...finished, status: 'canceled', metrics: { predict_time: seconds, total_time: seconds } };
  if (view.status !== 'Ready') {
    const error = view.status === 'Error' ? 'Prediction failed: simulated generation error' : 'NSFW content detected. Try running it again, or try a different prompt.';
    return { ...finished, status: 'failed', error, metrics: { predict_time: seconds, total_time: seconds } };
  }
  const urls = Array.from({ length: task.outputs }, (_, i) => sampleUrl(ctx, task, i));
  return {
    ...finished,
    status: 'succeeded',
    output: rep?.arrayOutput ? urls : urls[0],
    logs: `Using seed: ${task.seed}\n`,
    metrics: { predict_time: seconds, total_time: seconds, image_count: task.outputs },
  };
}

function resolveInput(
  spec: ReplicateModel,
  input: Record<string, unknown>,
  fields: InvalidField[],
): { prompt: string; seed?: number; width: number; height: number; ext: string; outputs: number } | undefined {
  if (typeof input.prompt !== 'string' || input.prompt === '') fields.push({ type: 'required', field: 'input.prompt', description: 'prompt is required' });
  if (input.seed !== undefined && input.seed !== null && !Number.isInteger(input.seed)) fields.push({ type: 'invalid_type', field: 'input.seed', description: 'Invalid type. Expected: integer' });
  const ext = String(input.output_format ?? spec.defaultFormat);
  if (!FORMAT_OF[ext]) fields.push({ type: 'enum', field: 'input.output_format', description: 'output_format must be one of the following: "webp", "jpg", "png"' });
  const outputs = input.num_outputs ?? 1;
  if (!Number.isInteger(outputs) || (outputs as number) < 1 || (outputs as number) > (spec.array ? 4 : 1)) {
    fields.push({ type: 'number_one_of', field: 'input.num_outputs', description: `num_outputs must be between 1 and ${spec.array ? 4 : 1}` });
  }
  const megapixels = input.megapixels === '0.25' ? 0.25 : 1;
  const ar = String(input.aspect_ratio ?? spec.defaultAspect);
  let size: [number, number] | undefined;
  if (ar === 'custom' && spec.customStep) {
    const dims = (['width', 'height'] as const).map((f) => {
      const v = input[f];
      if (!Number.isInteger(v) || (v as number) < 256 || (v as number) > 1440) {
        fields.push({ type: 'number_range', field: `input.${f}`, description: `${f} must be an integer between 256 and 1440 when aspect_ratio is custom` });
        return 0;
      }
      return Math.round((v as number) / spec.customStep!) * spec.customStep!;
    });
    size = [dims[0]!, dims[1]!];
  } else {
    const ratio = ar === 'match_input_image' ? 1 : parseAspect(ar);
    if (ratio === undefined || ratio > 21 / 9 + 1e-9 || ratio < 9 / 21 - 1e-9) {
      fields.push({ type: 'enum', field: 'input.aspect_ratio', description: `aspect_ratio ${JSON.stringify(ar)} is not supported` });
    } else {
      size = sizeFromAspect(ratio, megapixels);
    }
  }
  if (fields.length > 0 || !size) return undefined;
  return {
    prompt: input.prompt as string,
    ...(typeof input.seed === 'number' ? { seed: input.seed } : {}),
    width: size[0],
    height: size[1],
    ext,
    outputs: outputs as number,
  };
}

function sendInvalid(ctx: SimContext, res: ServerResponse, fields: InvalidField[]): void {
  ctx.stats.rejected422++;
  const detail = fields.map((f) => `- ${f.field}: ${f.description}`).join('\n');
  sendJson(res, 422, { title: 'Input validation failed', detail, status: 422, invalid_fields: fields });
}

/** Seconds asked by `Prefer: wait` / `wait=N` (1..60), or 0. */
export function preferWait(header: string | string[] | undefined): number {
  const value = (Array.isArray(header) ? header[0] : header)?.trim() ?? '';
  const m = /^wait(?:=(\d+))?$/.exec(value);
  if (!m) return 0;
  return m[1] ? Math.min(60, Math.max(1, Number(m[1]))) : 60;
}
