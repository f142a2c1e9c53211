// The simulator's protocol surface, over real HTTP: BFL and CometAPI submit/poll, regional hosts,
// statuses, validation, auth, delivery. (Faults and limits: sim-faults.test.ts.)
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../src/sim/index.js';

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ latency: { fixedMs: 150 }, seed: 7, keys: { bfl: 'bfl-key', cometapi: 'comet-key' } });
});
afterAll(() => sim.close());

const bfl = { 'x-key': 'bfl-key', 'content-type': 'application/json' };
const comet = { authorization: 'Bearer comet-key', 'content-type': 'application/json' };

async function post(url: string, headers: Record<string, string>, body: unknown): Promise<{ status: number; json: any; headers: Headers }> {
  const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify(body) });
  return { status: res.status, json: await res.json(), headers: res.headers };
}
async function get(url: string, headers: Record<string, string>): Promise<{ status: number; json: any }> {
  const res = await fetch(url, { headers });
  return { status: res.status, json: await res.json() };
}
async function untilDone(pollingUrl: string, headers: Record<string, string>): Promise<any> {
  for (let i = 0; i < 100; i++) {
    const { json } = await get(pollingUrl, headers);
    if (json.status !== 'Pending') return json;
    await new Promise((r) => setTimeout(r, 40));
  }
  throw new Error('task never finished');
}

describe('BFL direct', () => {
  it('submits, polls the regional polling_url with x-key, and downloads without auth', async () => {
    const sub = await post(`${sim.url}/v1/flux-dev`, bfl, { prompt: 'a red fox', width: 512, height: 384, seed: 42, output_format: 'png' });
    expect(sub.status).toBe(200);
    expect(sub.json).toMatchObject({ id: expect.any(String), cost: 2.5, input_mp: 0, output_mp: 0.2 });
    const pollingUrl: string = sub.json.polling_url;
    expect(sim.regionUrls.some((r) => pollingUrl.startsWith(`${r}/v1/get_result?id=`))).toBe(true);

    const first = await get(pollingUrl, bfl);
    expect(first.json).toMatchObject({ id: sub.json.id, status: 'Pending', result: null });
    expect(first.json.progress).toBeGreaterThanOrEqual(0);
    expect(first.json.progress).toBeLessThan(1);

    const done = await untilDone(pollingUrl, bfl);
    expect(done.status).toBe('Ready');
    expect(done.result).toMatchObject({ prompt: 'a red fox', seed: 42, sample: expect.stringContaining(sim.deliveryUrl) });
    expect(done.result.end_time - done.result.start_time).toBeCloseTo(done.result.duration, 3);

    const img = await fetch(done.result.sample);
    expect(img.status).toBe(200);
    expect(img.headers.get('content-type')).toBe('image/png');
    const meta = await sharp(Buffer.from(await img.arrayBuffer())).metadata();
    expect([meta.width, meta.height, meta.format]).toEqual([512, 384, 'png']);

    const delivery = sim.requests.filter((r) => r.role === 'delivery');
    expect(delivery.length).toBeGreaterThan(0);
    for (const r of delivery) {
      expect(r.headers.authorization).toBeUndefined();
      expect(r.headers['x-key']).toBeUndefined();
    }
    const timing = sim.stats.tasks.find((t) => t.id === sub.json.id)!;
    expect(timing.seenReadyAt).toBeGreaterThanOrEqual(timing.readyAt);
  });

  it('refuses a Bearer key on the regional host and a missing or wrong x-key', async () => {
    const sub = await post(`${sim.url}/v1/flux-pro-1.1`, bfl, { prompt: 'x' });
    const byBearer = await get(sub.json.polling_url, { authorization: 'Bearer bfl-key' });
    expect(byBearer.status).toBe(403);
    expect(byBearer.json).toEqual({ detail: 'Not authenticated' });
    expect((await get(sub.json.polling_url, { 'x-key': 'nope' })).status).toBe(403);
    expect((await post(`${sim.url}/v1/flux-dev`, { 'content-type': 'application/json' }, { prompt: 'x' })).status).toBe(403);
    // The main host also serves get_result.
    expect((await get(`${sim.url}/v1/get_result?id=${sub.json.id}`, bfl)).status).toBe(200);
  });

  it('picks a seed when none is sent and reports it', async () => {
    const sub = await post(`${sim.url}/v1/flux-2-pro`, bfl, { prompt: 'no seed' });
    const done = await untilDone(sub.json.polling_url, bfl);
    expect(Number.isInteger(done.result.seed)).toBe(true);
    const meta = await sharp(Buffer.from(await (await fetch(done.result.sample)).arrayBuffer())).metadata();
    expect([meta.width, meta.height, meta.format]).toEqual([1024, 1024, 'jpeg']);
  });

  it('sizes aspect-ratio models at about one megapixel', async () => {
    const sub = await post(`${sim.url}/v1/flux-kontext-pro`, bfl, { prompt: 'wide', aspect_ratio: '16:9', seed: 1 });
    const done = await untilDone(sub.json.polling_url, bfl);
    expect(done.result.sample).toMatch(/sample\.png\?/);
    const meta = await sharp(Buffer.from(await (await fetch(done.result.sample)).arrayBuffer())).metadata();
    expect(meta.width! / meta.height!).toBeCloseTo(16 / 9, 1);
    expect((meta.width! * meta.height!) / 2 ** 20).toBeCloseTo(1, 1);
  });

  it('answers AsyncWebhookResponse when webhook_url is given', async () => {
    const sub = await post(`${sim.url}/v1/flux-dev`, bfl, { prompt: 'hook', webhook_url: 'https://example.invalid/hook' });
    expect(sub.json).toMatchObject({ id: expect.any(String), status: 'Pending', webhook_url: 'https://example.invalid/hook' });
    expect(sub.json.polling_url).toBeUndefined();
  });

  it('validates bodies like FastAPI (422) and 404s unknown models', async () => {
    const bad = await post(`${sim.url}/v1/flux-dev`, bfl, { prompt: 'x', width: 500, output_format: 'gif', steps: 0 });
    expect(bad.status).toBe(422);
    const locs = bad.json.detail.map((d: any) => d.loc.join('.'));
    expect(locs).toEqual(expect.arrayContaining(['body.width', 'body.output_format', 'body.steps']));
    expect(bad.json.detail.find((d: any) => d.loc[1] === 'width').msg).toBe('Input should be a multiple of 32');
    const missing = await post(`${sim.url}/v1/flux-2-pro`, bfl, {});
    expect(missing.json.detail[0]).toMatchObject({ loc: ['body', 'prompt'], type: 'missing' });
    const notJson = await fetch(`${sim.url}/v1/flux-dev`, { method: 'POST', headers: bfl, body: '{nope' });
    expect(notJson.status).toBe(422);
    expect((await post(`${sim.url}/v1/flux-9000`, bfl, { prompt: 'x' })).status).toBe(404);
  });
});

describe('statuses', () => {
  it('moderates prompts, reports Task not found for unknown ids', async () => {
    const req = await post(`${sim.url}/v1/flux-dev`, bfl, { prompt: 'please [moderated]' });
    expect((await get(req.json.polling_url, bfl)).json.status).toBe('Request Moderated');
    const content = await post(`${sim.url}/v1/flux-dev`, bfl, { prompt: 'oops [nsfw]' });
    expect((await untilDone(content.json.polling_url, bfl)).status).toBe('Content Moderated');
    expect((await get(`${sim.url}/v1/get_result?id=does-not-exist`, bfl)).json.status).toBe('Task not found');
  });

  it('reports unknownStatus in the middle of a task', async () => {
    const s = await startSimulator({ latency: { fixedMs: 400 }, unknownStatus: 'Generating' });
    try {
      const sub = await post(`${s.url}/v1/flux-dev`, { 'x-key': 'k' }, { prompt: 'x' });
      const seen: string[] = [];
      for (let i = 0; i < 30; i++) {
        const { json } = await get(sub.json.polling_url, { 'x-key': 'k' });
        if (seen.at(-1) !== json.status) seen.push(json.status);
        if (json.status === 'Ready') break;
        await new Promise((r) => setTimeout(r, 25));
      }
      expect(seen).toEqual(['Pending', 'Generating', 'Pending', 'Ready']);
    } finally {
      await s.close();
    }
  });

  it('expireAll makes tasks unknown and result URLs expired', async () => {
    const s = await startSimulator();
    try {
      const sub = await post(`${s.url}/v1/flux-dev`, { 'x-key': 'k' }, { prompt: 'x', width: 256, height: 256 });
      const done = (await get(sub.json.polling_url, { 'x-key': 'k' })).json;
      expect(done.status).toBe('Ready');
      s.expireAll();
      expect((await get(sub.json.polling_url, { 'x-key': 'k' })).json.status).toBe('Task not found');
      const img = await fetch(done.result.sample);
      expect(img.status).toBe(403);
      expect(await img.text()).toContain('<Code>AccessDenied</Code>');
    } finally {
      await s.close();
    }
  });
});

describe('CometAPI /flux/v1', () => {
  it('submits with Bearer, polls get_result with Bearer', async () => {
    const sub = await post(`${sim.url}/flux/v1/flux-pro-1.1`, comet, { prompt: 'via comet', seed: 3 });
    expect(Object.keys(sub.json).sort()).toEqual(['id', 'polling_url']);
    expect(sim.regionUrls.some((r) => sub.json.polling_url.startsWith(r))).toBe(true);
    const done = await untilDone(`${sim.url}/flux/v1/get_result?id=${sub.json.id}`, comet);
    expect(done).toMatchObject({ id: sub.json.id, status: 'Ready', result: { seed: 3, prompt: 'via comet' }, progress: 1 });
    // The regional polling_url is BFL's: the CometAPI key does not open it.
    expect((await get(sub.json.polling_url, { authorization: 'Bearer comet-key' })).status).toBe(403);
  });

  it('answers 401 with the CometAPI envelope', async () => {
    for (const headers of [{}, { authorization: 'Bearer wrong' }, { authorization: 'comet-key' }]) {
      const res = await post(`${sim.url}/flux/v1/flux-dev`, { ...headers, 'content-type': 'application/json' }, { prompt: 'x' });
      expect(res.status).toBe(401);
      expect(res.json.error).toMatchObject({ type: 'comet_api_error', param: '', code: 'invalid_api_key', message: expect.any(String) });
    }
    expect((await get(`${sim.url}/flux/v1/get_result?id=x`, {})).status).toBe(401);
  });
});

describe('delivery host', () => {
  it('refuses a bad signature and an expired URL', async () => {
    const s = await startSimulator({ resultTtlMs: 200 });
    try {
      const sub = await post(`${s.url}/v1/flux-dev`, { 'x-key': 'k' }, { prompt: 'x', width: 256, height: 256 });
      const { sample } = (await get(sub.json.polling_url, { 'x-key': 'k' })).json.result;
      const forged = sample.replace(/sig=[0-9a-f]/, (m: string) => (m.endsWith('0') ? 'sig=1' : 'sig=0'));
      const bad = await fetch(forged);
      expect(bad.status).toBe(403);
      expect(await bad.text()).toContain('SignatureDoesNotMatch');
      expect((await fetch(sample)).status).toBe(200);
      await new Promise((r) => setTimeout(r, 300));
      const expired = await fetch(sample);
      expect(expired.status).toBe(403);
      expect(expired.headers.get('content-type')).toBe('application/xml');
    } finally {
      await s.close();
    }
  });
});

describe('extras', () => {
  it('POSTs the final result to a local webhook with X-Webhook-Secret', async () => {
    const { createServer } = await import('node:http');
    const got: { headers: Record<string, unknown>; body: any }[] = [];
    const hook = createServer((req, res) => {
      let text = '';
      req.on('data', (c) => (text += c));
      req.on('end', () => {
        got.push({ headers: req.headers, body: JSON.parse(text) });
        res.end('ok');
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    const port = (hook.address() as { port: number }).port;
    try {
      const sub = await post(`${sim.url}/v1/flux-dev`, bfl, { prompt: 'hook', webhook_url: `http://127.0.0.1:${port}/h`, webhook_secret: 's3' });
      for (let i = 0; i < 50 && got.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(got[0]?.headers['x-webhook-secret']).toBe('s3');
      expect(got[0]?.body).toMatchObject({ id: sub.json.id, task_id: sub.json.id, status: 'Ready', result: { prompt: 'hook' } });
    } finally {
      await new Promise((r) => hook.close(r));
    }
  });

  it('runSimulator prints the URLs', async () => {
    const { runSimulator } = await import('../src/sim/cli.js');
    const lines: string[] = [];
    const s = await runSimulator({ port: 0, print: (l) => lines.push(l) });
    try {
      expect(lines.join('\n')).toContain(s.url);
      expect(lines.join('\n')).toContain(s.deliveryUrl);
    } finally {
      await s.close();
    }
  });
});
