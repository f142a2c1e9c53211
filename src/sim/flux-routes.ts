// BFL-native routes, spoken by two front doors: BFL itself (`/v1/...`, `x-key`) and CometAPI's
// proxy (`/flux/v1/...`, `Authorization: Bearer`). Regional hosts serve the BFL side only.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { bearerKey, bflResult, notePoll, sendError, xKey, applyFault, type ErrorStyle, type SimContext } from './context.js';
import { sendJson } from './http.js';
import { costOf, MODELS, validateBflRequest } from './models.js';
import { acceptSubmit, countSubmit, readJson, sendValidation } from './submit.js';
import type { SimTask } from './tasks.js';
import { randomUuid } from './rng.js';

type Door = 'bfl' | 'cometapi';

/** Handle `POST {prefix}/{model}`. */
export async function submitFlux(ctx: SimContext, door: Door, model: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  countSubmit(ctx);
  const style: ErrorStyle = door === 'bfl' ? 'bfl' : 'comet';
  const key = door === 'bfl' ? xKey(ctx, req, res) : bearerKey(ctx, req, res);
  if (!key) return;
  countSubmit(ctx, key);
  if (!MODELS[model]) {
    sendError(res, style, 404, door === 'bfl' ? 'Not Found' : `Model ${model} is not supported on /flux/v1`, 'model_not_found');
    return;
  }
  const parsed = await readJson(ctx, req, res, style);
  if (!parsed) return;
  const { issues, request } = validateBflRequest(model, parsed.body);
  if (!request) {
    sendValidation(ctx, res, issues);
    return;
  }
  const body = parsed.body as Record<string, unknown>;
  const webhook = typeof body.webhook_url === 'string' ? { url: body.webhook_url, ...(typeof body.webhook_secret === 'string' ? { secret: body.webhook_secret } : {}) } : undefined;
  const cost = costOf(model, request.width, request.height);
  const task = await acceptSubmit(ctx, res, style, {
    api: door,
    key,
    model,
    prompt: request.prompt,
    ...(request.seed === undefined ? {} : { seed: request.seed }),
    width: request.width,
    height: request.height,
    format: request.format,
    cost,
    ...(webhook ? { webhook } : {}),
    makeId: randomUuid,
  });
  if (!task) return;
  const mp = Math.round(((request.width * request.height) / 1e6) * 100) / 100;
  if (door === 'cometapi') {
    sendJson(res, 200, { id: task.id, polling_url: pollingUrl(ctx, task) });
  } else if (webhook) {
    sendJson(res, 200, { id: task.id, status: 'Pending', webhook_url: webhook.url, cost, input_mp: 0, output_mp: mp });
  } else {
    sendJson(res, 200, { id: task.id, polling_url: pollingUrl(ctx, task), cost, input_mp: 0, output_mp: mp });
  }
}

/** Handle `GET {prefix}/get_result?id=`. */
export async function pollFlux(ctx: SimContext, door: Door, url: URL, req: IncomingMessage, res: ServerResponse): Promise<void> {
  ctx.stats.polls++;
  const style: ErrorStyle = door === 'bfl' ? 'bfl' : 'comet';
  const key = door === 'bfl' ? xKey(ctx, req, res) : bearerKey(ctx, req, res);
  if (!key) return;
  const id = url.searchParams.get('id');
  if (!id) {
    sendValidation(ctx, res, [{ loc: ['query', 'id'], msg: 'Field required', type: 'missing' }]);
    return;
  }
  if (!(await applyFault(ctx, 'poll', res, style))) return;
  const now = Date.now();
  const body = resultBody(ctx, id, now);
  notePoll(ctx, body.status as string, ctx.store.get(id), key, now);
  sendJson(res, 200, body);
}

/** The `ResultResponse` of a task now (also used for tasks created through the Replicate route). */
export function resultBody(ctx: SimContext, id: string, now: number): Record<string, unknown> {
  const view = ctx.store.view(id, now);
  const base = { id, result: null, progress: null, details: null, preview: null };
  if (view.kind === 'gone') return { ...base, status: 'Task not found' };
  if (view.kind === 'pending') return { ...base, status: view.status, progress: view.progress };
  return terminalBody(ctx, view.task, view.status);
}

function terminalBody(ctx: SimContext, task: SimTask, status: string): Record<string, unknown> {
  const base = { id: task.id, result: null, progress: null, details: null, preview: null };
  switch (status) {
    case 'Ready':
      return { ...base, status: 'Ready', result: bflResult(ctx, task), progress: 1 };
    case 'Request Moderated':
    case 'Content Moderated':
      return { ...base, status, details: { 'Moderation Reasons': [status === 'Request Moderated' ? 'Prompt' : 'Output'] } };
    default:
      return { ...base, status: 'Error', details: { error: status === 'Canceled' ? 'Task was canceled' : 'Simulated generation error' } };
  }
}

/** `<regionUrl>/v1/get_result?id=…`; the region is derived from the id, so it is stable per task. */
export function pollingUrl(ctx: SimContext, task: SimTask): string {
  const base = ctx.urls.regions[task.region] ?? ctx.urls.api;
  return `${base}/v1/get_result?id=${encodeURIComponent(task.id)}`;
}

/** `GET /v1/credits`. */
export function creditsFlux(ctx: SimContext, req: IncomingMessage, res: ServerResponse): void {
  if (!xKey(ctx, req, res)) return;
  sendJson(res, 200, { credits: ctx.creditsLeft ?? 1_000_000 });
}

/** POST the final result to a webhook on this machine (others are ignored: the simulator stays offline). */
export function deliverWebhook(ctx: SimContext, task: SimTask): void {
  if (!task.webhook) return;
  let target: URL;
  try {
    target = new URL(task.webhook.url);
  } catch {
    return;
  }
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(target.hostname)) return;
  const body = { ...terminalBody(ctx, task, task.canceled ? 'Canceled' : task.outcome), task_id: task.id };
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (task.webhook.secret) headers['x-webhook-secret'] = task.webhook.secret;
  fetch(target, { method: 'POST', headers, body: JSON.stringify(body), signal: AbortSignal.timeout(5_000) }).then(
    (r) => r.body?.cancel(),
    () => undefined,
  );
}
