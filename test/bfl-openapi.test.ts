// Provider `bfl` end to end: the real CLI against an independent fake BFL (test/fixtures/bfl), which
// checks every submit body against BFL's official OpenAPI with ajv. One manifest covers flux-dev,
// flux-pro-1.1, flux-pro-1.1-ultra, flux-kontext-pro and flux-2-pro with their own fields.
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readLockEntries } from '../src/lock/journal.js';
import { startFakeBfl, SpecValidator, type FakeBfl } from './fixtures/bfl/fake-bfl.js';
import { runCli, tempProject } from './helpers/cli.js';

const KEY = 'bfl-test-KEY-9f8e7d6c5b4a';

const MANIFEST = `version: 1
output: out
jobs:
  - name: dev
    model: flux-dev
    prompt: "a red fox, {style} style"
    matrix: { style: [ink, oil] }
    width: 512
    height: 384
    steps: 20
    guidance: 3.5
    prompt_upsampling: false
    safety_tolerance: 2
    output_format: png
    seed: 11
    webhook_url: https://hooks.example.com/flux?job={job}
    webhook_secret: s3cret-hook
  - name: pro11
    model: flux-pro-1.1
    prompt: "a lighthouse at dusk"
    width: 768
    height: 512
    safety_tolerance: 3
    output_format: jpeg
    seed: 12
  - name: ultra
    model: flux-pro-1.1-ultra
    prompt: "a panoramic mountain range"
    aspect_ratio: "21:9"
    raw: true
    image_prompt_strength: 0.3
    seed: 13
  - name: kontext
    model: flux-kontext-pro
    prompt: "make it winter"
    input_image: refs/fox.png
    aspect_ratio: "4:3"
    output_format: png
    seed: 14
  - name: flux2
    model: flux-2-pro
    prompt: "the fox and the lighthouse together"
    width: 1024
    height: 768
    input_image: refs/fox.png
    input_image_2: https://images.example.com/lighthouse.jpg
    safety_tolerance: 5
    output_format: webp
    seed: 15
`;
const JOBS = 6;

let bfl: FakeBfl | undefined;
let cleanup: (() => Promise<void>) | undefined;
let fox: Buffer;

beforeAll(async () => {
  fox = await sharp({ create: { width: 40, height: 30, channels: 3, background: { r: 200, g: 90, b: 10 } } }).png().toBuffer();
});
afterEach(async () => {
  await bfl?.close();
  await cleanup?.();
  bfl = undefined;
  cleanup = undefined;
});

function config(b: FakeBfl): string {
  return `provider: bfl
baseUrl: ${b.mainUrl}
polling: { expectedTaskMs: 50, minIntervalMs: 20, maxIntervalMs: 150 }
retry: { baseDelayMs: 20, maxDelayMs: 200 }
`;
}

async function project(b: FakeBfl) {
  const p = await tempProject({ 'm.yaml': MANIFEST, 'flux.config.yaml': config(b), 'refs/fox.png': fox });
  cleanup = p.cleanup;
  return p;
}

async function images(dir: string): Promise<string[]> {
  const files = await readdir(path.join(dir, 'out'), { recursive: true });
  return files
    .map((f) => f.split(path.sep).join('/'))
    .filter((f) => /\.(png|jpe?g|webp)$/.test(f) && !f.split('/').some((s) => s.startsWith('.')))
    .sort();
}

describe('the fake BFL validates against the official OpenAPI', () => {
  const v = new SpecValidator();
  it('maps paths to their request schemas', () => {
    expect(v.schemaName('/v1/flux-dev')).toBe('FluxDevInputs');
    expect(v.schemaName('/v1/flux-pro-1.1-ultra')).toBe('FluxUltraInput');
    expect(v.schemaName('/v1/flux-kontext-pro')).toBe('FluxKontextProInputs');
    expect(v.schemaName('/v1/flux-2-pro')).toBe('Flux2Inputs');
  });
  it('rejects what BFL would reject or silently ignore, accepts nullable fields as null', () => {
    expect(v.check('/v1/flux-dev', { prompt: 'x', width: 500 })!.issues[0]).toMatchObject({ loc: ['body', 'width'], type: 'multipleOf' });
    expect(v.check('/v1/flux-pro-1.1-ultra', { prompt: 'x', width: 512 })!.issues[0]).toMatchObject({ loc: ['body', 'width'], type: 'additionalProperties' });
    expect(v.check('/v1/flux-2-pro', {})!.issues[0]).toMatchObject({ loc: ['body', 'prompt'], type: 'required' });
    expect(v.check('/v1/flux-2-pro', { prompt: 'x', input_image_9: 'a' })!.issues).toHaveLength(1);
    expect(v.check('/v1/flux-dev', { prompt: 'x', output_format: 'jpg' })!.issues.length).toBeGreaterThan(0);
    expect(v.check('/v1/flux-dev', { prompt: 'x', webhook_url: 'not a url' })!.issues.length).toBeGreaterThan(0);
    expect(v.check('/v1/flux-dev', { prompt: 'x', seed: null, steps: null, guidance: null })!.issues).toEqual([]);
    expect(v.check('/v1/no-such-model', { prompt: 'x' })).toBeUndefined();
  });
});

describe('provider bfl against an independent fake BFL (official OpenAPI)', () => {
  it('makes every image with zero 422s; polls go to the regional host with x-key; downloads carry no key', async () => {
    bfl = await startFakeBfl({ key: KEY });
    const p = await project(bfl);
    const r = await runCli(['run', 'm.yaml'], { cwd: p.dir, env: { BFL_API_KEY: KEY } });
    expect(bfl.stats.rejected).toEqual([]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(bfl.stats.rejected422).toBe(0);
    expect(bfl.stats.accepted).toBe(JOBS);
    expect(bfl.stats.submits).toBe(JOBS);
    expect(await images(p.dir)).toHaveLength(JOBS);
    // Polls: only the regional host, always with the key; the main host never polled.
    expect(bfl.stats.regionalPolls).toBeGreaterThanOrEqual(JOBS);
    expect(bfl.stats.regionalPollsWithoutKey).toBe(0);
    expect(bfl.stats.mainHostGets).toBe(0);
    expect(bfl.stats.downloads).toBe(JOBS);
    expect(bfl.stats.downloadsWithAuth).toBe(0);
    expect(r.stdout + r.stderr).not.toContain(KEY);

    // Each model got its own fields, as the API names them.
    const byPath = Object.fromEntries(bfl.stats.bodies.map((b) => [`${b.path}:${String(b.body.prompt)}`, b.body]));
    const dev = byPath['/v1/flux-dev:a red fox, ink style']!;
    expect(dev).toMatchObject({ width: 512, height: 384, steps: 20, guidance: 3.5, seed: 11, output_format: 'png' });
    // webhook fields pass through unchanged (templated like any string field)
    expect(dev).toMatchObject({ webhook_url: 'https://hooks.example.com/flux?job=dev', webhook_secret: 's3cret-hook' });
    expect(byPath['/v1/flux-pro-1.1-ultra:a panoramic mountain range']).toEqual({
      prompt: 'a panoramic mountain range',
      aspect_ratio: '21:9',
      raw: true,
      image_prompt_strength: 0.3,
      seed: 13,
    });
    const kontext = byPath['/v1/flux-kontext-pro:make it winter']!;
    expect(kontext.input_image).toBe(fox.toString('base64')); // local file → raw base64
    expect(kontext.aspect_ratio).toBe('4:3');
    const flux2 = byPath['/v1/flux-2-pro:the fox and the lighthouse together']!;
    expect(flux2).toMatchObject({ width: 1024, height: 768, input_image: fox.toString('base64'), input_image_2: 'https://images.example.com/lighthouse.jpg' });

    // The lock records the regional polling_url of every task.
    const lockText = await readFile(path.join(p.dir, 'm.lock'), 'utf8');
    expect(lockText).not.toContain(KEY);

    // A rerun changes nothing and sends nothing.
    const before = { ...bfl.stats };
    const again = await runCli(['run', 'm.yaml'], { cwd: p.dir, env: { BFL_API_KEY: KEY } });
    expect(again.code).toBe(0);
    expect([bfl.stats.submits, bfl.stats.regionalPolls, bfl.stats.downloads]).toEqual([before.submits, before.regionalPolls, before.downloads]);
  }, 60_000);

  it('SIGKILLed mid-flight: the lock holds the regional polling_url, and the resumed run polls that host without paying again', async () => {
    bfl = await startFakeBfl({ key: KEY, hold: true });
    const p = await project(bfl);
    const lockFile = path.join(p.dir, 'm.lock');
    const first = await runCli(['run', 'm.yaml'], {
      cwd: p.dir,
      env: { BFL_API_KEY: KEY },
      onSpawn: (child) => {
        const timer = setInterval(() => {
          void (async () => {
            if (bfl!.stats.accepted < JOBS) return;
            const entries = await readLockEntries(lockFile).catch(() => new Map());
            const submitted = [...entries.values()].filter((e) => e.task?.pollingUrl);
            if (submitted.length < JOBS) return;
            clearInterval(timer);
            child.kill('SIGKILL');
          })();
        }, 25);
        child.on('exit', () => clearInterval(timer));
      },
      timeoutMs: 30_000,
    });
    expect(first.signal).toBe('SIGKILL');
    expect(bfl.stats.accepted).toBe(JOBS);

    const entries = await readLockEntries(lockFile);
    const pollingUrls = [...entries.values()].map((e) => e.task?.pollingUrl);
    expect(pollingUrls).toHaveLength(JOBS);
    for (const u of pollingUrls) expect(u).toMatch(new RegExp(`^${bfl.regionalUrl}/v1/get_result\\?id=task-`));
    expect(await readFile(lockFile, 'utf8')).toContain(bfl.regionalUrl);

    bfl.setHold(false);
    const pollsBefore = bfl.stats.regionalPolls;
    const second = await runCli(['run', 'm.yaml'], { cwd: p.dir, env: { BFL_API_KEY: KEY } });
    expect(second.stderr).toBe('');
    expect(second.code).toBe(0);
    expect(bfl.stats.submits).toBe(JOBS); // nothing paid again
    expect(bfl.stats.regionalPolls - pollsBefore).toBeGreaterThanOrEqual(JOBS);
    expect(bfl.stats.mainHostGets).toBe(0); // resumed polls went to the recorded host, not the main one
    expect(bfl.stats.rejected422).toBe(0);
    expect(await images(p.dir)).toHaveLength(JOBS);
    const done = await readLockEntries(lockFile);
    expect([...done.values()].filter((e) => e.state === 'done')).toHaveLength(JOBS);
  }, 60_000);
});
