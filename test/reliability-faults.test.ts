// Reliability under faults, end to end: the built CLI against the simulator on a bad day (500, 502,
// 503, 429, resets, truncated bodies, a status name the client has never seen). Every job must
// finish, and no failure the server reported before accepting may lead to a second paid task.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { readLockEntries } from '../src/lock/journal.js';
import type { RunSummary } from '../src/run/events.js';
import { startSimulator, type FaultConfig, type Simulator } from '../src/sim/index.js';
import { runCli, tempProject, tilesManifest } from './helpers/cli.js';

const KEY = 'sk-faults-0123456789abcdef';

const manifest = (n: number, extra = ''): string => tilesManifest(n, { prompt: `tile number {n}${extra}` });

function config(sim: Simulator, provider = 'cometapi', retry = ''): string {
  return `provider: ${provider}
baseUrl: ${sim.url}
polling: { expectedTaskMs: 50, minIntervalMs: 20, maxIntervalMs: 200 }
retry: { baseDelayMs: 10, maxDelayMs: 100${retry} }
`;
}

/** About 15% of every kind of request fails, each way the simulator knows (resetAfterAccept aside). */
const BAD_DAY: FaultConfig = {
  submit: { '500': 0.03, '502': 0.03, '503': 0.03, '429': 0.03, reset: 0.03 },
  poll: { '500': 0.03, '502': 0.03, '503': 0.03, '429': 0.03, reset: 0.03 },
  download: { '500': 0.03, '503': 0.03, '429': 0.02, reset: 0.03, truncate: 0.04 },
};

function endSummary(stdout: string): RunSummary {
  const events = stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; summary?: RunSummary });
  const end = events.find((e) => e.type === 'end');
  if (!end?.summary) throw new Error(`no end event in:\n${stdout.slice(-2000)}`);
  return end.summary;
}

async function images(dir: string): Promise<string[]> {
  const files = await readdir(path.join(dir, 'out'), { recursive: true });
  return files.filter((f) => f.endsWith('.png')).sort();
}

let sim: Simulator | undefined;
let cleanup: (() => Promise<void>) | undefined;
afterEach(async () => {
  await sim?.close();
  await cleanup?.();
  sim = undefined;
  cleanup = undefined;
});

describe('a bad day at the API', () => {
  it('300 jobs with ~15% of submits, polls and downloads failing and an unknown in-progress status: 300 valid images, exit 0, 300 paid', async () => {
    sim = await startSimulator({
      keys: { cometapi: KEY },
      latency: { medianMs: 120, sigma: 0.5 },
      seed: 11,
      unknownStatus: 'Generating',
      faults: BAD_DAY,
    });
    const p = await tempProject({ 'm.yaml': manifest(300), 'flux.config.yaml': config(sim) });
    cleanup = p.cleanup;
    const t0 = Date.now();
    const r = await runCli(['run', 'm.yaml', '--json'], { cwd: p.dir, env: { COMETAPI_KEY: KEY }, timeoutMs: 50_000 });
    const wallMs = Date.now() - t0;
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const s = endSummary(r.stdout);

    // The faults really happened, of every kind.
    const f = sim.stats.faults;
    for (const k of ['submit.500', 'submit.502', 'submit.503', 'submit.429', 'submit.reset', 'poll.500', 'poll.502', 'poll.429', 'poll.reset', 'download.truncate', 'download.reset', 'download.503']) {
      expect(f[k], k).toBeGreaterThan(0);
    }
    expect(sim.stats.pollsByStatus['Generating']).toBeGreaterThan(0);

    // 300 valid images, every job done in the lock.
    const files = await images(p.dir);
    expect(files).toHaveLength(300);
    for (const file of files) {
      const { info } = await sharp(await readFile(path.join(p.dir, 'out', file))).raw().toBuffer({ resolveWithObject: true });
      expect([info.width, info.height]).toEqual([256, 256]);
    }
    const entries = [...(await readLockEntries(path.join(p.dir, 'm.lock'))).values()];
    expect(entries.filter((e) => e.state === 'done')).toHaveLength(300);

    // Zero duplicate paid submissions: every failure here was reported before the task was
    // created (the 502s and resets are ambiguous to the client, and counted, but not paid).
    expect(sim.stats.accepted).toBe(300);
    expect(s.paid).toBe(300);
    expect(s.generated).toBe(300);
    expect(s.failed).toBe(0);
    expect(s.regenerations).toBe(0);
    expect(s.ambiguousRetries).toBe((f['submit.502'] ?? 0) + (f['submit.reset'] ?? 0));
    expect(sim.stats.maxInFlightSeen).toBeLessThanOrEqual(24);
    console.log(
      `300 jobs under faults: wall ${wallMs} ms, paid ${s.paid}, ambiguous retries ${s.ambiguousRetries}, ` +
        `poll requests ${s.polls} (${(s.polls / 300).toFixed(2)}/task), downloads ${s.downloads}, faults ${JSON.stringify(f)}`,
    );
  }, 60_000);

  it('submits reset after the server accepted them: retried by policy, counted as possible duplicates, each one exactly one extra paid task', async () => {
    sim = await startSimulator({
      keys: { cometapi: KEY },
      latency: { fixedMs: 60 },
      seed: 5,
      faults: { submit: { resetAfterAccept: 0.15, '503': 0.05 } },
    });
    const p = await tempProject({ 'm.yaml': manifest(60), 'flux.config.yaml': config(sim) });
    cleanup = p.cleanup;
    const r = await runCli(['run', 'm.yaml'], { cwd: p.dir, env: { COMETAPI_KEY: KEY } });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(await images(p.dir)).toHaveLength(60);
    const dupes = sim.stats.faults['submit.resetAfterAccept'] ?? 0;
    expect(dupes).toBeGreaterThan(0);
    expect(sim.stats.accepted).toBe(60 + dupes);
    // The summary says how many submits may have been charged twice, and why.
    const m = /(\d+) submits? retried after an ambiguous failure: each may have been charged twice/.exec(r.stdout);
    expect(m?.[1]).toBe(String(dupes));
    expect(r.stdout).toMatch(/paid generations 60\b/);
  }, 60_000);

  it('with ambiguousRetry: false an ambiguous submit fails its job (not journalled), exit 1; a plain rerun finishes it', async () => {
    sim = await startSimulator({
      keys: { cometapi: KEY },
      latency: { fixedMs: 40 },
      seed: 9,
      faults: { submit: { '502': 0.2 } },
    });
    const p = await tempProject({ 'm.yaml': manifest(30), 'flux.config.yaml': config(sim, 'cometapi', ', ambiguousRetry: false') });
    cleanup = p.cleanup;
    const first = await runCli(['run', 'm.yaml'], { cwd: p.dir, env: { COMETAPI_KEY: KEY } });
    const failed = sim.stats.faults['submit.502'] ?? 0;
    expect(failed).toBeGreaterThan(0);
    expect(first.code).toBe(1);
    expect(first.stdout).toMatch(new RegExp(`failures: ambiguous submit ${failed}\\b`));
    expect(first.stdout).toMatch(/not retried \(retry\.ambiguousRetry is false\)/);
    expect(sim.stats.accepted).toBe(30 - failed);
    expect(first.stdout).not.toMatch(/charged twice/);

    sim.setFaults({});
    const second = await runCli(['run', 'm.yaml'], { cwd: p.dir, env: { COMETAPI_KEY: KEY } });
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(new RegExp(`${failed} generated`));
    expect(await images(p.dir)).toHaveLength(30);
    expect(sim.stats.accepted).toBe(30);
  }, 60_000);

  it('the BFL protocol (x-key, regional polling URLs) under the same faults: 60 images, 60 paid', async () => {
    sim = await startSimulator({ keys: { bfl: KEY }, latency: { medianMs: 100, sigma: 0.5 }, seed: 3, unknownStatus: 'Generating', faults: BAD_DAY });
    const p = await tempProject({ 'm.yaml': manifest(60), 'flux.config.yaml': config(sim, 'bfl') });
    cleanup = p.cleanup;
    const r = await runCli(['run', 'm.yaml'], { cwd: p.dir, env: { BFL_API_KEY: KEY } });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(await images(p.dir)).toHaveLength(60);
    expect(sim.stats.accepted).toBe(60);
    expect(sim.requests.some((q) => q.role === 'region')).toBe(true);
  }, 60_000);
});
