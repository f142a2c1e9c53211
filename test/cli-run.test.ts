// End-to-end: the real CLI process against the real simulator over HTTP on 127.0.0.1.
import { readFile, rm, stat, writeFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../src/sim/index.js';
import { runCli, tempProject } from './helpers/cli.js';

const KEY = 'sk-test-E2E-KEY-0123456789';

function manifest(seeds: number[], resize = 128): string {
  return `version: 1
output: out
defaults:
  width: 512
  height: 512
  output_format: png
jobs:
  - name: icons
    prompt: "{thing} icon, flat style"
    matrix:
      thing: [sword, shield]
      model: [flux-dev, flux-pro-1.1]
      seed: [${seeds.join(', ')}]
    path: "{model}/{thing}-{seed}"
    post:
      - resize: { width: ${resize}, height: ${resize}, fit: cover }
    outputs:
      - webp: { quality: 80 }
`;
}

let sim: Simulator;
let project: { dir: string; cleanup: () => Promise<void> };

beforeAll(async () => {
  sim = await startSimulator({ keys: { cometapi: KEY }, latency: { fixedMs: 30 } });
});
afterAll(async () => {
  await sim.close();
});

function config(): string {
  return `provider: cometapi\nbaseUrl: ${sim.url}\npolling: { expectedTaskMs: 50, minIntervalMs: 20, maxIntervalMs: 200 }\nretry: { baseDelayMs: 20, maxDelayMs: 200 }\n`;
}

async function run(args: string[] = []) {
  const before = { ...sim.stats };
  const r = await runCli(['run', 'icons.yaml', ...args], { cwd: project.dir, env: { COMETAPI_KEY: KEY } });
  return { ...r, generated: sim.stats.accepted - before.accepted, requests: sim.stats.submits + sim.stats.polls + sim.stats.downloads - (before.submits + before.polls + before.downloads) };
}

async function listOut(): Promise<string[]> {
  const files = await readdir(path.join(project.dir, 'out'), { recursive: true });
  // Hidden folders (the gallery's thumbnails) are not outputs.
  return files.filter((f) => f.endsWith('.webp') && !f.split(path.sep).some((p) => p.startsWith('.'))).map((f) => f.split(path.sep).join('/')).sort();
}

describe('flux-batch run against the simulator (cometapi protocol)', () => {
  beforeEach(async () => {
    project = await tempProject({ 'icons.yaml': manifest([1, 2, 3]), 'flux.config.yaml': config() });
  });
  afterEach(async () => {
    await project.cleanup();
  });

  it('makes 12 webp files of 128×128 at the templated paths with exactly 12 generations, and reruns do only what changed', async () => {
    const first = await run();
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.generated).toBe(12);
    const files = await listOut();
    expect(files).toHaveLength(12);
    expect(files).toContain('flux-dev/sword-1.webp');
    expect(files).toContain('flux-pro-1.1/shield-3.webp');
    for (const f of files) {
      const meta = await sharp(await readFile(path.join(project.dir, 'out', f))).metadata();
      expect([meta.format, meta.width, meta.height]).toEqual(['webp', 128, 128]);
    }
    expect(first.stdout).toMatch(/12 generated/);
    const lock = await readFile(path.join(project.dir, 'icons.lock'), 'utf8');

    // A rerun changes nothing and makes no request of any kind.
    const second = await run();
    expect(second.code).toBe(0);
    expect(second.requests).toBe(0);
    expect(await readFile(path.join(project.dir, 'icons.lock'), 'utf8')).toBe(lock);

    // A deleted output is restored from the cache, with no new generation.
    await rm(path.join(project.dir, 'out/flux-dev/sword-2.webp'));
    const third = await run();
    expect(third.code).toBe(0);
    expect(third.requests).toBe(0);
    expect((await stat(path.join(project.dir, 'out/flux-dev/sword-2.webp'))).size).toBeGreaterThan(0);

    // A changed resize rebuilds every output from the cached originals.
    await writeFile(path.join(project.dir, 'icons.yaml'), manifest([1, 2, 3], 64));
    const fourth = await run();
    expect(fourth.code).toBe(0);
    expect(fourth.generated).toBe(0);
    expect(fourth.stdout).toMatch(/12 rebuilt/);
    const m = await sharp(await readFile(path.join(project.dir, 'out/flux-pro-1.1/sword-1.webp'))).metadata();
    expect([m.width, m.height]).toEqual([64, 64]);

    // A new seed generates exactly the new cells.
    await writeFile(path.join(project.dir, 'icons.yaml'), manifest([1, 2, 3, 4], 64));
    const fifth = await run();
    expect(fifth.code).toBe(0);
    expect(fifth.generated).toBe(4);
    expect(await listOut()).toHaveLength(16);
  });

  it('refuses a bad manifest with exit 2: no request reaches the server, nothing is written', async () => {
    await writeFile(path.join(project.dir, 'icons.yaml'), manifest([1]).replace('width: 512', 'width: 500'));
    const before = sim.stats.submits;
    const r = await run();
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/icons\.yaml:\d+:\d+/);
    expect(r.stderr).toMatch(/width/);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(sim.stats.submits).toBe(before);
    expect((await readdir(project.dir)).sort()).toEqual(['flux.config.yaml', 'icons.yaml']);
  });

  it('names the missing key variable and exits 2', async () => {
    const r = await runCli(['run', 'icons.yaml'], { cwd: project.dir, env: {} });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/COMETAPI_KEY/);
    expect((await readdir(project.dir)).sort()).toEqual(['flux.config.yaml', 'icons.yaml']);
  });
});
