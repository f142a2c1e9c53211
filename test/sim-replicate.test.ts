// The simulator's Replicate-format routes (CometAPI /replicate/v1).
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../src/sim/index.js';

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ latency: { fixedMs: 200 } });
});
afterAll(() => sim.close());

const H = { authorization: 'Bearer c', 'content-type': 'application/json' };
const create = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${sim.url}/replicate/v1${path}`, { method: 'POST', headers: { ...H, ...headers }, body: JSON.stringify(body) });

describe('Replicate format', () => {
  it('creates by model path (201 starting), polls to succeeded with a single URL for flux-1.1-pro', async () => {
    const res = await create('/models/black-forest-labs/flux-1.1-pro/predictions', { input: { prompt: 'a cat', seed: 5, aspect_ratio: 'custom', width: 512, height: 320, output_format: 'png' } });
    expect(res.status).toBe(201);
    const p = await res.json();
    expect(p).toMatchObject({ model: 'black-forest-labs/flux-1.1-pro', version: 'hidden', status: 'starting', output: null, error: null, input: { prompt: 'a cat' } });
    expect(p.urls.get).toBe(`${sim.url}/replicate/v1/predictions/${p.id}`);
    expect(res.headers.get('location')).toBe(p.urls.get);
    await new Promise((r) => setTimeout(r, 250));
    const done = await (await fetch(p.urls.get, { headers: H })).json();
    expect(done).toMatchObject({ status: 'succeeded', metrics: { image_count: 1 } });
    expect(typeof done.output).toBe('string');
    const meta = await sharp(Buffer.from(await (await fetch(done.output)).arrayBuffer())).metadata();
    expect([meta.width, meta.height, meta.format]).toEqual([512, 320, 'png']);
    // The same task through CometAPI's BFL-style get_result.
    const bflStyle = await (await fetch(`${sim.url}/flux/v1/get_result?id=${p.id}`, { headers: H })).json();
    expect(bflStyle).toMatchObject({ status: 'Ready', result: { seed: 5 } });
  });

  it('holds the reply with Prefer: wait and returns an array for flux-schnell', async () => {
    const res = await create('/predictions', { model: 'black-forest-labs/flux-schnell', input: { prompt: 'dog', num_outputs: 2 } }, { prefer: 'wait=5' });
    expect(res.status).toBe(201);
    const p = await res.json();
    expect(p.status).toBe('succeeded');
    expect(p.output).toHaveLength(2);
    const [a, b] = await Promise.all(p.output.map(async (u: string) => Buffer.from(await (await fetch(u)).arrayBuffer())));
    expect(a.equals(b)).toBe(false);
  });

  it('answers 202 when Prefer: wait runs out, and cancels', async () => {
    const slow = await startSimulator({ latency: { fixedMs: 3000 } });
    try {
      const res = await fetch(`${slow.url}/replicate/v1/models/black-forest-labs/flux-dev/predictions`, {
        method: 'POST',
        headers: { ...H, prefer: 'wait=1' },
        body: JSON.stringify({ input: { prompt: 'x' } }),
      });
      expect(res.status).toBe(202);
      const p = await res.json();
      expect(p.status).toBe('processing');
      const canceled = await (await fetch(p.urls.cancel, { method: 'POST', headers: H })).json();
      expect(canceled.status).toBe('canceled');
    } finally {
      await slow.close();
    }
  });

  it('fails moderated prompts, validates input, 404s unknown ids, requires Bearer', async () => {
    const p = await (await create('/models/black-forest-labs/flux-dev/predictions', { input: { prompt: '[nsfw]' } }, { prefer: 'wait' })).json();
    expect(p).toMatchObject({ status: 'failed', error: expect.stringContaining('NSFW') });
    const bad = await create('/models/black-forest-labs/flux-1.1-pro/predictions', { input: { output_format: 'gif' } });
    expect(bad.status).toBe(422);
    expect((await bad.json()).invalid_fields.map((f: any) => f.field)).toEqual(['input.prompt', 'input.output_format']);
    expect((await create('/models/acme/nothing/predictions', { input: { prompt: 'x' } })).status).toBe(404);
    expect((await fetch(`${sim.url}/replicate/v1/predictions/zzz`, { headers: H })).status).toBe(404);
    const noAuth = await fetch(`${sim.url}/replicate/v1/predictions/zzz`);
    expect(noAuth.status).toBe(401);
    expect((await noAuth.json()).error.type).toBe('comet_api_error');
  });
});
