// State shared by the simulator's routes, and the replies every route writes the same way:
// auth checks, error envelopes (BFL/FastAPI or CometAPI), injected faults, signed result URLs.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { delay, drawFault, faultName, gatewayHtml, resetSocket, sendJson, sendText, type FaultAction } from './http.js';
import { bump, keyStats, type FaultConfig, type SimulatorStats } from './options.js';
import type { SeededStreams } from './rng.js';
import type { SimTask, TaskStore } from './tasks.js';

/** Which error envelope a route speaks. */
export type ErrorStyle = 'bfl' | 'comet';
export type RequestKind = 'submit' | 'poll' | 'download';

export interface SimContext {
  store: TaskStore;
  streams: SeededStreams;
  stats: SimulatorStats;
  faults: FaultConfig;
  /** Credits left (from `faults.credits`); undefined = unlimited. */
  creditsLeft: number | undefined;
  keys: { cometapi?: string; bfl?: string };
  urls: { api: string; regions: string[]; delivery: string };
  resultTtlMs: number;
  /** URLs of tasks that became ready at or before this moment are refused (expireAll). */
  urlsRevokedBefore: number;
  secret: Buffer;
}

export function sendError(res: ServerResponse, style: ErrorStyle, status: number, message: string, code = '', headers: Record<string, string> = {}): void {
  if (style === 'comet') {
    sendJson(res, status, { error: { message, type: 'comet_api_error', param: '', code } }, headers);
  } else {
    sendJson(res, status, { detail: message }, headers);
  }
}

/** Bearer key for CometAPI routes; replies 401 and returns undefined when missing or wrong. */
export function bearerKey(ctx: SimContext, req: IncomingMessage, res: ServerResponse): string | undefined {
  const header = req.headers.authorization ?? '';
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  const key = m?.[1];
  if (!key || (ctx.keys.cometapi !== undefined && key !== ctx.keys.cometapi)) {
    ctx.stats.rejectedAuth++;
    const message = key ? 'Invalid token' : 'Missing Authorization header: expected "Authorization: Bearer <key>"';
    sendError(res, 'comet', 401, `${message} (request id: ${requestId(ctx)})`, 'invalid_api_key');
    return undefined;
  }
  return key;
}

/** `x-key` for BFL routes; replies 403 (FastAPI APIKeyHeader style) when missing or wrong. */
export function xKey(ctx: SimContext, req: IncomingMessage, res: ServerResponse): string | undefined {
  const raw = req.headers['x-key'];
  const key = (Array.isArray(raw) ? raw[0] : raw)?.trim();
  if (!key || (ctx.keys.bfl !== undefined && key !== ctx.keys.bfl)) {
    ctx.stats.rejectedAuth++;
    sendError(res, 'bfl', 403, key ? 'Invalid API key' : 'Not authenticated');
    return undefined;
  }
  return key;
}

/**
 * Draw and apply the fault for one request. Returns the action when the route must continue
 * (`none`, `resetAfterAccept`, `truncate`), or undefined when the reply has been sent or dropped.
 */
export async function applyFault(ctx: SimContext, kind: RequestKind, res: ServerResponse, style: ErrorStyle): Promise<FaultAction | undefined> {
  const action = drawFault(ctx.faults[kind], ctx.streams.next(kind));
  const name = faultName(action);
  // resetAfterAccept is counted where it happens: only once a task was really created and paid.
  if (name && action.kind !== 'resetAfterAccept') bump(ctx.stats.faults, `${kind}.${name}`);
  if (action.slowMs > 0) {
    bump(ctx.stats.faults, `${kind}.slow`);
    if (kind !== 'download') await delay(action.slowMs);
  }
  if (action.kind === 'reset') {
    resetSocket(res);
    return undefined;
  }
  if (action.kind === 'status') {
    const { status } = action;
    if (status === 502 || status === 504) {
      sendText(res, status, gatewayHtml(status), 'text/html');
    } else if (status === 429) {
      if (kind === 'submit') ctx.stats.rejected429++;
      sendError(res, style, 429, 'Request was throttled. Too many requests, retry later.', 'rate_limit', { 'retry-after': String(action.retryAfterS) });
    } else {
      sendError(res, style, status, status === 500 ? 'Internal Server Error' : 'Service Unavailable', status === 500 ? 'internal_error' : 'service_unavailable');
    }
    return undefined;
  }
  return action;
}

/** Charge credits for a task about to be created; replies 402 and returns false when there are not enough. */
export function chargeCredits(ctx: SimContext, res: ServerResponse, style: ErrorStyle, cost: number): boolean {
  if (ctx.creditsLeft === undefined) return true;
  if (ctx.creditsLeft <= 0 || ctx.creditsLeft < cost) {
    ctx.stats.rejected402++;
    sendError(res, style, 402, 'Insufficient credits. Add credits at https://dashboard.bfl.ai', 'insufficient_quota');
    return false;
  }
  ctx.creditsLeft = Math.round((ctx.creditsLeft - cost) * 100) / 100;
  return true;
}

/** Refuse a submit over the in-flight limit with 429 + Retry-After; returns false when refused. */
export function checkLimit(ctx: SimContext, res: ServerResponse, style: ErrorStyle, key: string, model: string, now: number): boolean {
  const wait = ctx.store.limitWait(key, model, now);
  if (wait === 0) return true;
  ctx.stats.rejected429++;
  keyStats(ctx.stats, key).rejected429++;
  sendError(res, style, 429, `You have reached the limit of active tasks for ${model}. Wait until a previous task has finished.`, 'rate_limit', {
    'retry-after': String(wait),
  });
  return false;
}

/** The signed, expiring URL of a task's image number `index`. */
export function sampleUrl(ctx: SimContext, task: SimTask, index = 0): string {
  const path = `/${task.id}/${index === 0 ? 'sample' : `sample-${index}`}.${task.ext}`;
  const exp = task.readyAt + ctx.resultTtlMs;
  return `${ctx.urls.delivery}${path}?exp=${exp}&sig=${sign(ctx, path, exp)}`;
}

export function sign(ctx: SimContext, path: string, exp: number): string {
  return createHmac('sha256', ctx.secret).update(`${path}\n${exp}`).digest('hex').slice(0, 32);
}

export function signatureMatches(ctx: SimContext, path: string, exp: number, sig: string): boolean {
  const want = Buffer.from(sign(ctx, path, exp));
  const got = Buffer.from(sig);
  return want.length === got.length && timingSafeEqual(want, got);
}

/** BFL `result` of a ready task. */
export function bflResult(ctx: SimContext, task: SimTask): Record<string, unknown> {
  return {
    sample: sampleUrl(ctx, task),
    prompt: task.prompt,
    seed: task.seed,
    start_time: task.createdAt / 1000,
    end_time: task.readyAt / 1000,
    duration: (task.readyAt - task.createdAt) / 1000,
  };
}

export function requestId(ctx: SimContext): string {
  return `sim-${ctx.stats.submits + ctx.stats.polls}-${Date.now().toString(36)}`;
}

/** Record a poll's outcome in the stats; marks the first time a ready task is seen. */
export function notePoll(ctx: SimContext, status: string, task: SimTask | undefined, key: string, now: number, ready = status === 'Ready'): void {
  bump(ctx.stats.pollsByStatus, status);
  keyStats(ctx.stats, key).polls++;
  if (!task) return;
  task.timing.polls++;
  if (ready && task.timing.seenReadyAt === undefined) task.timing.seenReadyAt = now;
}
