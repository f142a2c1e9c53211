import nock from 'nock';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpError } from '../src/errors.js';
import { downloadResult } from '../src/http/index.js';

const DELIVERY = 'https://delivery-eu.bfl.ai';
const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');

afterEach(() => nock.cleanAll());

async function failure(p: Promise<unknown>): Promise<HttpError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(HttpError);
  return err as HttpError;
}

describe('downloadResult', () => {
  it('returns the bytes and sends no credentials', async () => {
    let headers: Record<string, unknown> = {};
    nock(DELIVERY)
      .get('/results/abc/sample.png')
      .query(true)
      .reply(function () {
        headers = this.req.headers;
        return [200, PNG, { 'content-type': 'image/png', 'content-length': String(PNG.length) }];
      });
    const bytes = await downloadResult(`${DELIVERY}/results/abc/sample.png?se=2026&sig=xyz`);
    expect(bytes.equals(PNG)).toBe(true);
    expect(headers).not.toHaveProperty('authorization');
    expect(headers).not.toHaveProperty('x-key');
  });

  it('detects a body shorter than Content-Length', async () => {
    nock(DELIVERY).get('/s.png').reply(200, PNG.subarray(0, 5), { 'content-length': '16' });
    const err = await failure(downloadResult(`${DELIVERY}/s.png`));
    expect(err).toMatchObject({ failure: 'not-sent', code: 'truncated' });
    expect(err.message).toContain('truncated download: got 5 of 16 bytes');
  });

  it.each([403, 404, 410])('HTTP %i on a signed URL → expired, regenerate', async (status) => {
    nock(DELIVERY).get('/s.png').query(true).reply(status, '<Error>AuthenticationFailed</Error>');
    const err = await failure(downloadResult(`${DELIVERY}/s.png?sig=secret-signature`));
    expect(err).toMatchObject({ expired: true, code: 'result-expired', status, failure: 'fatal' });
    expect(err.message).not.toContain('secret-signature');
  });

  it('5xx is an ordinary retryable error, not an expiry', async () => {
    nock(DELIVERY).get('/s.png').reply(503, 'busy');
    const err = await failure(downloadResult(`${DELIVERY}/s.png`));
    expect(err.failure).toBe('not-sent');
    expect(err.expired).toBeUndefined();
  });

  it('caps the size', async () => {
    nock(DELIVERY).get('/s.png').reply(200, Buffer.alloc(2048), { 'content-length': '2048' });
    const err = await failure(downloadResult(`${DELIVERY}/s.png`, { maxBytes: 1024 }));
    expect(err.code).toBe('too-large');
  });

  it('decodes data: URLs locally', async () => {
    const bytes = await downloadResult(`data:image/png;base64,${PNG.toString('base64')}`);
    expect(bytes.equals(PNG)).toBe(true);
  });

  it('refuses other schemes', async () => {
    const err = await failure(downloadResult('file:///etc/passwd'));
    expect(err.code).toBe('bad-url');
  });
});
