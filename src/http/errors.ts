// Building HttpErrors: every one goes through `makeHttpError`, which redacts the message and body.
import { HttpError } from '../errors.js';
import { redact, redactDeep } from '../providers/redact.js';
import type { FailureClass } from '../types.js';
import {
  classifyNetworkError,
  classifyStatus,
  describeErrorBody,
  networkErrorCode,
  parseRetryAfter,
  retryAfterFromBody,
  statusCode,
} from './classify.js';
import type { HttpResponse, HttpTimeouts } from './request.js';

export type TimeoutKind = 'headers' | 'idle' | 'total';

/** The HttpError for a response whose status is an error; the body is parsed for a message. */
export function httpErrorFromResponse(method: string, url: string, res: HttpResponse): HttpError {
  const body = res.json();
  const text = body === undefined ? res.body.toString('utf8', 0, Math.min(res.body.length, 2000)) : undefined;
  const failure = classifyStatus(res.status, body);
  const code = statusCode(res.status, body);
  const detail = describeErrorBody(body, text);
  let summary = `HTTP ${res.status}`;
  if (res.status === 402) summary += ' out of credits';
  else if (code === 'redirect') {
    const location = res.headers.get('location');
    summary += ` unexpected redirect${location ? ` to ${describeUrl(location)}` : ''} (check the base URL)`;
  }
  const retryAfterMs =
    res.status === 429 || res.status === 503
      ? (parseRetryAfter(res.headers.get('retry-after')) ?? retryAfterFromBody(body))
      : undefined;
  const message = `${method.toUpperCase()} ${describeUrl(url)}: ${summary}${detail ? `: ${detail}` : ''}`;
  return makeHttpError(message, failure, { status: res.status, retryAfterMs, body: body ?? text, code });
}

export interface HttpErrorExtras {
  status?: number;
  retryAfterMs?: number;
  body?: unknown;
  code?: string;
  expired?: boolean;
  cause?: unknown;
}

/** Build an HttpError whose message and body are redacted. The only way this module makes one. */
export function makeHttpError(message: string, failure: FailureClass, extras: HttpErrorExtras = {}): HttpError {
  const err = new HttpError(
    redact(message),
    failure,
    extras.status,
    extras.retryAfterMs,
    extras.body === undefined ? undefined : redactDeep(extras.body),
    extras.cause === undefined ? undefined : { cause: extras.cause },
  );
  if (extras.code) err.code = extras.code;
  if (extras.expired) err.expired = true;
  return err;
}

export function timeoutError(where: string, kind: TimeoutKind, t: HttpTimeouts): HttpError {
  const text =
    kind === 'headers'
      ? `no response within ${t.headersMs} ms`
      : kind === 'idle'
        ? `response body stalled for ${t.idleMs} ms`
        : `exceeded the ${t.totalMs} ms deadline`;
  // The request was sent (or may have been): the server may be working on it.
  return makeHttpError(`${where}: ${text}`, 'ambiguous', { code: `timeout-${kind}` });
}

export function networkError(where: string, err: unknown, afterHeaders: boolean): HttpError {
  const code = networkErrorCode(err);
  const failure = afterHeaders ? 'ambiguous' : classifyNetworkError(code);
  const reason = causeMessage(err);
  return makeHttpError(`${where}: ${afterHeaders ? 'connection lost while reading the response' : 'request failed'}: ${reason}`, failure, {
    code: code ?? 'network',
    cause: err,
  });
}

function causeMessage(err: unknown): string {
  const parts: string[] = [];
  let e: unknown = err;
  for (let depth = 0; depth < 4 && e !== null && typeof e === 'object'; depth++) {
    const message = (e as { message?: unknown }).message;
    if (typeof message === 'string' && message && !parts.includes(message)) parts.push(message);
    e = (e as { cause?: unknown }).cause;
  }
  return parts.join(': ') || String(err);
}

export function tooLarge(where: string, maxBytes: number, declared?: number): HttpError {
  const got = declared === undefined ? `more than ${maxBytes}` : String(declared);
  return makeHttpError(`${where}: response too large: ${got} bytes, limit ${maxBytes}`, 'fatal', { code: 'too-large' });
}

export function truncated(where: string, method: string, got: number, expected: number, cause?: unknown): HttpError {
  // A GET can simply be repeated; a POST whose answer was cut off may have been taken.
  const failure: FailureClass = method === 'GET' || method === 'HEAD' ? 'not-sent' : 'ambiguous';
  return makeHttpError(`${where}: truncated download: got ${got} of ${expected} bytes`, failure, {
    code: 'truncated',
    cause,
  });
}

/** Origin and path only: query strings (signatures, ids) stay out of messages. */
export function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.protocol === 'data:') return 'data: URL';
    return `${u.origin}${u.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}
