// Interrupted runs resume: real CLI processes killed with SIGKILL at random moments or stopped with
// SIGINT, then run again against the same simulator. Nothing half-written, nothing paid twice.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { readLockEntries } from '../src/lock/journal.js';
import { startSimulator, type Simulator } from '../src/sim/index.js';
import { runCli, tempProject, tilesManifest } from './helpers/cli.js';

const KEY = 'sk-kill-test';

const manifest = (n: number): string =>
  tilesManifest(n, {
    tail: `    post:
      - resize: { width: 64, height: 64 }
    outputs:
      - png: {}
      - webp: { quality: 70 }
`,
  });

function config(sim: Simulator): string {
  return `provider: cometapi
baseUrl: ${sim.url}
concurrency: 24
polling: { expectedTaskMs: 200, minIntervalMs: 20, maxIntervalMs: 300 }
retry: { baseDelayMs: 20, maxDelayMs: 200 }
`;
}

/** Every file below `dir`, relative. */
async function walk(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => path.relative(dir, path.join(e.parentPath, e.name)));
}

async function expectAllImagesGood(dir: string, n: number): Promise<void> {
  const all = (await walk(path.join(dir, 'out'))).sort();
  expect(all.filter((f) => /\.tmp$/.test(f))).toEqual([]);
  // Images only, and not the gallery's thumbnails (a hidden folder).
  const files = all.filter((f) => /\.(png|webp)$/.test(f) && !f.split(path.sep).some((p) => p.startsWith('.')));
  expect(files.filter((f) => f.endsWith('.png'))).toHaveLength(n);
  expect(files.filter((f) => f.endsWith('.webp'))).toHaveLength(n);
  for (const f of files) {
    const meta = await sharp(await readFile(path.join(dir, 'out', f))).stats(); // full decode: truncation fails here
    expect(meta.channels.length).toBeGreaterThan(0);
  }
}

let sim: Simulator | undefined;
let cleanup: (() => Promise<void>) | undefined;
afterEach(async () => {
  await sim?.close();
  await cleanup?.();
  sim = undefined;
  cleanup = undefined;
});

describe('interrupted runs', () => {
  it('a 200-job run killed with SIGKILL at a random moment resumes: 200 good images, paid ≤ 200 + in flight at the kill', async () => {
    sim = await startSimulator({ keys: { cometapi: KEY }, latency: { medianMs: 150, sigma: 0.6 }, seed: 7 });
    const p = await tempProject({ 'm.yaml': manifest(200), 'flux.config.yaml': config(sim) });
    cleanup = p.cleanup;
    const killAt = 400 + Math.floor(Math.random() * 1200);
    let inFlightAtKill = 0;
    const first = await runCli(['run', 'm.yaml'], {
      cwd: p.dir,
      env: { COMETAPI_KEY: KEY },
      onSpawn: (child) => {
        setTimeout(() => {
          inFlightAtKill = sim!.stats.inFlight;
          child.kill('SIGKILL');
        }, killAt);
      },
    });
    expect(first.signal).toBe('SIGKILL');
    const paidBeforeRerun = sim.stats.accepted;
    expect(paidBeforeRerun).toBeGreaterThan(0);
    // No torn image anywhere: every file present is whole (atomic rename), temps are dot-files.
    const partial = await walk(p.dir);
    for (const f of partial.filter((x) => /^out\/.*\.(png|webp)$/.test(x))) {
      await sharp(await readFile(path.join(p.dir, f))).stats();
    }

    const second = await runCli(['run', 'm.yaml'], { cwd: p.dir, env: { COMETAPI_KEY: KEY } });
    expect(second.stderr).toBe('');
    expect(second.code).toBe(0);
    await expectAllImagesGood(p.dir, 200);
    const entries = await readLockEntries(path.join(p.dir, 'm.lock'));
    expect([...entries.values()].filter((e) => e.state === 'done')).toHaveLength(200);
    // Tasks submitted before the kill were resumed by id, not paid again. The only possible extra
    // charges are submits whose answer the kill cut off (accepted by the server, never journalled).
    expect(sim.stats.accepted).toBeGreaterThanOrEqual(200);
    expect(sim.stats.accepted).toBeLessThanOrEqual(200 + Math.max(inFlightAtKill, 24));
    // A third run has nothing to do.
    const before = sim.stats.submits + sim.stats.polls + sim.stats.downloads;
    const third = await runCli(['run', 'm.yaml'], { cwd: p.dir, env: { COMETAPI_KEY: KEY } });
    expect(third.code).toBe(0);
    expect(sim.stats.submits + sim.stats.polls + sim.stats.downloads).toBe(before);
  }, 120_000);

  it('SIGINT after 1 s on 40 slow tasks exits 130 within 5 s; the rerun makes 40 images and pays for none twice', async () => {
    sim = await startSimulator({ keys: { cometapi: KEY }, latency: { fixedMs: 2500 }, seed: 3 });
    const p = await tempProject({ 'm.yaml': manifest(40), 'flux.config.yaml': config(sim) });
    cleanup = p.cleanup;
    let signalledAt = 0;
    const first = await runCli(['run', 'm.yaml'], {
      cwd: p.dir,
      env: { COMETAPI_KEY: KEY },
      onSpawn: (child) => {
        setTimeout(() => {
          signalledAt = Date.now();
          child.kill('SIGINT');
        }, 1000);
      },
    });
    const exitedAfter = first.ms - (signalledAt - (Date.now() - first.ms));
    expect(first.code).toBe(130);
    expect(exitedAfter).toBeLessThan(5000);
    expect(first.stdout + first.stderr).toMatch(/interrupted/i);
    const paidFirst = sim.stats.accepted;
    expect(paidFirst).toBeGreaterThan(0);
    expect(paidFirst).toBeLessThanOrEqual(40);
    const entries = await readLockEntries(path.join(p.dir, 'm.lock'));
    expect([...entries.values()].filter((e) => e.state === 'submitted')).toHaveLength(paidFirst);

    const second = await runCli(['run', 'm.yaml'], { cwd: p.dir, env: { COMETAPI_KEY: KEY } });
    expect(second.code).toBe(0);
    await expectAllImagesGood(p.dir, 40);
    expect(sim.stats.accepted).toBe(40); // every task submitted before the interrupt was resumed, none paid twice
  }, 60_000);
});
