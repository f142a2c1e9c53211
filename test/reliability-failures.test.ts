// Failures are data: moderated prompts, an empty account (402) and a task past its deadline each
// fail only their own jobs, with the reason in the summary; the run goes on; exit 1. Reruns do
// what the README promises: failed jobs stay failed unless --retry-failed, while account and
// deadline problems are not journalled as failures, so a plain rerun finishes them.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readLockEntries } from '../src/lock/journal.js';
import { startSimulator, type Simulator } from '../src/sim/index.js';
import { runCli, tempProject, tilesManifest } from './helpers/cli.js';

const KEY = 'sk-failures-0123456789abcdef';

/** Ten plain tiles, then one job per extra prompt at `x/<i>`. */
function manifest(prompts: string[]): string {
  return plainManifest(10) + prompts.map((p, i) => `  - { name: x${i + 1}, prompt: "${p}", path: "x/${i + 1}" }\n`).join('');
}

const plainManifest = (n: number): string => tilesManifest(n, { prompt: 'tile {n}' });

function config(sim: Simulator, extra = ''): string {
  return `provider: cometapi
baseUrl: ${sim.url}
polling: { expectedTaskMs: 50, minIntervalMs: 20, maxIntervalMs: 200 }
retry: { baseDelayMs: 10, maxDelayMs: 100 }
${extra}`;
}

async function count(dir: string, sub: string): Promise<number> {
  try {
    return (await readdir(path.join(dir, 'out', sub))).filter((f) => f.endsWith('.png')).length;
  } catch {
    return 0;
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

describe('failures are data', () => {
  it('moderated prompts fail with the reason grouped in the summary, all others done, exit 1; reruns keep them failed unless --retry-failed', async () => {
    sim = await startSimulator({ keys: { cometapi: KEY }, latency: { fixedMs: 40 }, seed: 2 });
    const bad = ['a cat [moderated]', 'moderate-request please', 'a dog [moderated]', 'tile [nsfw] one', 'tile [nsfw] two'];
    const p = await tempProject({ 'm.yaml': manifest(['ok a', 'ok b', ...bad]), 'flux.config.yaml': config(sim) });
    cleanup = p.cleanup;
    const first = await runCli(['run', 'm.yaml'], { cwd: p.dir, env: { COMETAPI_KEY: KEY } });
    expect(first.stderr).toBe('');
    expect(first.code).toBe(1);
    expect(first.stdout).toMatch(/17 jobs: 12 generated, 0 rebuilt, 0 up to date, 5 failed/);
    expect(first.stdout).toMatch(/failures: Request Moderated 3, Content Moderated 2/);
    expect(first.stdout).toMatch(/FAILED x3:x\/3: Request Moderated: Prompt$/m);
    expect(first.stdout).toMatch(/FAILED x6:x\/6: Content Moderated: Output$/m);
    expect(await count(p.dir, 't')).toBe(10);
    expect(await count(p.dir, 'x')).toBe(2);
    const lock = await readLockEntries(path.join(p.dir, 'm.lock'));
    const failed = [...lock.values()].filter((e) => e.state === 'failed');
    expect(failed.map((e) => e.error?.kind).sort()).toEqual(['Content Moderated', 'Content Moderated', 'Request Moderated', 'Request Moderated', 'Request Moderated']);
    const lockText = await readFile(path.join(p.dir, 'm.lock'), 'utf8');

    // Default: a rerun does not retry them (no request at all) and says so; the lock is untouched.
    const before = sim.stats.submits + sim.stats.polls + sim.stats.downloads;
    const second = await runCli(['run', 'm.yaml'], { cwd: p.dir, env: { COMETAPI_KEY: KEY } });
    expect(second.code).toBe(1);
    expect(second.stdout).toMatch(/5 failed/);
    expect(second.stdout).toMatch(/rerun with --retry-failed/);
    expect(sim.stats.submits + sim.stats.polls + sim.stats.downloads).toBe(before);
    expect(await readFile(path.join(p.dir, 'm.lock'), 'utf8')).toBe(lockText);

    // --retry-failed (or retryFailed: true) sends them again.
    const paid = sim.stats.accepted;
    const third = await runCli(['run', 'm.yaml', '--retry-failed'], { cwd: p.dir, env: { COMETAPI_KEY: KEY } });
    expect(third.code).toBe(1);
    expect(sim.stats.accepted - paid).toBe(5);
    await import('node:fs/promises').then((fs) => fs.appendFile(path.join(p.dir, 'flux.config.yaml'), 'retryFailed: true\n'));
    const fourth = await runCli(['run', 'm.yaml'], { cwd: p.dir, env: { COMETAPI_KEY: KEY } });
    expect(fourth.code).toBe(1);
    expect(sim.stats.accepted - paid).toBe(10);
  }, 60_000);

  it('402 out of credits: no new submissions, in-flight tasks finish, one clear message, exit 1; after a top-up a plain rerun finishes the rest', async () => {
    // flux-dev costs 2.5 credits: room for 6 tasks.
    sim = await startSimulator({ keys: { cometapi: KEY }, latency: { fixedMs: 400 }, seed: 8, faults: { credits: 15 } });
    const p = await tempProject({ 'm.yaml': plainManifest(20), 'flux.config.yaml': config(sim, 'concurrency: 4\n') });
    cleanup = p.cleanup;
    const first = await runCli(['run', 'm.yaml'], { cwd: p.dir, env: { COMETAPI_KEY: KEY } });
    expect(first.stderr).toBe('');
    expect(first.code).toBe(1);
    expect(sim.stats.accepted).toBe(6);
    expect(await count(p.dir, 't')).toBe(6); // every task in flight at the 402 finished
    // Submits stopped at the first 402: only those already on the wire can have been refused too.
    expect(sim.stats.rejected402).toBeGreaterThanOrEqual(1);
    expect(sim.stats.rejected402).toBeLessThanOrEqual(4);
    expect(sim.stats.submits).toBe(sim.stats.accepted + sim.stats.rejected402);
    expect(first.stdout.match(/^out of credits: .*HTTP 402.*no new submissions, in-flight tasks finish$/gm)).toHaveLength(1);
    expect(first.stdout).toMatch(/failures: out of credits 14/);
    expect(first.stdout).toMatch(/ran out of credits \(402\): top up, then rerun/);
    const lock = await readLockEntries(path.join(p.dir, 'm.lock'));
    expect([...lock.values()].filter((e) => e.state === 'failed')).toEqual([]);

    sim.setFaults({}); // topped up
    const second = await runCli(['run', 'm.yaml'], { cwd: p.dir, env: { COMETAPI_KEY: KEY } });
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/14 generated/);
    expect(await count(p.dir, 't')).toBe(20);
    expect(sim.stats.accepted).toBe(20);
  }, 60_000);

  it('a task past timeouts.taskDeadlineMs fails with a clear reason, fast; the task stays in the lock and a later rerun collects it without paying again', async () => {
    sim = await startSimulator({ keys: { cometapi: KEY }, latency: { fixedMs: 2500 }, seed: 6 });
    const p = await tempProject({
      'm.yaml': plainManifest(3),
      'flux.config.yaml': config(sim, 'timeouts: { headersMs: 2000, idleMs: 2000, taskDeadlineMs: 400 }\n'),
    });
    cleanup = p.cleanup;
    const first = await runCli(['run', 'm.yaml'], { cwd: p.dir, env: { COMETAPI_KEY: KEY } });
    expect(first.code).toBe(1);
    expect(first.ms).toBeLessThan(2300);
    expect(first.stdout).toMatch(/FAILED tiles:t\/1: timed out: task [\w-]+ not ready after [\d.]+ s \(timeouts\.taskDeadlineMs: 400\)/);
    expect(first.stdout).toMatch(/failures: timed out 3/);
    const lock = await readLockEntries(path.join(p.dir, 'm.lock'));
    expect([...lock.values()].map((e) => e.state)).toEqual(['submitted', 'submitted', 'submitted']);

    await new Promise((r) => setTimeout(r, 2500 - first.ms + 100));
    const second = await runCli(['run', 'm.yaml'], { cwd: p.dir, env: { COMETAPI_KEY: KEY } });
    expect(second.code).toBe(0);
    expect(await count(p.dir, 't')).toBe(3);
    expect(sim.stats.accepted).toBe(3);
  }, 60_000);
});
