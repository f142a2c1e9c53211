import { mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { HttpError, UserError } from '../src/errors.js';
import { createProvider, providerFamily } from '../src/providers/index.js';
import { encodeImageInputs, mimeType } from '../src/providers/inputs.js';
import { clearSecrets, redact, redactDeep, registerSecret } from '../src/providers/redact.js';
import type { Job } from '../src/types.js';

// The mock provider is another module's concern; here we only check the factory hands over options.
vi.mock('../src/providers/mock.js', () => ({
  createMockProvider: (opts?: { taskMs?: number }) => ({ name: 'mock', family: 'mock', opts }),
}));

const KEY = 'sk-SPOTME-factory-0123456789';

function job(over: Partial<Job> = {}): Job {
  return {
    name: 'hero',
    id: 'hero:a',
    key: 'k',
    model: 'flux-dev',
    request: { prompt: 'x' },
    vars: {},
    path: 'a',
    post: [],
    outputs: [],
    index: 0,
    source: { file: 'm.yaml' },
    ...over,
  };
}

afterEach(() => {
  nock.cleanAll();
  clearSecrets();
});

describe('redact', () => {
  it('replaces registered secrets and anything after Bearer / x-key', () => {
    registerSecret(KEY);
    expect(redact(`key=${KEY} again ${KEY}`)).toBe('key=[REDACTED] again [REDACTED]');
    expect(redact('Authorization: Bearer unregistered-token-123')).toBe('Authorization: Bearer [REDACTED]');
    expect(redact('x-key: abc123def')).toBe('x-key: [REDACTED]');
    expect(redact('{"x-key":"abc123def"}')).toBe('{"x-key":"[REDACTED]"}');
    expect(redactDeep({ a: [`${KEY}`], b: 1 })).toEqual({ a: ['[REDACTED]'], b: 1 });
  });

  it('ignores empty and tiny secrets', () => {
    registerSecret('');
    registerSecret('ab');
    expect(redact('a b ab')).toBe('a b ab');
  });
});

describe('createProvider', () => {
  it('reads COMETAPI_KEY / BFL_API_KEY from the given env only', () => {
    expect(createProvider('cometapi', { env: { COMETAPI_KEY: KEY } }).name).toBe('cometapi');
    expect(createProvider('replicate', { env: { COMETAPI_KEY: KEY } }).family).toBe('replicate');
    expect(createProvider('bfl', { env: { BFL_API_KEY: KEY } }).family).toBe('bfl');
  });

  it('names the variable and the fix when the key is missing', () => {
    let err: unknown;
    try {
      createProvider('cometapi', { env: {} });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UserError);
    expect(err).toMatchObject({
      code: 'missing-key',
      message: 'provider cometapi needs an API key in the environment variable COMETAPI_KEY',
      hint: 'export COMETAPI_KEY=… (keys are never read from files)',
    });
    expect(() => createProvider('bfl', { env: { COMETAPI_KEY: KEY } })).toThrow(/BFL_API_KEY/);
  });

  it('registers the key for redaction', async () => {
    const provider = createProvider('cometapi', { env: { COMETAPI_KEY: KEY }, baseUrl: 'https://comet.example.test' });
    nock('https://comet.example.test').post('/flux/v1/flux-dev').reply(400, { detail: `bad key ${KEY}` });
    const err = await provider.submit(job(), {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HttpError);
    expect((err as HttpError).message).not.toContain(KEY);
  });

  it('creates the mock provider with its task duration', () => {
    expect(createProvider('mock', { taskMs: 5 })).toMatchObject({ name: 'mock', opts: { taskMs: 5 } });
    expect(createProvider('mock', { config: { mock: { taskMs: 7 } } })).toMatchObject({ opts: { taskMs: 7 } });
  });

  it('takes API timeouts from the run config', async () => {
    const provider = createProvider('bfl', {
      env: { BFL_API_KEY: KEY },
      baseUrl: 'https://bfl.example.test',
      config: { timeouts: { headersMs: 50, idleMs: 50 } },
    });
    nock('https://bfl.example.test').post('/v1/flux-dev').delay(300).reply(200, { id: 'x', polling_url: 'https://bfl.example.test/p' });
    const err = await provider.submit(job(), {}).catch((e: unknown) => e);
    expect(err).toMatchObject({ failure: 'ambiguous', code: 'timeout-headers' });
  });

  it('families', () => {
    expect(providerFamily('cometapi')).toBe('bfl');
    expect(providerFamily('bfl')).toBe('bfl');
    expect(providerFamily('replicate')).toBe('replicate');
    expect(providerFamily('mock')).toBe('mock');
  });
});

describe('encodeImageInputs', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'flux-batch-inputs-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('base64 for BFL, data URLs for Replicate; URLs pass through; the job is not mutated', async () => {
    const file = join(dir, 'a.jpg');
    const bytes = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]);
    await writeFile(file, bytes);
    const j = job({
      request: { prompt: 'x', image_prompt: file, input_image: 'https://example.com/a.png' },
      inputs: { image_prompt: file, input_image: 'https://example.com/a.png' },
    });
    expect(await encodeImageInputs(j, 'base64')).toEqual({
      prompt: 'x',
      image_prompt: bytes.toString('base64'),
      input_image: 'https://example.com/a.png',
    });
    expect((await encodeImageInputs(j, 'data-url')).image_prompt).toBe(`data:image/jpeg;base64,${bytes.toString('base64')}`);
    expect(j.request.image_prompt).toBe(file);
  });

  it('rejects files over 20 MB naming the job and field', async () => {
    const file = join(dir, 'huge.png');
    await writeFile(file, '');
    await truncate(file, 20 * 1024 * 1024 + 1);
    const err = await encodeImageInputs(job({ inputs: { input_image: file } }), 'base64').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).code).toBe('input-too-large');
    expect((err as UserError).message).toContain('job hero:a: input_image');
    expect((err as UserError).message).toContain('20 MB');
  });

  it('a missing file is a user error', async () => {
    const err = await encodeImageInputs(job({ inputs: { mask: join(dir, 'nope.png') } }), 'base64').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'input-missing' });
  });

  it('sniffs MIME types', () => {
    expect(mimeType(Buffer.from('RIFF\0\0\0\0WEBPVP8 '), 'x.bin')).toBe('image/webp');
    expect(mimeType(Buffer.from('hello'), 'x.png')).toBe('image/png');
    expect(mimeType(Buffer.from('hello'), 'x.bin')).toBe('application/octet-stream');
  });
});
