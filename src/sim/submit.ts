// The part of a submit every API shares: injected fault, credits (402), in-flight limit (429),
// task creation, and the ambiguous `resetAfterAccept` (created and paid, then the socket drops).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { applyFault, chargeCredits, checkLimit, sendError, type ErrorStyle, type SimContext } from './context.js';
import { BodyTooLargeError, readBody, resetSocket, sendJson } from './http.js';
import type { ValidationIssue } from './models.js';
import { keyStats } from './options.js';
import type { NewTask, SimTask } from './tasks.js';

/** Read and parse a JSON body; replies 413/422 and returns undefined when it is not JSON. */
export async function readJson(ctx: SimContext, req: IncomingMessage, res: ServerResponse, style: ErrorStyle): Promise<{ body: unknown } | undefined> {
  let raw: Buffer;
  try {
    raw = await readBody(req);
  } catch (err) {
    if (err instanceof BodyTooLargeError) sendError(res, style, 413, 'Request body too large');
    else resetSocket(res);
    return undefined;
  }
  try {
    return { body: raw.length === 0 ? undefined : JSON.parse(raw.toString('utf8')) };
  } catch (err) {
    sendValidation(ctx, res, [{ loc: ['body', 0], msg: 'JSON decode error', type: 'json_invalid', ctx: { error: err instanceof Error ? err.message : 'invalid JSON' } }]);
    return undefined;
  }
}

export function sendValidation(ctx: SimContext, res: ServerResponse, issues: ValidationIssue[]): void {
  ctx.stats.rejected422++;
  sendJson(res, 422, { detail: issues });
}

/**
 * Count the submit, then fault → credits → limit → create. Returns the task when the route should
 * answer; undefined when a reply was already sent (or the socket dropped, with or without a task).
 */
export async function acceptSubmit(ctx: SimContext, res: ServerResponse, style: ErrorStyle, spec: NewTask): Promise<SimTask | undefined> {
  const action = await applyFault(ctx, 'submit', res, style);
  if (!action) return undefined;
  const now = Date.now();
  if (!checkLimit(ctx, res, style, spec.key, spec.model, now)) return undefined;
  if (!chargeCredits(ctx, res, style, spec.cost)) return undefined;
  const task = ctx.store.create(spec, now);
  if (action.kind === 'resetAfterAccept') {
    ctx.stats.faults['submit.resetAfterAccept'] = (ctx.stats.faults['submit.resetAfterAccept'] ?? 0) + 1;
    resetSocket(res);
    return undefined;
  }
  return task;
}

/** Count a submit request: globally before anything can refuse it, per key once the key is known. */
export function countSubmit(ctx: SimContext, key?: string): void {
  if (key === undefined) ctx.stats.submits++;
  else keyStats(ctx.stats, key).submits++;
}
