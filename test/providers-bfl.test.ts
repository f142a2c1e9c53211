// BFL direct and CometAPI's BFL-native route: same request/result format, different hosts and auth.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nock from 'nock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HttpError } from '../src/errors.js';
import { createBflProvider, isTrustedBflUrl, parseBflResult } from '../src/providers/bfl.js';
import { createCometApiProvider } from '../src/providers/cometapi.js';
import { clearSecrets, registerSecret } from '../src/providers/redact.js';
import type { Job } from '../src/types.js';

const KEY = 'sk-SPOTME-bfl-0123456789';
const BFL = 'https://api.bfl.ai';
const COMET = 'https://api.cometapi.com';
const ctx = {};

function job(over: Partial<Job> = {}): Job {
  return {
    name: 'hero',
    id: 'hero:knight/idle-1',
    key: 'k',
    model: 'flux-dev',
    request: { prompt: 'a knight', width: 512, height: 512, seed: 1 },
    vars: {},
    path: 'knight/idle-1',
    post: [],
    outputs: [],
    index: 0,
    source: { file: 'm.yaml' },
    ...over,
  };
}

async function failure(p: Promise<unknown>): Promise<HttpError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(HttpError);
  return err as HttpError;
}

beforeEach(() => registerSecret(KEY));
afterEach(() => {
  nock.cleanAll();
  clearSecrets();
});

describe('parseBflResult (shared by bfl and cometapi)', () => {
  it.each([
    [{ id: 't', status: 'Ready', result: { sample: 'https://d/x.png', seed: 42 } }, { state: 'ready', urls: ['https://d/x.png'], seed: 42 }],
    [{ id: 't', status: 'Pending', progress: 0.4 }, { state: 'pending', status: 'Pending', progress: 0.4 }],
    [{ id: 't', status: 'Generating' }, { state: 'pending', status: 'Generating' }],
    [{ id: 't', status: 'Reasoning' }, { state: 'pending' }],
    [{ id: 't', status: 'Queued' }, { state: 'pending' }],
    [{ id: 't', status: 'Request Moderated', details: { 'Moderation Reasons': ['Derivative Works'] } }, { state: 'failed', kind: 'moderated', reason: 'Request Moderated: Derivative Works' }],
    [{ id: 't', status: 'Content Moderated', details: null }, { state: 'failed', kind: 'moderated', reason: 'Content Moderated' }],
    [{ id: 't', status: 'Error' }, { state: 'failed', kind: 'error', reason: 'Error' }],
    [{ id: 't', status: 'Failed', details: { message: 'GPU fell over' } }, { state: 'failed', kind: 'error', reason: 'Failed: GPU fell over' }],
    [{ id: 't', status: 'Task not found' }, { state: 'failed', kind: 'not-found' }],
  ])('%j', (body, expected) => {
    expect(parseBflResult(body)).toMatchObject(expected);
  });

  it('undefined without a status', () => {
    expect(parseBflResult({ detail: 'Not Found' })).toBeUndefined();
  });
});

describe('BFL provider', () => {
  const bfl = () => createBflProvider({ apiKey: KEY });

  it('submits with x-key and keeps the exact regional polling_url and cost', async () => {
    const polling = 'https://api.eu2.bfl.ai/v1/get_result?id=38b4e501';
    nock(BFL, { reqheaders: { 'x-key': KEY } })
      .post('/v1/flux-dev', { prompt: 'a knight', width: 512, height: 512, seed: 1 })
      .reply(200, { id: '38b4e501', polling_url: polling, cost: 3.0, input_mp: 0, output_mp: 1 });
    const task = await bfl().submit(job(), ctx);
    expect(task).toEqual({ provider: 'bfl', id: '38b4e501', pollingUrl: polling, cost: 3 });
  });

  it('polls exactly the returned polling_url with x-key', async () => {
    const scope = nock('https://api.eu2.bfl.ai', { reqheaders: { 'x-key': KEY } })
      .get('/v1/get_result')
      .query({ id: '38b4e501' })
      .reply(200, { id: '38b4e501', status: 'Ready', result: { sample: 'https://delivery-eu.bfl.ai/x.jpeg?sig=1', seed: 7 } });
    const state = await bfl().poll({ provider: 'bfl', id: '38b4e501', pollingUrl: 'https://api.eu2.bfl.ai/v1/get_result?id=38b4e501' }, ctx);
    expect(state).toEqual({ state: 'ready', status: 'Ready', urls: ['https://delivery-eu.bfl.ai/x.jpeg?sig=1'], seed: 7 });
    expect(scope.isDone()).toBe(true);
  });

  it('falls back to get_result on the configured host for the webhook variant', async () => {
    nock(BFL).post('/v1/flux-dev').reply(200, { id: 'w1', status: 'Pending', webhook_url: 'https://hook.example/x' });
    const task = await bfl().submit(job({ request: { prompt: 'x', webhook_url: 'https://hook.example/x' } }), ctx);
    expect(task.pollingUrl).toBe('https://api.bfl.ai/v1/get_result?id=w1');
  });

  it('refuses to send the key to a non-BFL polling host', async () => {
    const err = await failure(bfl().poll({ provider: 'bfl', id: 'x', pollingUrl: 'https://evil.example.com/v1/get_result?id=x' }, ctx));
    expect(err).toMatchObject({ failure: 'fatal', code: 'untrusted-host' });
    expect(err.message).toMatch(/refusing to send the BFL API key to https:\/\/evil\.example\.com/);
    expect(err.message).not.toContain(KEY);
  });

  it('host allow-list', () => {
    expect(isTrustedBflUrl('https://api.us1.bfl.ai/v1/get_result?id=1', BFL)).toBe(true);
    expect(isTrustedBflUrl('https://api.bfl.ml/v1/get_result?id=1', BFL)).toBe(true);
    expect(isTrustedBflUrl('http://api.eu2.bfl.ai/v1/get_result?id=1', BFL)).toBe(false);
    expect(isTrustedBflUrl('https://bfl.ai.evil.com/x', BFL)).toBe(false);
    expect(isTrustedBflUrl('https://evilbfl.ai/x', BFL)).toBe(false);
    expect(isTrustedBflUrl('http://127.0.0.1:9999/v1/get_result?id=1', 'http://127.0.0.1:4010')).toBe(true);
    expect(isTrustedBflUrl('http://localhost:4010/x', 'http://127.0.0.1:4010')).toBe(false);
  });

  it('reads terminal states from a 503 body', async () => {
    nock('https://api.eu2.bfl.ai').get('/v1/get_result').query(true).reply(503, { id: 'x', status: 'Error' });
    const state = await bfl().poll({ provider: 'bfl', id: 'x', pollingUrl: 'https://api.eu2.bfl.ai/v1/get_result?id=x' }, ctx);
    expect(state).toMatchObject({ state: 'failed', kind: 'error' });
  });

  it('a poll error without a status body is an HttpError', async () => {
    nock('https://api.eu2.bfl.ai').get('/v1/get_result').query(true).reply(502, 'Bad Gateway');
    const err = await failure(bfl().poll({ provider: 'bfl', id: 'x', pollingUrl: 'https://api.eu2.bfl.ai/v1/get_result?id=x' }, ctx));
    expect(err).toMatchObject({ failure: 'ambiguous', status: 502 });
  });

  it('submit errors: 402 out of credits, 422 validation, 429 Retry-After', async () => {
    nock(BFL).post('/v1/flux-dev').reply(402, { detail: 'Insufficient credits' });
    expect(await failure(bfl().submit(job(), ctx))).toMatchObject({ failure: 'fatal', code: 'out-of-credits' });
    nock(BFL)
      .post('/v1/flux-dev')
      .reply(422, { detail: [{ loc: ['body', 'width'], msg: 'Input should be a multiple of 32', type: 'multiple_of' }] });
    const invalid = await failure(bfl().submit(job(), ctx));
    expect(invalid.message).toContain('width: Input should be a multiple of 32');
    nock(BFL).post('/v1/flux-dev').reply(429, { detail: 'Too many active tasks' }, { 'retry-after': '4' });
    expect(await failure(bfl().submit(job(), ctx))).toMatchObject({ failure: 'not-sent', retryAfterMs: 4000 });
  });

  it('downloads without the key', async () => {
    let headers: Record<string, unknown> = {};
    nock('https://delivery-eu.bfl.ai')
      .get('/x.jpeg')
      .query(true)
      .reply(function () {
        headers = this.req.headers;
        return [200, Buffer.from('jpegbytes')];
      });
    const bytes = await bfl().download('https://delivery-eu.bfl.ai/x.jpeg?sig=1', ctx);
    expect(bytes.toString()).toBe('jpegbytes');
    expect(headers).not.toHaveProperty('x-key');
    expect(headers).not.toHaveProperty('authorization');
    expect(JSON.stringify(headers)).not.toContain(KEY);
  });

  it('base64-encodes local image inputs', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'flux-batch-bfl-'));
    try {
      const file = join(dir, 'ref.png');
      const bytes = Buffer.from('89504e470d0a1a0a0102', 'hex');
      await writeFile(file, bytes);
      let sent: Record<string, unknown> = {};
      nock(BFL)
        .post('/v1/flux-kontext-pro')
        .reply(200, (_uri, body) => {
          sent = body as Record<string, unknown>;
          return { id: 'k1', polling_url: 'https://api.us1.bfl.ai/v1/get_result?id=k1' };
        });
      await bfl().submit(
        job({
          model: 'flux-kontext-pro',
          request: { prompt: 'edit', input_image: file, input_image_2: 'https://example.com/r.png' },
          inputs: { input_image: file },
        }),
        ctx,
      );
      expect(sent.input_image).toBe(bytes.toString('base64'));
      expect(sent.input_image_2).toBe('https://example.com/r.png');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('CometAPI provider (BFL route)', () => {
  const comet = () => createCometApiProvider({ apiKey: KEY });

  it('submits with Bearer and drops the returned polling_url', async () => {
    nock(COMET, { reqheaders: { authorization: `Bearer ${KEY}` } })
      .post('/flux/v1/flux-pro-1.1', { prompt: 'a knight', width: 512, height: 512, seed: 1 })
      .reply(200, { id: 'c1', polling_url: 'https://api.eu2.bfl.ai/v1/get_result?id=c1' });
    const task = await comet().submit(job({ model: 'flux-pro-1.1' }), ctx);
    expect(task).toEqual({ provider: 'cometapi', id: 'c1', pollingUrl: undefined });
  });

  it("polls CometAPI's get_result, never the BFL polling_url", async () => {
    // Any request to the BFL cluster would fail: net connect is disabled and no interceptor exists.
    const scope = nock(COMET, { reqheaders: { authorization: `Bearer ${KEY}` } })
      .get('/flux/v1/get_result')
      .query({ id: 'c1' })
      .reply(200, { id: 'c1', status: 'Pending' });
    const state = await comet().poll({ provider: 'cometapi', id: 'c1', pollingUrl: 'https://api.eu2.bfl.ai/v1/get_result?id=c1' }, ctx);
    expect(state).toEqual({ state: 'pending', status: 'Pending' });
    expect(scope.isDone()).toBe(true);
  });

  it.each([
    [200, { status: 'Ready', result: { sample: 'https://delivery-us.bfl.ai/a.png', seed: 3 } }, { state: 'ready', urls: ['https://delivery-us.bfl.ai/a.png'], seed: 3 }],
    [200, { status: 'Generating', progress: 50 }, { state: 'pending', progress: 50 }],
    [200, { status: 'Content Moderated', details: { 'Moderation Reasons': ['NSFW'] } }, { state: 'failed', kind: 'moderated', reason: 'Content Moderated: NSFW' }],
    [503, { status: 'Request Moderated' }, { state: 'failed', kind: 'moderated' }],
    [503, { status: 'Error' }, { state: 'failed', kind: 'error' }],
    [200, { status: 'Failed' }, { state: 'failed', kind: 'error' }],
    [200, { status: 'Task not found' }, { state: 'failed', kind: 'not-found' }],
  ])('HTTP %i %j', async (code, body, expected) => {
    nock(COMET).get('/flux/v1/get_result').query({ id: 'c1' }).reply(code, { id: 'c1', ...body });
    expect(await comet().poll({ provider: 'cometapi', id: 'c1' }, ctx)).toMatchObject(expected);
  });

  it('a CometAPI 500 invalid_request is fatal; a plain 500 is retryable', async () => {
    nock(COMET)
      .post('/flux/v1/flux-dev')
      .reply(500, { error: { message: 'invalid width (request id: 9)', type: 'comet_api_error', code: 'invalid_request' } });
    expect(await failure(comet().submit(job(), ctx))).toMatchObject({ failure: 'fatal' });
    nock(COMET).post('/flux/v1/flux-dev').reply(500, { error: { message: 'upstream error', code: '' } });
    expect(await failure(comet().submit(job(), ctx))).toMatchObject({ failure: 'not-sent' });
  });

  it('never leaks the key into errors, even when the server echoes it', async () => {
    nock(COMET)
      .post('/flux/v1/flux-dev')
      .reply(401, { error: { message: `invalid token ${KEY}`, code: 'invalid_api_key' } });
    const err = await failure(comet().submit(job(), ctx));
    expect(err.message).not.toContain(KEY);
    expect(JSON.stringify(err.body)).not.toContain(KEY);
  });

  it('downloads without the Authorization header', async () => {
    let headers: Record<string, unknown> = {};
    nock('https://delivery-us.bfl.ai')
      .get('/a.png')
      .reply(function () {
        headers = this.req.headers;
        return [200, 'png'];
      });
    await comet().download('https://delivery-us.bfl.ai/a.png', ctx);
    expect(headers).not.toHaveProperty('authorization');
    expect(JSON.stringify(headers)).not.toContain(KEY);
  });
});
