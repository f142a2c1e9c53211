// fetch with the timeouts a batch runner needs: one AbortController per request, a headers timeout,
// an idle-body timeout reset on every chunk, an optional total deadline, and a body size cap.
// Every failure becomes an HttpError with its safety class (see errors.ts); messages are redacted
// and never carry request headers.
import { HttpError } from '../errors.js';
import {
  describeUrl,
  httpErrorFromResponse,
  networkError,
  timeoutError,
  tooLarge,
  truncated,
  type TimeoutKind,
} from './errors.js';

export interface HttpTimeouts {
  /**
   * Reserved. Node's bundled undici bounds connecting with its own 10 s connect timeout (reported
   * as `UND_ERR_CONNECT_TIMEOUT`, class not-sent); global fetch offers no per-request hook for it.
   */
  connectMs?: number;
  /** From the start of the request until the response headers arrive. */
  headersMs: number;
  /** Longest silence while the body streams; reset on every chunk. */
  idleMs: number;
  /** Whole exchange, headers and body. */
  totalMs?: number;
}

export interface HttpRequestOptions {
  method?: string;
  headers?: Record<string, string>;
  /** A plain object or array is sent as JSON; strings and Buffers as they are. */
  body?: unknown;
  timeouts: HttpTimeouts;
  signal?: AbortSignal;
  /** Body size cap in bytes (default 32 MiB). */
  maxBytes?: number;
  /** Return non-2xx responses instead of throwing (for APIs that put the answer in an error body). */
  acceptErrorStatus?: boolean;
  /** Default `manual`: a redirect must not carry an API key to another host; it is reported instead. */
  redirect?: 'manual' | 'follow';
}

export interface HttpResponse {
  status: number;
  headers: Headers;
  body: Buffer;
  /** The body parsed as JSON; undefined when it is empty or not JSON. */
  json(): unknown;
}

export const DEFAULT_MAX_BYTES = 32 * 1024 * 1024;

/** Defaults for API calls (submit, poll). A submit can take a while to be accepted under load. */
export const DEFAULT_API_TIMEOUTS: HttpTimeouts = { headersMs: 60_000, idleMs: 30_000, totalMs: 120_000 };

/** Perform one HTTP exchange. Throws HttpError on failure, or the signal's reason when aborted. */
export async function httpRequest(url: string, opts: HttpRequestOptions): Promise<HttpResponse> {
  const method = (opts.method ?? 'GET').toUpperCase();
  const where = `${method} ${describeUrl(url)}`;
  opts.signal?.throwIfAborted();
  const controller = new AbortController();
  let timedOut: TimeoutKind | undefined;
  const expire = (kind: TimeoutKind) => () => {
    timedOut ??= kind;
    controller.abort(new Error(`${kind} timeout`));
  };
  const onAbort = () => controller.abort(opts.signal?.reason);
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  let phaseTimer = setTimeout(expire('headers'), opts.timeouts.headersMs);
  const totalTimer = opts.timeouts.totalMs ? setTimeout(expire('total'), opts.timeouts.totalMs) : undefined;

  const fail = (err: unknown, afterHeaders: boolean): never => {
    if (opts.signal?.aborted) throw opts.signal.reason;
    if (timedOut) throw timeoutError(where, timedOut, opts.timeouts);
    if (err instanceof HttpError) throw err;
    throw networkError(where, err, afterHeaders);
  };

  try {
    let res: Response;
    try {
      res = await globalThis.fetch(url, {
        method,
        headers: requestHeaders(opts),
        body: requestBody(opts.body),
        signal: controller.signal,
        redirect: opts.redirect ?? 'manual',
      });
    } catch (err) {
      return fail(err, false);
    }
    clearTimeout(phaseTimer);
    phaseTimer = setTimeout(expire('idle'), opts.timeouts.idleMs);
    const onChunk = () => {
      clearTimeout(phaseTimer);
      phaseTimer = setTimeout(expire('idle'), opts.timeouts.idleMs);
    };
    let body: Buffer;
    try {
      body = await readBody(res, where, method, opts.maxBytes ?? DEFAULT_MAX_BYTES, onChunk);
    } catch (err) {
      return fail(err, true);
    }
    const response = toResponse(res, body);
    if (!opts.acceptErrorStatus && (res.status < 200 || res.status >= 300)) {
      throw httpErrorFromResponse(method, url, response);
    }
    return response;
  } finally {
    clearTimeout(phaseTimer);
    clearTimeout(totalTimer);
    opts.signal?.removeEventListener('abort', onAbort);
  }
}

function requestHeaders(opts: HttpRequestOptions): Record<string, string> {
  const headers: Record<string, string> = { accept: 'application/json', ...opts.headers };
  if (isJsonBody(opts.body) && !Object.keys(headers).some((k) => k.toLowerCase() === 'content-type')) {
    headers['content-type'] = 'application/json';
  }
  return headers;
}

function isJsonBody(body: unknown): boolean {
  return body !== undefined && typeof body !== 'string' && !Buffer.isBuffer(body) && !(body instanceof Uint8Array);
}

function requestBody(body: unknown): string | Uint8Array | undefined {
  if (body === undefined) return undefined;
  if (typeof body === 'string' || body instanceof Uint8Array) return body;
  return JSON.stringify(body);
}

async function readBody(
  res: Response,
  where: string,
  method: string,
  maxBytes: number,
  onChunk: () => void,
): Promise<Buffer> {
  const declared = declaredLength(res.headers);
  if (declared !== undefined && declared > maxBytes) throw tooLarge(where, maxBytes, declared);
  if (!res.body) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  let received = 0;
  const reader = res.body.getReader();
  let finished = false;
  try {
    for (;;) {
      const step = await reader.read().catch((err: unknown) => {
        // The connection broke mid-body: with a declared length this is a truncation we can name.
        if (declared !== undefined && received < declared) throw truncated(where, method, received, declared, err);
        throw err;
      });
      if (step.done) {
        finished = true;
        break;
      }
      received += step.value.byteLength;
      if (received > maxBytes) throw tooLarge(where, maxBytes);
      chunks.push(Buffer.from(step.value.buffer, step.value.byteOffset, step.value.byteLength));
      onChunk();
    }
  } finally {
    // Stop a body we gave up on (too large), so the connection is not left half-read.
    if (!finished) void reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
  if (declared !== undefined && received !== declared) throw truncated(where, method, received, declared);
  return Buffer.concat(chunks, received);
}

/** Content-Length, when it describes the bytes we will read (fetch decodes gzip/br itself). */
function declaredLength(headers: Headers): number | undefined {
  const encoding = headers.get('content-encoding');
  if (encoding && encoding.toLowerCase() !== 'identity') return undefined;
  const raw = headers.get('content-length');
  if (raw === null || !/^\d+$/.test(raw.trim())) return undefined;
  return Number(raw);
}

function toResponse(res: Response, body: Buffer): HttpResponse {
  let parsed: { value: unknown } | undefined;
  return {
    status: res.status,
    headers: res.headers,
    body,
    json() {
      parsed ??= { value: parseJson(body) };
      return parsed.value;
    },
  };
}

function parseJson(body: Buffer): unknown {
  if (body.length === 0) return undefined;
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}
