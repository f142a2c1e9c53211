// Result downloads. Signed result URLs (delivery-*.bfl.ai, replicate.delivery, …) need no auth, and
// the API key must never reach them (DESIGN decision 12): this function accepts no headers at all.
import type { HttpError } from '../errors.js';
import { describeUrl, httpErrorFromResponse, makeHttpError } from './errors.js';
import { httpRequest, type HttpTimeouts } from './request.js';

export interface DownloadOptions {
  signal?: AbortSignal;
  timeouts?: HttpTimeouts;
  /** Default 64 MiB. */
  maxBytes?: number;
}

export const DEFAULT_DOWNLOAD_TIMEOUTS: HttpTimeouts = { headersMs: 30_000, idleMs: 30_000, totalMs: 300_000 };
export const DEFAULT_DOWNLOAD_MAX_BYTES = 64 * 1024 * 1024;

/** Statuses with which a signed URL says "this result is gone": regenerate (DESIGN decision 8). */
const EXPIRED_STATUSES = new Set([403, 404, 410]);

/**
 * GET a result URL without any credentials and return its bytes. A truncated body is a retryable
 * `HttpError` (code `truncated`); 403/404/410 give an `HttpError` with `expired: true`
 * (code `result-expired`). `data:` URLs (Replicate sync outputs) are decoded locally.
 */
export async function downloadResult(url: string, opts: DownloadOptions = {}): Promise<Buffer> {
  const maxBytes = opts.maxBytes ?? DEFAULT_DOWNLOAD_MAX_BYTES;
  if (url.startsWith('data:')) return decodeDataUrl(url, maxBytes);
  let protocol: string;
  try {
    protocol = new URL(url).protocol;
  } catch {
    throw makeHttpError(`result URL is not a valid URL: ${url.slice(0, 80)}`, 'fatal', { code: 'bad-url' });
  }
  if (protocol !== 'https:' && protocol !== 'http:') {
    throw makeHttpError(`result URL has unsupported scheme ${protocol}`, 'fatal', { code: 'bad-url' });
  }
  const res = await httpRequest(url, {
    method: 'GET',
    headers: { accept: 'image/*,*/*;q=0.8' },
    timeouts: opts.timeouts ?? DEFAULT_DOWNLOAD_TIMEOUTS,
    ...(opts.signal ? { signal: opts.signal } : {}),
    maxBytes,
    acceptErrorStatus: true,
    // No credentials are sent, so following a CDN redirect is harmless.
    redirect: 'follow',
  });
  if (res.status >= 200 && res.status < 300) return res.body;
  if (EXPIRED_STATUSES.has(res.status)) throw expiredError(url, res.status);
  throw httpErrorFromResponse('GET', url, res);
}

function expiredError(url: string, status: number): HttpError {
  return makeHttpError(
    `GET ${describeUrl(url)}: HTTP ${status}: result URL expired or refused; the image must be regenerated`,
    'fatal',
    { status, code: 'result-expired', expired: true },
  );
}

function decodeDataUrl(url: string, maxBytes: number): Buffer {
  const comma = url.indexOf(',');
  if (comma < 0) throw makeHttpError('result data: URL has no payload', 'fatal', { code: 'bad-url' });
  const meta = url.slice(5, comma);
  const payload = url.slice(comma + 1);
  const bytes = meta.endsWith(';base64') ? Buffer.from(payload, 'base64') : Buffer.from(decodeURIComponent(payload));
  if (bytes.length > maxBytes) {
    throw makeHttpError(`result data: URL too large: ${bytes.length} bytes, limit ${maxBytes}`, 'fatal', {
      code: 'too-large',
    });
  }
  return bytes;
}
