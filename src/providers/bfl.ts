// BFL FLUX API, direct (PROTOCOLS 1). Submit `POST /v1/{model}` with `x-key`; poll the exact returned
// `polling_url` (a regional cluster host, e.g. api.eu2.bfl.ai) with `x-key`, but only on BFL hosts;
// download `result.sample` with no credentials. The result parsing here is shared with CometAPI's
// BFL-native route, which speaks the same format.
import type { HttpError } from '../errors.js';
import {
  DEFAULT_API_TIMEOUTS,
  describeErrorBody,
  describeUrl,
  downloadResult,
  httpErrorFromResponse,
  httpRequest,
  makeHttpError,
  type DownloadOptions,
  type HttpResponse,
  type HttpTimeouts,
} from '../http/index.js';
import type { Job, Provider, ProviderContext, SubmitResult, TaskRef, TaskState } from '../types.js';
import { encodeImageInputs } from './inputs.js';
import { registerSecret } from './redact.js';

/** What every HTTP provider takes (cometapi, bfl, replicate); `baseUrl` defaults per provider. */
export interface ApiProviderOptions {
  baseUrl?: string;
  apiKey: string;
  timeouts?: HttpTimeouts;
  download?: Omit<DownloadOptions, 'signal'>;
}

/** `baseUrl` defaults to `https://api.bfl.ai`. */
export type BflProviderOptions = ApiProviderOptions;

export const BFL_BASE_URL = 'https://api.bfl.ai';

export function createBflProvider(opts: BflProviderOptions): Provider {
  const baseUrl = trimSlash(opts.baseUrl ?? BFL_BASE_URL);
  const timeouts = opts.timeouts ?? DEFAULT_API_TIMEOUTS;
  registerSecret(opts.apiKey);
  const auth = { 'x-key': opts.apiKey };
  return {
    name: 'bfl',
    family: 'bfl',
    async submit(job: Job, ctx: ProviderContext): Promise<SubmitResult> {
      const url = `${baseUrl}/v1/${encodeURIComponent(job.model)}`;
      const body = await encodeImageInputs(job, 'base64');
      const res = await httpRequest(url, { method: 'POST', headers: auth, body, timeouts, ...signalOf(ctx) });
      const json = res.json();
      const id = submitId(json, 'POST', url);
      const polling = stringField(json, 'polling_url');
      // The webhook variant has no polling_url; get_result on the configured host is the fallback.
      const pollingUrl = polling ?? `${baseUrl}/v1/get_result?id=${encodeURIComponent(id)}`;
      const cost = numberField(json, 'cost');
      return { provider: 'bfl', id, pollingUrl, ...(cost !== undefined ? { cost } : {}) };
    },
    async poll(task: TaskRef, ctx: ProviderContext): Promise<TaskState> {
      const url = task.pollingUrl ?? `${baseUrl}/v1/get_result?id=${encodeURIComponent(task.id)}`;
      assertKeyHost(url, baseUrl);
      const res = await httpRequest(url, { headers: auth, timeouts, acceptErrorStatus: true, ...signalOf(ctx) });
      return bflTaskState(res, url);
    },
    download(url: string, ctx: ProviderContext): Promise<Buffer> {
      return downloadResult(url, { ...opts.download, ...signalOf(ctx) });
    },
  };
}

/**
 * The key goes only to the configured API host, BFL's own hosts (`*.bfl.ai`, `*.bfl.ml`, over
 * https), or — for the simulator and tests — the configured host name on any port.
 */
export function isTrustedBflUrl(url: string, baseUrl: string): boolean {
  let target: URL;
  let base: URL;
  try {
    target = new URL(url);
    base = new URL(baseUrl);
  } catch {
    return false;
  }
  if (target.hostname === base.hostname && target.protocol === base.protocol) return true;
  const host = target.hostname.toLowerCase();
  const bflFamily = ['bfl.ai', 'bfl.ml'].some((d) => host === d || host.endsWith(`.${d}`));
  return bflFamily && target.protocol === 'https:';
}

function assertKeyHost(url: string, baseUrl: string): void {
  if (isTrustedBflUrl(url, baseUrl)) return;
  throw makeHttpError(
    `refusing to send the BFL API key to ${describeUrl(url)}: polling URLs must be on ${new URL(baseUrl).hostname} or an https *.bfl.ai / *.bfl.ml host`,
    'fatal',
    { code: 'untrusted-host' },
  );
}

/** A poll response → task state. The body is read even on non-2xx (terminal states may come with 503). */
export function bflTaskState(res: HttpResponse, url: string): TaskState {
  const state = parseBflResult(res.json());
  if (state) return state;
  if (res.status < 200 || res.status >= 300) throw httpErrorFromResponse('GET', url, res);
  throw makeHttpError(`GET ${describeUrl(url)}: poll response has no status`, 'ambiguous', {
    status: res.status,
    body: res.json(),
    code: 'bad-response',
  });
}

/** Map a BFL `get_result` body (BFL or CometAPI) to a TaskState; undefined when it has no status. */
export function parseBflResult(body: unknown): TaskState | undefined {
  const status = stringField(body, 'status');
  if (status === undefined) return undefined;
  const result = field(body, 'result');
  const details = field(body, 'details');
  switch (status.trim().toLowerCase()) {
    case 'ready': {
      const sample = stringField(result, 'sample');
      if (!sample) return { state: 'failed', status, kind: 'error', reason: 'Ready without result.sample' };
      const seed = numberField(result, 'seed');
      return { state: 'ready', status, urls: [sample], ...(seed !== undefined ? { seed } : {}) };
    }
    case 'request moderated':
    case 'content moderated':
      return { state: 'failed', status, kind: 'moderated', reason: withReasons(status, details) };
    case 'error':
    case 'failed':
      return { state: 'failed', status, kind: 'error', reason: errorReason(status, body) };
    case 'task not found':
      return { state: 'failed', status, kind: 'not-found', reason: 'Task not found (expired or unknown id)' };
    default: {
      // Pending, and anything new and non-terminal (Queued, Reasoning, Generating…): keep polling.
      const progress = numberField(body, 'progress');
      return { state: 'pending', status, ...(progress !== undefined ? { progress } : {}) };
    }
  }
}

function withReasons(status: string, details: unknown): string {
  const reasons = field(details, 'Moderation Reasons');
  const list = Array.isArray(reasons) ? reasons.map(String) : typeof reasons === 'string' ? [reasons] : [];
  return list.length > 0 ? `${status}: ${list.join(', ')}` : status;
}

function errorReason(status: string, body: unknown): string {
  const details = field(body, 'details');
  const fromDetails = typeof details === 'string' ? details : describeErrorBody(details);
  const text = fromDetails ?? describeErrorBody(body) ?? stringField(field(body, 'result'), 'error');
  return text ? `${status}: ${text}` : status;
}

/** The task id of a submit response; a response without one is an error. */
export function submitId(json: unknown, method: string, url: string): string {
  const id = field(json, 'id');
  if (typeof id === 'string' && id) return id;
  if (typeof id === 'number') return String(id);
  const detail = describeErrorBody(json);
  // An error envelope with a 200 is a refusal; anything else may have been taken.
  const err: HttpError = makeHttpError(
    `${method} ${describeUrl(url)}: submit response has no task id${detail ? `: ${detail}` : ''}`,
    detail ? 'fatal' : 'ambiguous',
    { body: json, code: 'bad-response' },
  );
  throw err;
}

export function field(value: unknown, key: string): unknown {
  return value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
}

export function stringField(value: unknown, key: string): string | undefined {
  const v = field(value, key);
  return typeof v === 'string' ? v : undefined;
}

export function numberField(value: unknown, key: string): number | undefined {
  const v = field(value, key);
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

export function signalOf(ctx: ProviderContext): { signal?: AbortSignal } {
  return ctx.signal ? { signal: ctx.signal } : {};
}

export function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}
