// HTTP over node:http/node:https with keep-alive agents and the timeouts a batch runner needs: a
// connect timeout, a headers timeout, an idle-body timeout reset on every chunk, an optional total
// deadline, and a body size cap. (Global fetch costs several times the CPU and garbage per request.)
// Every failure becomes an HttpError with its safety class (see errors.ts); messages are redacted
// and never carry request headers.
import http, { type ClientRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import https from 'node:https';
import zlib from 'node:zlib';
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
   * Establishing a new connection (default 10 s). Reported as `UND_ERR_CONNECT_TIMEOUT`, class
   * not-sent (the code fetch used). Reused keep-alive connections skip it.
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

/** Response headers, read like fetch's `Headers` (names are case-insensitive). */
export interface ResponseHeaders {
  get(name: string): string | null;
}

export interface HttpResponse {
  status: number;
  headers: ResponseHeaders;
  body: Buffer;
  /** The body parsed as JSON; undefined when it is empty or not JSON. */
  json(): unknown;
}

export const DEFAULT_MAX_BYTES = 32 * 1024 * 1024;

/** Defaults for API calls (submit, poll). A submit can take a while to be accepted under load. */
export const DEFAULT_API_TIMEOUTS: HttpTimeouts = { headersMs: 60_000, idleMs: 30_000, totalMs: 120_000 };

/** Perform one HTTP exchange. Throws HttpError on failure, or the signal's reason when aborted. */
export function httpRequest(url: string, opts: HttpRequestOptions): Promise<HttpResponse> {
  // node:http with keep-alive agents rather than global fetch: several times cheaper in CPU and
  // garbage per request, which is most of a large run's memory (bench/run.js measures it).
  return nodeRequest(url, opts);
}

/** The exchange over node:http/node:https. */
async function nodeRequest(url: string, opts: HttpRequestOptions): Promise<HttpResponse> {
  let method = (opts.method ?? 'GET').toUpperCase();
  const where = `${method} ${describeUrl(url)}`;
  const signal = opts.signal;
  signal?.throwIfAborted();
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  const st: Exchange = { req: undefined, reject: undefined, timedOut: undefined };
  const stop = (err: Error) => {
    const reject = st.reject;
    st.reject = undefined;
    reject?.(err);
    st.req?.destroy();
  };
  const expire = (kind: TimeoutKind) => () => {
    st.timedOut ??= kind;
    stop(new Error(`${kind} timeout`));
  };
  const onAbort = () => stop(new Error('aborted'));
  signal?.addEventListener('abort', onAbort, { once: true });
  let phaseTimer = setTimeout(expire('headers'), opts.timeouts.headersMs);
  const totalTimer = opts.timeouts.totalMs ? setTimeout(expire('total'), opts.timeouts.totalMs) : undefined;

  const fail = (err: unknown, afterHeaders: boolean): never => {
    if (signal?.aborted) throw signal.reason;
    if (st.timedOut) throw timeoutError(where, st.timedOut, opts.timeouts);
    if (err instanceof HttpError) throw err;
    throw networkError(where, err, afterHeaders);
  };

  try {
    const headers = requestHeaders(opts);
    let body = requestBody(opts.body);
    let target = url;
    let res: IncomingMessage;
    for (let hops = 0; ; hops++) {
      try {
        res = await send(target, method, headers, body, opts.timeouts.connectMs ?? DEFAULT_CONNECT_MS, st);
      } catch (err) {
        return fail(err, false);
      }
      const location = res.headers.location;
      if (opts.redirect !== 'follow' || !REDIRECTS.has(res.statusCode ?? 0) || !location) break;
      // Follow like fetch: at most 20 hops, 303 (and a POST on 301/302) becomes a body-less GET.
      res.on('error', ignore);
      res.resume();
      try {
        if (hops >= 20) throw new Error('redirect count exceeded');
        const next = new URL(location, target);
        if (next.protocol !== 'http:' && next.protocol !== 'https:') throw new Error(`redirect to unsupported scheme ${next.protocol}`);
        target = next.href;
      } catch (err) {
        return fail(err, false);
      }
      const status = res.statusCode ?? 0;
      if (status === 303 ? method !== 'GET' && method !== 'HEAD' : (status === 301 || status === 302) && method === 'POST') {
        method = 'GET';
        body = undefined;
        for (const k of Object.keys(headers)) if (k.toLowerCase().startsWith('content-')) delete headers[k];
      }
    }
    clearTimeout(phaseTimer);
    phaseTimer = setTimeout(expire('idle'), opts.timeouts.idleMs);
    let raw: Buffer;
    try {
      raw = await readBody(res, where, method, maxBytes, phaseTimer, st);
    } catch (err) {
      return fail(err, true);
    }
    const response = toResponse(res.statusCode ?? 0, new NodeHeaders(res.headers), raw);
    if (!opts.acceptErrorStatus && (response.status < 200 || response.status >= 300)) {
      throw httpErrorFromResponse(method, url, response);
    }
    return response;
  } finally {
    clearTimeout(phaseTimer);
    clearTimeout(totalTimer);
    signal?.removeEventListener('abort', onAbort);
  }
}

const DEFAULT_CONNECT_MS = 10_000;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const AGENT_OPTIONS = { keepAlive: true, maxSockets: 64 };
const httpAgent = new http.Agent(AGENT_OPTIONS);
const httpsAgent = new https.Agent(AGENT_OPTIONS);
const ignore = () => undefined;

/** The request in flight and how to fail the phase (connect/headers, then body) waiting on it. */
interface Exchange {
  req: ClientRequest | undefined;
  reject: ((err: unknown) => void) | undefined;
  timedOut: TimeoutKind | undefined;
}

/** Send the request; resolves with the response once its headers arrived. */
function send(
  url: string,
  method: string,
  headers: Record<string, string>,
  body: string | Uint8Array | undefined,
  connectMs: number,
  st: Exchange,
): Promise<IncomingMessage> {
  return new Promise<IncomingMessage>((resolve, reject) => {
    st.reject = reject;
    const secure = url.startsWith('https:');
    let req: ClientRequest;
    try {
      req = (secure ? https : http).request(url, { method, headers, agent: secure ? httpsAgent : httpAgent });
    } catch (err) {
      reject(err);
      return;
    }
    st.req = req;
    // Errors go to whichever phase is waiting (a later one replaces `st.reject`); none is unhandled.
    req.on('error', (err) => {
      const fail = st.reject;
      st.reject = undefined;
      fail?.(err);
    });
    req.on('response', (res) => {
      if (st.reject === reject) st.reject = undefined;
      resolve(res);
    });
    req.on('socket', (socket) => {
      if (!socket.connecting) return;
      const timer = setTimeout(() => {
        const err = Object.assign(new Error(`connect timeout after ${connectMs} ms`), { code: 'UND_ERR_CONNECT_TIMEOUT' });
        req.destroy(err);
      }, connectMs);
      const done = () => clearTimeout(timer);
      socket.once(secure ? 'secureConnect' : 'connect', done);
      socket.once('close', done);
      req.once('response', done);
      req.once('close', done);
    });
    if (body !== undefined) req.setHeader('content-length', Buffer.byteLength(body));
    req.end(body);
  });
}

function readBody(
  res: IncomingMessage,
  where: string,
  method: string,
  maxBytes: number,
  idleTimer: NodeJS.Timeout,
  st: Exchange,
): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const encoding = contentEncoding(res.headers);
    // Content-Length describes the bytes we read, except after a content coding and where no body follows.
    const bodiless = method === 'HEAD' || res.statusCode === 204 || res.statusCode === 304;
    const declared = encoding === undefined && !bodiless ? declaredLength(res.headers) : undefined;
    let received = 0;
    const chunks: Buffer[] = [];
    let settled = false;
    const finish = (err: unknown, value?: Buffer) => {
      if (settled) return;
      settled = true;
      st.reject = undefined;
      if (err !== undefined) {
        // Stop a body we gave up on (too large, timed out), so the connection is not reused half-read.
        if (!res.complete) st.req?.destroy();
        reject(err);
      } else resolve(value as Buffer);
    };
    // The connection broke mid-body: with a declared length this is a truncation we can name.
    const broken = (err: unknown) =>
      finish(declared !== undefined && received < declared ? truncated(where, method, received, declared, err) : err);
    st.reject = broken;
    if (declared !== undefined && declared > maxBytes) {
      finish(tooLarge(where, maxBytes, declared));
      return;
    }
    res.on('data', (chunk: Buffer) => {
      if (settled) return;
      received += chunk.length;
      if (received > maxBytes) {
        finish(tooLarge(where, maxBytes));
        return;
      }
      chunks.push(chunk);
      idleTimer.refresh();
    });
    res.on('end', () => {
      if (declared !== undefined && received !== declared) {
        finish(truncated(where, method, received, declared));
        return;
      }
      const raw = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, received);
      if (encoding === undefined) {
        finish(undefined, raw);
        return;
      }
      try {
        finish(undefined, decode(raw, encoding, maxBytes, where));
      } catch (err) {
        finish(err);
      }
    });
    res.on('error', broken);
    res.on('close', () => {
      if (!res.complete) broken(Object.assign(new Error('aborted'), { code: 'ECONNRESET' }));
    });
  });
}

/** A content coding other than identity, lowercased; undefined when the body is as sent. */
function contentEncoding(headers: IncomingHttpHeaders): string | undefined {
  const encoding = headers['content-encoding']?.trim().toLowerCase();
  return encoding && encoding !== 'identity' ? encoding : undefined;
}

/** Decode gzip/deflate/br like fetch did (the size cap applies to the decoded bytes). */
function decode(raw: Buffer, encoding: string, maxBytes: number, where: string): Buffer {
  const options = { maxOutputLength: maxBytes };
  try {
    if (encoding === 'gzip' || encoding === 'x-gzip') return zlib.gunzipSync(raw, { ...options, finishFlush: zlib.constants.Z_SYNC_FLUSH });
    if (encoding === 'deflate') return raw[0] !== undefined && (raw[0] & 0x0f) === 0x08 ? zlib.inflateSync(raw, options) : zlib.inflateRawSync(raw, options);
    if (encoding === 'br') return zlib.brotliDecompressSync(raw, options);
  } catch (err) {
    if ((err as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge(where, maxBytes);
    throw err;
  }
  // An unknown coding: fetch passed such bodies through untouched.
  return raw;
}

/** Response headers over node's lowercased header object. */
class NodeHeaders implements ResponseHeaders {
  constructor(private readonly raw: IncomingHttpHeaders) {}

  get(name: string): string | null {
    const value = this.raw[name.toLowerCase()];
    if (value === undefined) return null;
    return Array.isArray(value) ? value.join(', ') : value;
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

/** Content-Length, when it describes the bytes we will read. */
function declaredLength(headers: IncomingHttpHeaders): number | undefined {
  const raw = headers['content-length'];
  if (raw === undefined || !/^\d+$/.test(raw.trim())) return undefined;
  return Number(raw);
}

function toResponse(status: number, headers: ResponseHeaders, body: Buffer): HttpResponse {
  let parsed: { value: unknown } | undefined;
  return {
    status,
    headers,
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
