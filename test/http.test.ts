import nock from 'nock';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpError } from '../src/errors.js';
import {
  backoffDelay,
  classifyNetworkError,
  classifyStatus,
  describeErrorBody,
  httpRequest,
  parseRetryAfter,
  retryAfterFromBody,
  retryDelay,
} from '../src/http/index.js';
import { clearSecrets, registerSecret } from '../src/providers/redact.js';

const API = 'https://api.example.test';
const timeouts = { headersMs: 2000, idleMs: 2000 };
const KEY = 'sk-SPOTME-0123456789abcdef';

afterEach(() => {
  nock.cleanAll();
  clearSecrets();
});

async function failure(p: Promise<unknown>): Promise<HttpError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(HttpError);
  return err as HttpError;
}

describe('classifyStatus', () => {
  it.each([
    [429, 'not-sent'],
    [500, 'not-sent'],
    [503, 'not-sent'],
    [524, 'not-sent'],
    [502, 'ambiguous'],
    [504, 'ambiguous'],
    [400, 'fatal'],
    [401, 'fatal'],
    [402, 'fatal'],
    [403, 'fatal'],
    [404, 'fatal'],
    [422, 'fatal'],
    [301, 'fatal'],
  ] as const)('%i → %s', (status, cls) => {
    expect(classifyStatus(status, undefined)).toBe(cls);
  });

  it('a CometAPI 500 with error.code invalid_request is fatal', () => {
    const body = { error: { message: 'bad field', type: 'comet_api_error', code: 'invalid_request' } };
    expect(classifyStatus(500, body)).toBe('fatal');
    expect(classifyStatus(500, { error: { message: 'boom', code: '' } })).toBe('not-sent');
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  it('reads delta-seconds', () => {
    expect(parseRetryAfter('5', now)).toBe(5000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
    expect(parseRetryAfter('1.5', now)).toBe(1500);
  });
  it('reads an HTTP date relative to now, never negative', () => {
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:07 GMT', now)).toBe(7000);
    expect(parseRetryAfter('Wed, 31 Dec 2025 23:00:00 GMT', now)).toBe(0);
  });
  it('ignores garbage', () => {
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
    expect(parseRetryAfter('', now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
  });
  it('falls back to a body retry_after or Replicate prose', () => {
    expect(retryAfterFromBody({ retry_after: 5 })).toBe(5000);
    expect(retryAfterFromBody({ error: { retry_after: '2' } })).toBe(2000);
    expect(retryAfterFromBody({ detail: 'Request was throttled. Expected available in 1 second.' })).toBe(1000);
    expect(retryAfterFromBody({ detail: 'Request was throttled. Your rate limit resets in ~30s.' })).toBe(30000);
    expect(retryAfterFromBody({ detail: 'nope' })).toBeUndefined();
  });
});

describe('describeErrorBody', () => {
  it('reads FastAPI detail strings and validation lists', () => {
    expect(describeErrorBody({ detail: 'Not authenticated' })).toBe('Not authenticated');
    const list = { detail: [{ loc: ['body', 'width'], msg: 'must be a multiple of 32', type: 'x' }] };
    expect(describeErrorBody(list)).toBe('width: must be a multiple of 32');
  });
  it('reads the CometAPI envelope and {error, message}', () => {
    expect(describeErrorBody({ error: { message: 'invalid model', code: 'invalid_request' } })).toBe(
      'invalid model [invalid_request]',
    );
    expect(describeErrorBody({ error: 'rate_limit_exceeded', message: 'Too many concurrent requests' })).toBe(
      'Too many concurrent requests',
    );
  });
  it('names HTML pages instead of dumping them', () => {
    expect(describeErrorBody(undefined, '<!DOCTYPE html><html>…')).toMatch(/HTML page/);
  });
});

describe('backoffDelay', () => {
  it('is full jitter under an exponential ceiling with a cap', () => {
    const opts = { baseMs: 500, capMs: 10_000 };
    expect(backoffDelay(0, opts, () => 0.999)).toBe(499);
    expect(backoffDelay(3, opts, () => 0.5)).toBe(2000);
    expect(backoffDelay(20, opts, () => 0.5)).toBe(5000);
    expect(backoffDelay(2000, opts, () => 0.999)).toBe(9990);
    expect(backoffDelay(3, opts, () => 0)).toBe(0);
  });
  it('honours Retry-After over backoff', () => {
    expect(retryDelay(0, 7000, { baseMs: 500, capMs: 1000 })).toBe(7000);
  });
});

describe('classifyNetworkError', () => {
  it('splits not-sent from ambiguous', () => {
    for (const code of ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT', 'ERR_TLS_CERT_ALTNAME_INVALID']) {
      expect(classifyNetworkError(code)).toBe('not-sent');
    }
    for (const code of ['ECONNRESET', 'UND_ERR_SOCKET', 'EPIPE', undefined]) {
      expect(classifyNetworkError(code)).toBe('ambiguous');
    }
  });
});

describe('httpRequest', () => {
  it('sends an object body as JSON and returns status, headers, body, json()', async () => {
    let seen: { headers: Record<string, unknown>; body: unknown } | undefined;
    nock(API)
      .post('/v1/thing', { prompt: 'a cat' })
      .reply(function (_uri, body) {
        seen = { headers: this.req.headers, body };
        return [200, { id: 'abc' }, { 'x-extra': 'yes' }];
      });
    const res = await httpRequest(`${API}/v1/thing`, { method: 'POST', body: { prompt: 'a cat' }, timeouts });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-extra')).toBe('yes');
    expect(res.json()).toEqual({ id: 'abc' });
    expect(res.body.toString()).toBe('{"id":"abc"}');
    expect(seen?.headers['content-type']).toBe('application/json');
  });

  it('429 → not-sent with Retry-After seconds', async () => {
    nock(API).post('/s').reply(429, { detail: 'slow down' }, { 'retry-after': '3' });
    const err = await failure(httpRequest(`${API}/s`, { method: 'POST', body: {}, timeouts }));
    expect(err).toMatchObject({ failure: 'not-sent', status: 429, retryAfterMs: 3000, code: 'rate-limited' });
    expect(err.message).toContain('slow down');
  });

  it('429 → Retry-After as an HTTP date', async () => {
    const at = new Date(Date.now() + 10_000).toUTCString();
    nock(API).post('/s').reply(429, '', { 'retry-after': at });
    const err = await failure(httpRequest(`${API}/s`, { method: 'POST', body: {}, timeouts }));
    expect(err.retryAfterMs).toBeGreaterThan(7000);
    expect(err.retryAfterMs).toBeLessThanOrEqual(10_000);
  });

  it('429 without the header uses the body retry_after', async () => {
    nock(API).post('/s').reply(429, { error: 'rate_limit_exceeded', message: 'Too many', retry_after: 5 });
    const err = await failure(httpRequest(`${API}/s`, { method: 'POST', body: {}, timeouts }));
    expect(err.retryAfterMs).toBe(5000);
  });

  it('402 → fatal, out of credits', async () => {
    nock(API).post('/s').reply(402, { detail: 'Insufficient credits' });
    const err = await failure(httpRequest(`${API}/s`, { method: 'POST', body: {}, timeouts }));
    expect(err).toMatchObject({ failure: 'fatal', status: 402, code: 'out-of-credits' });
    expect(err.message).toMatch(/out of credits/);
  });

  it('422 → fatal with the FastAPI validation message', async () => {
    nock(API)
      .post('/s')
      .reply(422, { detail: [{ loc: ['body', 'width'], msg: 'Input should be a multiple of 32', type: 'x' }] });
    const err = await failure(httpRequest(`${API}/s`, { method: 'POST', body: {}, timeouts }));
    expect(err).toMatchObject({ failure: 'fatal', status: 422 });
    expect(err.message).toBe('POST https://api.example.test/s: HTTP 422: width: Input should be a multiple of 32');
  });

  it.each([
    [500, 'not-sent'],
    [503, 'not-sent'],
    [524, 'not-sent'],
    [502, 'ambiguous'],
    [504, 'ambiguous'],
    [400, 'fatal'],
    [401, 'fatal'],
    [403, 'fatal'],
    [404, 'fatal'],
  ] as const)('HTTP %i → %s', async (status, cls) => {
    nock(API).post('/s').reply(status, { error: { message: 'nope', code: '' } });
    const err = await failure(httpRequest(`${API}/s`, { method: 'POST', body: {}, timeouts }));
    expect(err.failure).toBe(cls);
    expect(err.status).toBe(status);
  });

  it('CometAPI 500 invalid_request → fatal', async () => {
    nock(API)
      .post('/s')
      .reply(500, { error: { message: 'prompt is required (request id: 1)', type: 'comet_api_error', code: 'invalid_request' } });
    const err = await failure(httpRequest(`${API}/s`, { method: 'POST', body: {}, timeouts }));
    expect(err.failure).toBe('fatal');
    expect(err.message).toContain('prompt is required');
  });

  it('connection refused → not-sent; reset → ambiguous', async () => {
    nock(API).post('/s').replyWithError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
    const refused = await failure(httpRequest(`${API}/s`, { method: 'POST', body: {}, timeouts }));
    expect(refused.failure).toBe('not-sent');
    expect(refused.message).toContain('ECONNREFUSED');
    nock(API).post('/s').replyWithError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
    const reset = await failure(httpRequest(`${API}/s`, { method: 'POST', body: {}, timeouts }));
    expect(reset.failure).toBe('ambiguous');
  });

  it('does not follow redirects with credentials; reports them as fatal', async () => {
    nock(API).get('/old').reply(301, '', { location: 'https://elsewhere.example.test/new' });
    const err = await failure(httpRequest(`${API}/old`, { headers: { authorization: `Bearer ${KEY}` }, timeouts }));
    expect(err).toMatchObject({ failure: 'fatal', status: 301, code: 'redirect' });
    expect(err.message).toContain('elsewhere.example.test');
  });

  it('caps the body size', async () => {
    nock(API).get('/big').reply(200, Buffer.alloc(5000));
    const err = await failure(httpRequest(`${API}/big`, { timeouts, maxBytes: 1000 }));
    expect(err).toMatchObject({ failure: 'fatal', code: 'too-large' });
  });

  it('acceptErrorStatus returns the response instead of throwing', async () => {
    nock(API).get('/r').reply(503, { status: 'Error' });
    const res = await httpRequest(`${API}/r`, { timeouts, acceptErrorStatus: true });
    expect(res.status).toBe(503);
    expect(res.json()).toEqual({ status: 'Error' });
  });

  it('never puts the API key in an error message or body', async () => {
    registerSecret(KEY);
    nock(API)
      .post('/s')
      .reply(401, { detail: `Invalid key ${KEY}; header was Authorization: Bearer ${KEY}`, echo: { key: KEY } });
    const err = await failure(
      httpRequest(`${API}/s`, { method: 'POST', headers: { authorization: `Bearer ${KEY}` }, body: {}, timeouts }),
    );
    expect(err.message).not.toContain(KEY);
    expect(err.message).toContain('[REDACTED]');
    expect(JSON.stringify(err.body)).not.toContain(KEY);
    expect(String(err.stack)).not.toContain(KEY);
  });

  it('rethrows the caller abort reason, not an HttpError', async () => {
    nock(API).get('/slow').delay(500).reply(200, {});
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('cancelled by user')), 20);
    await expect(httpRequest(`${API}/slow`, { timeouts, signal: controller.signal })).rejects.toThrow('cancelled by user');
  });
});
