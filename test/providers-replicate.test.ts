import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nock from 'nock';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpError, UserError } from '../src/errors.js';
import { clearSecrets, registerSecret } from '../src/providers/redact.js';
import {
  createReplicateProvider,
  normaliseOutput,
  parseReplicatePrediction,
  replicateModelId,
} from '../src/providers/replicate.js';
import type { Job } from '../src/types.js';

const KEY = 'sk-SPOTME-replicate-0123456789';
const COMET = 'https://api.cometapi.com';
const ctx = {};

function job(over: Partial<Job> = {}): Job {
  return {
    name: 'hero',
    id: 'hero:a',
    key: 'k',
    model: 'flux-schnell',
    request: { prompt: 'a mage', seed: 5 },
    vars: {},
    path: 'a',
    post: [],
    outputs: [],
    index: 0,
    source: { file: 'm.yaml' },
    ...over,
  };
}

function prediction(over: Record<string, unknown>): Record<string, unknown> {
  return {
    id: 'q4chw5rey9',
    model: 'black-forest-labs/flux-schnell',
    version: 'hidden',
    input: { prompt: 'a mage', seed: 5 },
    logs: '',
    output: null,
    data_removed: false,
    error: null,
    status: 'starting',
    urls: { get: 'https://api.replicate.com/v1/predictions/q4chw5rey9', cancel: 'https://api.replicate.com/v1/predictions/q4chw5rey9/cancel' },
    ...over,
  };
}

afterEach(() => {
  nock.cleanAll();
  clearSecrets();
});

describe('model ids', () => {
  it.each([
    ['flux-pro-1.1', 'black-forest-labs/flux-1.1-pro'],
    ['flux-pro-1.1-ultra', 'black-forest-labs/flux-1.1-pro-ultra'],
    ['flux-dev', 'black-forest-labs/flux-dev'],
    ['flux-schnell', 'black-forest-labs/flux-schnell'],
    ['flux-pro', 'black-forest-labs/flux-pro'],
    ['flux-2-pro', 'black-forest-labs/flux-2-pro'],
    ['flux-2-flex', 'black-forest-labs/flux-2-flex'],
    ['flux-2-dev', 'black-forest-labs/flux-2-dev'],
    ['flux-kontext-pro', 'black-forest-labs/flux-kontext-pro'],
    ['flux-kontext-max', 'black-forest-labs/flux-kontext-max'],
    ['someone/custom-model', 'someone/custom-model'],
  ])('%s → %s', (ours, theirs) => {
    expect(replicateModelId(ours)).toBe(theirs);
  });

  it('unknown models are a user error', () => {
    expect(() => replicateModelId('flux-pro-1.0-fill')).toThrow(UserError);
  });
});

describe('parseReplicatePrediction', () => {
  it.each([
    [prediction({ status: 'starting' }), { state: 'pending', status: 'starting' }],
    [prediction({ status: 'processing' }), { state: 'pending', status: 'processing' }],
    [prediction({ status: 'succeeded', output: 'https://replicate.delivery/a.webp' }), { state: 'ready', urls: ['https://replicate.delivery/a.webp'], seed: 5 }],
    [prediction({ status: 'succeeded', output: ['https://replicate.delivery/a.webp', 'https://replicate.delivery/b.webp'] }), { state: 'ready', urls: ['https://replicate.delivery/a.webp', 'https://replicate.delivery/b.webp'] }],
    [prediction({ status: 'failed', error: 'CUDA out of memory' }), { state: 'failed', kind: 'error', reason: 'failed: CUDA out of memory' }],
    [prediction({ status: 'failed', error: 'NSFW content detected' }), { state: 'failed', kind: 'moderated' }],
    [prediction({ status: 'canceled' }), { state: 'failed', kind: 'error', reason: 'canceled' }],
    [prediction({ status: 'aborted' }), { state: 'failed', kind: 'error', reason: 'aborted' }],
    [prediction({ status: 'succeeded', output: null, data_removed: true }), { state: 'failed', kind: 'not-found' }],
  ])('%#', (body, expected) => {
    expect(parseReplicatePrediction(body)).toMatchObject(expected);
  });

  it('reads the seed from logs when the input has none', () => {
    const body = prediction({ status: 'succeeded', input: { prompt: 'x' }, logs: 'Using seed: 918273\nrunning', output: 'https://r/a.png' });
    expect(parseReplicatePrediction(body)).toMatchObject({ state: 'ready', seed: 918273 });
  });

  it('accepts the data.status task envelope', () => {
    const ok = { code: 'success', data: { task_id: 't1', status: 'SUCCESS', data: { id: 't1', output: ['https://r/x.png'] } } };
    expect(parseReplicatePrediction(ok)).toEqual({ state: 'ready', status: 'SUCCESS', urls: ['https://r/x.png'] });
    const bad = { data: { status: 'FAILURE', fail_reason: 'upstream said no', data: null } };
    expect(parseReplicatePrediction(bad)).toMatchObject({ state: 'failed', kind: 'error', reason: 'FAILURE: upstream said no' });
    const wait = { data: { status: 'IN_PROGRESS', data: { id: 't1', status: 'processing' } } };
    expect(parseReplicatePrediction(wait)).toMatchObject({ state: 'pending' });
  });

  it('normalises output', () => {
    expect(normaliseOutput('u')).toEqual(['u']);
    expect(normaliseOutput(['u', 'v'])).toEqual(['u', 'v']);
    expect(normaliseOutput(null)).toEqual([]);
  });
});

describe('Replicate provider', () => {
  it('creates via /models/{owner}/{name}/predictions with {input} and Bearer', async () => {
    nock(COMET, { reqheaders: { authorization: `Bearer ${KEY}` }, badheaders: ['prefer'] })
      .post('/replicate/v1/models/black-forest-labs/flux-schnell/predictions', { input: { prompt: 'a mage', seed: 5 } })
      .reply(201, prediction({ status: 'starting' }));
    const task = await createReplicateProvider({ apiKey: KEY }).submit(job(), ctx);
    expect(task).toEqual({ provider: 'replicate', id: 'q4chw5rey9', pollingUrl: undefined });
  });

  it('creates via the legacy /predictions route with {model, input} and Prefer: wait=N', async () => {
    nock(COMET, { reqheaders: { authorization: `Bearer ${KEY}`, prefer: 'wait=10' } })
      .post('/replicate/v1/predictions', { model: 'black-forest-labs/flux-kontext-max', input: { prompt: 'a mage', seed: 5 } })
      .reply(201, prediction({ status: 'succeeded', output: 'https://replicate.delivery/k.png' }));
    const provider = createReplicateProvider({ apiKey: KEY, route: 'predictions', preferWaitSeconds: 10 });
    const task = await provider.submit(job({ model: 'flux-kontext-max' }), ctx);
    // Already finished: the scheduler can skip polling.
    expect(task.state).toEqual({ state: 'ready', status: 'succeeded', urls: ['https://replicate.delivery/k.png'], seed: 5 });
  });

  it('accepts an enveloped create response', async () => {
    nock(COMET)
      .post('/replicate/v1/models/black-forest-labs/flux-schnell/predictions')
      .reply(200, { code: 'success', data: { task_id: 't9', status: 'SUBMITTED' } });
    const task = await createReplicateProvider({ apiKey: KEY }).submit(job(), ctx);
    expect(task).toEqual({ provider: 'replicate', id: 't9', pollingUrl: undefined });
  });

  it('polls CometAPI, never urls.get on api.replicate.com', async () => {
    const scope = nock(COMET, { reqheaders: { authorization: `Bearer ${KEY}` } })
      .get('/replicate/v1/predictions/q4chw5rey9')
      .reply(200, prediction({ status: 'succeeded', output: ['https://replicate.delivery/a.webp'] }));
    const state = await createReplicateProvider({ apiKey: KEY }).poll({ provider: 'replicate', id: 'q4chw5rey9' }, ctx);
    expect(state).toMatchObject({ state: 'ready', urls: ['https://replicate.delivery/a.webp'] });
    expect(scope.isDone()).toBe(true);
  });

  it('polls through the wrapper envelope', async () => {
    nock(COMET)
      .get('/replicate/v1/predictions/t1')
      .reply(200, { code: 'success', data: { status: 'SUCCESS', data: { output: 'https://r/x.png' } } });
    expect(await createReplicateProvider({ apiKey: KEY }).poll({ provider: 'replicate', id: 't1' }, ctx)).toMatchObject({
      state: 'ready',
      urls: ['https://r/x.png'],
    });
  });

  it('a 429 on create carries Retry-After from the Replicate detail', async () => {
    nock(COMET)
      .post('/replicate/v1/models/black-forest-labs/flux-schnell/predictions')
      .reply(429, { detail: 'Request was throttled. Expected available in 1 second.' });
    const err = await createReplicateProvider({ apiKey: KEY }).submit(job(), ctx).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HttpError);
    expect(err).toMatchObject({ failure: 'not-sent', retryAfterMs: 1000 });
  });

  it('sends local image inputs as data URLs and downloads without the key', async () => {
    registerSecret(KEY);
    const dir = await mkdtemp(join(tmpdir(), 'flux-batch-rep-'));
    try {
      const file = join(dir, 'ref.png');
      const bytes = Buffer.from('89504e470d0a1a0a0102', 'hex');
      await writeFile(file, bytes);
      let sent: { input?: Record<string, unknown> } = {};
      nock(COMET)
        .post('/replicate/v1/models/black-forest-labs/flux-kontext-pro/predictions')
        .reply(201, (_uri, body) => {
          sent = body as typeof sent;
          return prediction({ status: 'starting' });
        });
      const provider = createReplicateProvider({ apiKey: KEY });
      await provider.submit(job({ model: 'flux-kontext-pro', request: { prompt: 'edit', input_image: file }, inputs: { input_image: file } }), ctx);
      expect(sent.input?.input_image).toBe(`data:image/png;base64,${bytes.toString('base64')}`);

      let headers: Record<string, unknown> = {};
      nock('https://replicate.delivery')
        .get('/a.webp')
        .reply(function () {
          headers = this.req.headers;
          return [200, 'img'];
        });
      await provider.download('https://replicate.delivery/a.webp', ctx);
      expect(headers).not.toHaveProperty('authorization');
      expect(JSON.stringify(headers)).not.toContain(KEY);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
