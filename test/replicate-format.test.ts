// Provider `replicate` end to end: the real CLI against an independent fake of CometAPI's
// Replicate-format routes written here (no src/sim). The fake knows each model's Replicate inputs
// and refuses any other field with 422, so a BFL name leaking through (a silently ignored, paid
// field on the real service) fails the test.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli, tempProject } from './helpers/cli.js';

const KEY = 'sk-comet-REPLICATE-test-123456';

/** Replicate's inputs per model (from the models' pages on replicate.com), and output shape. */
const MODELS: Record<string, { inputs: string[]; formats: string[]; list: boolean; custom: boolean }> = {
  'black-forest-labs/flux-schnell': {
    inputs: ['prompt', 'aspect_ratio', 'num_outputs', 'num_inference_steps', 'seed', 'output_format', 'output_quality', 'disable_safety_checker', 'go_fast', 'megapixels'],
    formats: ['webp', 'jpg', 'png'],
    list: true,
    custom: false,
  },
  'black-forest-labs/flux-dev': {
    inputs: ['prompt', 'aspect_ratio', 'image', 'prompt_strength', 'num_outputs', 'num_inference_steps', 'guidance', 'seed', 'output_format', 'output_quality', 'disable_safety_checker', 'go_fast', 'megapixels'],
    formats: ['webp', 'jpg', 'png'],
    list: true,
    custom: false,
  },
  'black-forest-labs/flux-1.1-pro': {
    inputs: ['prompt', 'aspect_ratio', 'width', 'height', 'safety_tolerance', 'seed', 'prompt_upsampling', 'output_format', 'output_quality', 'image_prompt'],
    formats: ['webp', 'jpg', 'png'],
    list: false,
    custom: true,
  },
  'black-forest-labs/flux-2-pro': {
    inputs: ['prompt', 'input_images', 'aspect_ratio', 'resolution', 'width', 'height', 'safety_tolerance', 'seed', 'output_format', 'output_quality'],
    formats: ['webp', 'jpg', 'png'],
    list: false,
    custom: true,
  },
  'black-forest-labs/flux-kontext-pro': {
    inputs: ['prompt', 'input_image', 'aspect_ratio', 'seed', 'output_format', 'safety_tolerance', 'prompt_upsampling'],
    formats: ['jpg', 'png'],
    list: false,
    custom: false,
  },
};

interface Prediction {
  id: string;
  model: string;
  input: Record<string, unknown>;
  created: number;
  /** Terminal status this prediction will reach. */
  end: 'succeeded' | 'failed' | 'canceled' | 'aborted';
}

interface Fake {
  url: string;
  stats: {
    creates: number;
    byRoute: Record<'models' | 'predictions', number>;
    rejected: { model: string; problems: string[] }[];
    polls: number;
    downloads: number;
    downloadsWithAuth: number;
    preferHeaders: string[];
    bodies: Record<string, unknown>[];
  };
  close(): Promise<void>;
}

async function startFake(opts: { readyMs?: number } = {}): Promise<Fake> {
  const predictions = new Map<string, Prediction>();
  const stats: Fake['stats'] = { creates: 0, byRoute: { models: 0, predictions: 0 }, rejected: [], polls: 0, downloads: 0, downloadsWithAuth: 0, preferHeaders: [], bodies: [] };
  let base = '';
  let n = 0;
  const readyMs = opts.readyMs ?? 80;

  const view = (p: Prediction): Record<string, unknown> => {
    const age = Date.now() - p.created;
    const spec = MODELS[p.model]!;
    const urls = { get: `https://api.replicate.com/v1/predictions/${p.id}`, cancel: `https://api.replicate.com/v1/predictions/${p.id}/cancel`, web: `https://replicate.com/p/${p.id}` };
    const common = { id: p.id, model: p.model, version: 'hidden', input: p.input, logs: '', data_removed: false, source: 'api', created_at: new Date(p.created).toISOString(), urls };
    if (age < readyMs / 2) return { ...common, status: 'starting', output: null, error: null };
    if (age < readyMs) return { ...common, status: 'processing', output: null, error: null };
    if (p.end === 'succeeded') {
      const file = `${base}/files/${p.id}.png`;
      return { ...common, status: 'succeeded', output: spec.list ? [file] : file, error: null, metrics: { predict_time: 0.1, image_count: 1 } };
    }
    const error = p.end === 'failed' ? 'NSFW content detected' : null;
    return { ...common, status: p.end, output: null, error };
  };

  const server: Server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname.startsWith('/files/')) {
        stats.downloads++;
        if (req.headers.authorization || req.headers['x-key']) stats.downloadsWithAuth++;
        const png = await sharp({ create: { width: 32, height: 32, channels: 3, background: { r: 10, g: 200, b: 90 } } }).png().toBuffer();
        res.writeHead(200, { 'content-type': 'image/png' }).end(png);
        return;
      }
      if (req.headers.authorization !== `Bearer ${KEY}`) return json(res, 401, { error: { message: 'invalid key', type: 'comet_api_error' } });
      const get = /^\/replicate\/v1\/predictions\/([\w-]+)$/.exec(url.pathname);
      if (req.method === 'GET' && get) {
        stats.polls++;
        const p = predictions.get(get[1]!);
        return p ? json(res, 200, view(p)) : json(res, 404, { detail: 'Not found.' });
      }
      const byModel = /^\/replicate\/v1\/models\/([\w.-]+\/[\w.-]+)\/predictions$/.exec(url.pathname);
      if (req.method !== 'POST' || !(byModel || url.pathname === '/replicate/v1/predictions')) return json(res, 404, { detail: 'Not found.' });
      stats.creates++;
      const body = JSON.parse((await readBody(req)).toString('utf8')) as Record<string, unknown>;
      stats.bodies.push(body);
      stats.byRoute[byModel ? 'models' : 'predictions']++;
      const model = byModel ? byModel[1]! : String(body.model ?? '');
      const spec = MODELS[model];
      if (!spec) return json(res, 404, { detail: `model ${model} not found` });
      const allowedTop = byModel ? ['input', 'webhook', 'webhook_events_filter'] : ['model', 'input', 'webhook', 'webhook_events_filter'];
      const problems: string[] = Object.keys(body).filter((k) => !allowedTop.includes(k)).map((k) => `unknown body field ${k}`);
      const input = (body.input ?? {}) as Record<string, unknown>;
      for (const k of Object.keys(input)) if (!spec.inputs.includes(k)) problems.push(`input.${k} is not an input of ${model}`);
      if (input.output_format !== undefined && !spec.formats.includes(String(input.output_format))) problems.push(`input.output_format ${String(input.output_format)}`);
      if ((input.width !== undefined || input.height !== undefined) && input.aspect_ratio !== 'custom') problems.push('width/height only with aspect_ratio custom');
      if (input.aspect_ratio === 'custom' && !spec.custom) problems.push('aspect_ratio custom not offered');
      if (typeof input.prompt !== 'string' || !input.prompt) problems.push('input.prompt required');
      if (problems.length) {
        stats.rejected.push({ model, problems });
        return json(res, 422, { title: 'Input validation failed', detail: problems.join('\n'), status: 422 });
      }
      const prompt = String(input.prompt);
      const end = (/\b(failed|canceled|aborted)\b/.exec(prompt)?.[1] ?? 'succeeded') as Prediction['end'];
      const p: Prediction = { id: `pred${++n}x${Math.random().toString(36).slice(2, 8)}`, model, input, created: Date.now(), end };
      predictions.set(p.id, p);
      const prefer = req.headers.prefer;
      if (typeof prefer === 'string') {
        stats.preferHeaders.push(prefer);
        // A synchronous answer: the final prediction comes with the create call.
        p.created -= readyMs;
        return json(res, 201, view(p));
      }
      json(res, 201, view(p));
    })().catch((err: unknown) => json(res, 500, { detail: String(err) }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: base,
    stats,
    close: () => {
      server.closeAllConnections();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

const FOUR_JOBS = `version: 1
output: out
jobs:
  - name: dev
    model: flux-dev
    prompt: "a small {thing}"
    matrix: { thing: [boat, kite] }
    width: 512
    height: 512
    steps: 24
    guidance: 3
    output_format: png
  - name: pro
    model: flux-pro-1.1
    prompt: "a wide harbour"
    width: 768
    height: 512
    safety_tolerance: 2
    output_format: jpeg
    seed: 3
  - name: two
    model: flux-2-pro
    prompt: "the boat in the harbour"
    width: 1024
    height: 768
    input_image: ref.png
    input_image_2: https://example.com/harbour.jpg
    seed: 4
`;

let fake: Fake | undefined;
let cleanup: (() => Promise<void>) | undefined;
afterEach(async () => {
  await fake?.close();
  await cleanup?.();
  fake = undefined;
  cleanup = undefined;
});

async function setup(manifest: string, extraConfig = '') {
  fake = await startFake();
  const ref = await sharp({ create: { width: 16, height: 16, channels: 3, background: '#123456' } }).png().toBuffer();
  const p = await tempProject({
    'm.yaml': manifest,
    'ref.png': ref,
    'flux.config.yaml': `provider: replicate\nbaseUrl: ${fake.url}\npolling: { expectedTaskMs: 50, minIntervalMs: 20, maxIntervalMs: 150 }\nretry: { baseDelayMs: 20, maxDelayMs: 200 }\n${extraConfig}`,
  });
  cleanup = p.cleanup;
  return { ...p, ref };
}

async function images(dir: string): Promise<string[]> {
  const files = await readdir(path.join(dir, 'out'), { recursive: true }).catch(() => [] as string[]);
  return files.filter((f) => /\.(png|jpe?g|webp)$/.test(f) && !f.split(path.sep).some((s) => s.startsWith('.')));
}

const run = (dir: string, cmd = 'run') => runCli([cmd, 'm.yaml'], { cwd: dir, env: { COMETAPI_KEY: KEY } });

describe('provider replicate against an independent CometAPI Replicate-format server', () => {
  it('4 jobs by /models/{owner}/{name}/predictions: 4 images, BFL fields mapped to Replicate inputs, nothing refused', async () => {
    const p = await setup(FOUR_JOBS);
    const r = await run(p.dir);
    expect(fake!.stats.rejected).toEqual([]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(await images(p.dir)).toHaveLength(4);
    expect(fake!.stats.byRoute).toEqual({ models: 4, predictions: 0 });
    expect(fake!.stats.polls).toBeGreaterThanOrEqual(4);
    expect(fake!.stats.downloads).toBe(4);
    expect(fake!.stats.downloadsWithAuth).toBe(0);
    expect(fake!.stats.preferHeaders).toEqual([]);
    const inputs = fake!.stats.bodies.map((b) => b.input as Record<string, unknown>);
    const dev = inputs.find((i) => i.prompt === 'a small boat')!;
    // flux-dev on Replicate: no width/height, steps is num_inference_steps.
    expect(dev).toEqual({ prompt: 'a small boat', aspect_ratio: '1:1', megapixels: '0.25', num_inference_steps: 24, guidance: 3, output_format: 'png' });
    const pro = inputs.find((i) => i.prompt === 'a wide harbour')!;
    expect(pro).toEqual({ prompt: 'a wide harbour', aspect_ratio: 'custom', width: 768, height: 512, safety_tolerance: 2, output_format: 'jpg', seed: 3 });
    const two = inputs.find((i) => i.prompt === 'the boat in the harbour')!;
    expect(two).toMatchObject({ aspect_ratio: 'custom', width: 1024, height: 768, seed: 4 });
    expect(two.input_images).toEqual([`data:image/png;base64,${p.ref.toString('base64')}`, 'https://example.com/harbour.jpg']);
  }, 60_000);

  it('the legacy /predictions route with Prefer: wait: the final output comes with the create call, so nothing is polled', async () => {
    const p = await setup(FOUR_JOBS, 'replicate: { route: predictions, preferWait: 10 }\n');
    const r = await run(p.dir);
    expect(fake!.stats.rejected).toEqual([]);
    expect(r.code).toBe(0);
    expect(await images(p.dir)).toHaveLength(4);
    expect(fake!.stats.byRoute).toEqual({ models: 0, predictions: 4 });
    expect(fake!.stats.preferHeaders).toEqual(['wait=10', 'wait=10', 'wait=10', 'wait=10']);
    expect(fake!.stats.polls).toBe(0);
    expect(fake!.stats.bodies.map((b) => b.model).sort()).toEqual([
      'black-forest-labs/flux-1.1-pro',
      'black-forest-labs/flux-2-pro',
      'black-forest-labs/flux-dev',
      'black-forest-labs/flux-dev',
    ]);
  }, 60_000);

  it('a string output and a list output both make an image; failed / canceled / aborted fail their job with the reason', async () => {
    const p = await setup(`version: 1
output: out
defaults: { model: flux-pro-1.1 }
jobs:
  - { name: one, prompt: "ok string output" }
  - { name: list, model: flux-schnell, prompt: "ok list output", num_inference_steps: 4 }
  - { name: bad, prompt: "this one failed" }
  - { name: cancel, prompt: "this one canceled" }
  - { name: abort, prompt: "this one aborted" }
`);
    const r = await run(p.dir);
    expect(r.code).toBe(1);
    expect((await images(p.dir)).sort()).toEqual(['list.png', 'one.png']);
    const out = r.stdout + r.stderr;
    expect(out).toMatch(/failed: NSFW content detected/);
    expect(out).toMatch(/canceled/);
    expect(out).toMatch(/aborted/);
    expect(fake!.stats.creates).toBe(5);
    // Failed jobs are recorded: a rerun pays for nothing.
    const again = await run(p.dir);
    expect(again.code).toBe(1);
    expect(fake!.stats.creates).toBe(5);
  }, 60_000);

  it('fields Replicate would ignore are refused before anything is sent', async () => {
    const p = await setup(`version: 1
output: out
jobs:
  - { name: a, model: flux-dev, prompt: "x", width: 800, height: 288 }
  - { name: b, model: flux-dev, prompt: "x", safety_tolerance: 3 }
  - { name: c, model: flux-kontext-pro, prompt: "x", input_image: ref.png, input_image_2: ref.png }
  - { name: d, model: flux-pro-1.1, prompt: "x", webhook_url: "https://h.example.com/x", webhook_secret: "s" }
  - { name: e, model: flux-pro-1.1-ultra, prompt: "x", aspect_ratio: "7:3" }
  - { name: f, model: flux-kontext-max, prompt: "x", output_format: webp }
`);
    const r = await run(p.dir);
    expect(r.code).toBe(2);
    expect(fake!.stats.creates).toBe(0);
    const out = r.stdout + r.stderr;
    expect(out).toContain('800×288 (25:9) cannot be sent to black-forest-labs/flux-dev');
    expect(out).toContain('`safety_tolerance` cannot be sent to black-forest-labs/flux-dev');
    expect(out).toContain("`input_image_2` cannot be sent to black-forest-labs/flux-kontext-pro: Replicate's flux-kontext-pro takes one input_image");
    expect(out).toContain('`webhook_secret` cannot be sent');
    expect(out).toContain('`aspect_ratio: 7:3` is not offered by black-forest-labs/flux-1.1-pro-ultra');
    expect(out).toContain('`output_format: webp` is not offered by black-forest-labs/flux-kontext-max');
  }, 60_000);
});
