// Expired results are regenerated with the pinned seed: a run whose downloads fail until the signed
// URLs expire is killed, resumed later, and still makes exactly the images a clean run makes.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readLockEntries } from '../src/lock/journal.js';
import { startSimulator, type Simulator } from '../src/sim/index.js';
import { runCli, tempProject, tilesManifest } from './helpers/cli.js';

const KEY = 'sk-expiry-0123456789abcdef';
const N = 12;

const manifest = (n: number): string => tilesManifest(n);

/** The same images, each job with its seed spelled out. */
function seededManifest(seeds: Map<string, number>): string {
  const jobs = [...seeds].map(([prompt, seed]) => {
    const n = /tile number (\d+)/.exec(prompt)![1];
    return `  - { name: t${n}, prompt: "${prompt}", seed: ${seed}, path: "t/${n}" }`;
  });
  return `version: 1
output: out
defaults: { model: flux-dev, width: 256, height: 256, output_format: png }
jobs:
${jobs.join('\n')}
`;
}

function config(sim: Simulator): string {
  return `provider: cometapi
baseUrl: ${sim.url}
polling: { expectedTaskMs: 50, minIntervalMs: 20, maxIntervalMs: 100 }
retry: { baseDelayMs: 10, maxDelayMs: 40 }
`;
}

/** prompt → every seed the server used for it, asked of the server itself. */
async function seedsByPrompt(sim: Simulator): Promise<Map<string, Set<number>>> {
  const out = new Map<string, Set<number>>();
  for (const t of sim.stats.tasks) {
    const res = await fetch(`${sim.url}/flux/v1/get_result?id=${t.id}`, { headers: { authorization: `Bearer ${KEY}` } });
    const body = (await res.json()) as { status: string; result?: { prompt: string; seed: number } };
    if (body.status !== 'Ready' || !body.result) continue; // still pending at the kill
    const set = out.get(body.result.prompt) ?? new Set<number>();
    set.add(body.result.seed);
    out.set(body.result.prompt, set);
  }
  return out;
}

let sim: Simulator | undefined;
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  await sim?.close();
  sim = undefined;
  for (const c of cleanups.splice(0)) await c();
});

describe('expired results', () => {
  it('downloads failing until the URLs expire, SIGKILL, resume: every image regenerated with its first seed, byte-identical to a clean run', async () => {
    sim = await startSimulator({
      keys: { cometapi: KEY },
      latency: { fixedMs: 50 },
      resultTtlMs: 300,
      seed: 21,
      faults: { download: { '503': 1 } },
    });
    const p = await tempProject({ 'm.yaml': manifest(N), 'flux.config.yaml': config(sim) });
    cleanups.push(p.cleanup);

    // Run 1: nothing can be downloaded; kill it once regenerations are under way.
    const first = await runCli(['run', 'm.yaml'], {
      cwd: p.dir,
      env: { COMETAPI_KEY: KEY },
      onSpawn: (child) => {
        const t = setInterval(() => {
          if (sim!.stats.accepted >= N + 6) {
            clearInterval(t);
            child.kill('SIGKILL');
          }
        }, 5);
        child.on('close', () => clearInterval(t));
      },
    });
    expect(first.signal).toBe('SIGKILL');
    expect(sim.stats.faults['download.503']).toBeGreaterThan(0);
    const before = await seedsByPrompt(sim);
    expect(before.size).toBe(N); // every job had a Ready task, whose URL then expired
    for (const [prompt, seeds] of before) expect([...seeds], prompt).toHaveLength(1); // regenerations sent the same seed
    const firstSeeds = new Map([...before].map(([prompt, s]) => [prompt, [...s][0]!]));
    // The journal already pins the seed the API picked, before any image was downloaded.
    const journal = await readLockEntries(path.join(p.dir, 'm.lock'));
    const pinned = [...journal.values()].filter((e) => e.seed !== undefined);
    expect(pinned.length).toBeGreaterThan(0);
    for (const e of pinned) expect(e.seed).toBe(firstSeeds.get(`tile number ${e.id.split('/').pop()}`));

    // Later, the API is healthy again: resume.
    await new Promise((r) => setTimeout(r, 400)); // every URL handed out so far has expired
    sim.setFaults({});
    const paidBefore = sim.stats.accepted;
    const second = await runCli(['run', 'm.yaml'], { cwd: p.dir, env: { COMETAPI_KEY: KEY } });
    expect(second.stderr).toBe('');
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/regenerated because their result expired \(same seed\)/);
    expect(sim.stats.accepted - paidBefore).toBeGreaterThan(0);
    const after = await seedsByPrompt(sim);
    for (const [prompt, seeds] of after) expect([...seeds], prompt).toEqual([firstSeeds.get(prompt)]);
    const lock = await readLockEntries(path.join(p.dir, 'm.lock'));
    const done = [...lock.values()].filter((e) => e.state === 'done');
    expect(done).toHaveLength(N);
    for (const e of done) expect(e.seed).toBe(firstSeeds.get(`tile number ${e.id.split('/').pop()}`));

    // A clean run with those seeds written into the manifest makes byte-identical images.
    const clean = await tempProject({ 'm.yaml': seededManifest(firstSeeds), 'flux.config.yaml': config(sim) });
    cleanups.push(clean.cleanup);
    const c = await runCli(['run', 'm.yaml'], { cwd: clean.dir, env: { COMETAPI_KEY: KEY } });
    expect(c.code).toBe(0);
    const files = (await readdir(path.join(p.dir, 'out/t'))).sort();
    expect(files).toHaveLength(N);
    for (const f of files) {
      const a = await readFile(path.join(p.dir, 'out/t', f));
      const b = await readFile(path.join(clean.dir, 'out/t', f));
      expect(a.equals(b), f).toBe(true);
    }
  }, 60_000);

  it('Task not found after ready (expireRate): regenerated, counted, paid = jobs + regenerations', async () => {
    sim = await startSimulator({ keys: { cometapi: KEY }, latency: { fixedMs: 40 }, seed: 4, faults: { expireRate: 0.12 } });
    const p = await tempProject({ 'm.yaml': manifest(30), 'flux.config.yaml': config(sim) });
    cleanups.push(p.cleanup);
    const r = await runCli(['run', 'm.yaml', '--json'], { cwd: p.dir, env: { COMETAPI_KEY: KEY } });
    const end = r.stdout.trim().split('\n').map((l) => JSON.parse(l)).find((e) => e.type === 'end');
    const s = end.summary;
    expect(s.regenerations).toBeGreaterThan(0);
    expect(sim.stats.accepted).toBe(30 + s.regenerations);
    expect(s.paid).toBe(30 + s.regenerations);
    // A job whose result expires three times in a row fails with that reason (each try is paid);
    // at this rate that is rare, and nothing else may fail.
    expect(Object.keys(s.failures).filter((k) => k !== 'result expired')).toEqual([]);
    expect(r.code).toBe(s.failed > 0 ? 1 : 0);
    const lock = await readLockEntries(path.join(p.dir, 'm.lock'));
    expect([...lock.values()].filter((e) => e.state === 'done')).toHaveLength(30 - s.failed);
  }, 60_000);
});
