// Error classification (DESIGN decision 6): which failures are safe to retry, which are ambiguous
// (the server may have taken the request), which are fatal. Pure functions, tested with plain data.
import type { FailureClass } from '../types.js';

/**
 * Safety class of an HTTP status the server answered with.
 * 429, 500, 503, 524 (and the other "server said no" 5xx): not-sent. 502/504/520: ambiguous (a
 * gateway gave up; the origin may have taken it). 4xx, 3xx and a CometAPI 500 whose
 * `error.code` is `invalid_request`: fatal.
 */
export function classifyStatus(status: number, body?: unknown): FailureClass {
  if (status === 429 || status === 408) return 'not-sent';
  if (status >= 300 && status < 500) return 'fatal';
  if (status === 500 && errorCode(body) === 'invalid_request') return 'fatal';
  if (status === 501 || status === 505) return 'fatal';
  if (status === 502 || status === 504 || status === 520) return 'ambiguous';
  if (status >= 500) return 'not-sent';
  // 1xx/2xx are not failures; callers only ask about error statuses.
  return 'fatal';
}

/** A stable code for the statuses that deserve one. */
export function statusCode(status: number, body?: unknown): string {
  if (status === 402) return 'out-of-credits';
  if (status === 429) return 'rate-limited';
  if (status === 401) return 'unauthorized';
  if (status === 422 || status === 400) return 'invalid-request';
  if (status === 500 && errorCode(body) === 'invalid_request') return 'invalid-request';
  if (status >= 300 && status < 400) return 'redirect';
  return `http-${status}`;
}

function errorCode(body: unknown): string | undefined {
  const err = field(body, 'error');
  const code = field(err, 'code');
  return typeof code === 'string' ? code : undefined;
}

function field(value: unknown, key: string): unknown {
  return value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
}

/**
 * `Retry-After` in milliseconds: delta-seconds or an HTTP date (relative to `now`).
 * Undefined when absent or unparseable; never negative.
 */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | undefined {
  const v = value?.trim();
  if (!v) return undefined;
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

/**
 * Retry hint from an error body: `retry_after` (seconds; top level or inside `error`), else
 * Replicate's prose "Expected available in 1 second" / "resets in ~30s".
 */
export function retryAfterFromBody(body: unknown): number | undefined {
  for (const v of [field(body, 'retry_after'), field(field(body, 'error'), 'retry_after')]) {
    if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return Math.round(v * 1000);
    if (typeof v === 'string') {
      const ms = parseRetryAfter(v);
      if (ms !== undefined) return ms;
    }
  }
  const detail = field(body, 'detail');
  if (typeof detail === 'string') {
    const m = /(?:available in|resets in)\s*~?\s*(\d+(?:\.\d+)?)\s*(s\b|sec|second)/i.exec(detail);
    if (m?.[1]) return Math.round(Number(m[1]) * 1000);
  }
  return undefined;
}

const MAX_MESSAGE = 300;

/**
 * A short human message from an error body: FastAPI/BFL `detail` (string, or a list of
 * `{loc, msg}`), CometAPI `{error: {message, code}}`, `{error, message}`, Replicate `{detail}`,
 * or plain text (HTML pages are named as such, not dumped).
 */
export function describeErrorBody(body: unknown, text?: string): string | undefined {
  const msg = describeJson(body) ?? describeText(text);
  if (!msg) return undefined;
  const oneLine = msg.replace(/\s+/g, ' ').trim();
  return oneLine.length > MAX_MESSAGE ? `${oneLine.slice(0, MAX_MESSAGE - 1)}…` : oneLine;
}

function describeJson(body: unknown): string | undefined {
  if (body === null || typeof body !== 'object') return undefined;
  const detail = field(body, 'detail');
  if (typeof detail === 'string') return detail;
  if (Array.isArray(detail)) return describeValidation(detail);
  const error = field(body, 'error');
  const errMessage = field(error, 'message');
  if (typeof errMessage === 'string' && errMessage) {
    const code = field(error, 'code');
    return typeof code === 'string' && code ? `${errMessage} [${code}]` : errMessage;
  }
  const message = field(body, 'message');
  if (typeof message === 'string' && message) return message;
  if (typeof error === 'string' && error) return error;
  return undefined;
}

function describeValidation(items: unknown[]): string {
  const parts = items.slice(0, 3).map((item) => {
    const loc = field(item, 'loc');
    const msg = field(item, 'msg');
    const where = Array.isArray(loc) ? loc.filter((p) => p !== 'body').join('.') : '';
    const text = typeof msg === 'string' ? msg : JSON.stringify(item);
    return where ? `${where}: ${text}` : text;
  });
  const more = items.length > 3 ? ` (+${items.length - 3} more)` : '';
  return parts.join('; ') + more;
}

function describeText(text: string | undefined): string | undefined {
  const t = text?.trim();
  if (!t) return undefined;
  if (/^<(!doctype|html)/i.test(t)) return 'an HTML page instead of JSON (check the base URL)';
  return t;
}

/** Network error codes that prove the request never reached the server. */
const NOT_SENT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EAI_NONAME',
  'EAI_FAIL',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
  'EPROTO',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
]);

/** The first `code` found along an error's `cause` chain (fetch wraps the real error). */
export function networkErrorCode(err: unknown): string | undefined {
  let e: unknown = err;
  for (let depth = 0; depth < 5 && e !== null && typeof e === 'object'; depth++) {
    const code = field(e, 'code');
    if (typeof code === 'string') return code;
    const errno = field(e, 'errno');
    if (typeof errno === 'string') return errno;
    e = field(e, 'cause');
  }
  return undefined;
}

/**
 * Class of a failure to get a response at all: connection refused, DNS and TLS failures happen
 * before anything is sent; resets and anything else unknown may come after the server took it.
 */
export function classifyNetworkError(code: string | undefined): FailureClass {
  if (!code) return 'ambiguous';
  if (NOT_SENT_CODES.has(code)) return 'not-sent';
  if (code.startsWith('ERR_TLS_') || code.startsWith('ERR_SSL_')) return 'not-sent';
  return 'ambiguous';
}
