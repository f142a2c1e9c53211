// The key never leaks: with a key that is easy to spot, runs under faults with --verbose, --json
// and --debug write it to no file and no output, and it reaches only the API host (never the
// delivery host that serves result URLs). Also when a server echoes the key back in an error.
import { createServer, type Server } from 'node:http';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startSimulator, type FaultConfig, type Simulator } from '../src/sim/index.js';
import { runCli, tempProject, type CliResult, tilesManifest } from './helpers/cli.js';

const KEY = 'sk-SPOTME-7f3a9c1e5b2d4680';

const FAULTS: FaultConfig = {
  submit: { '500': 0.04, '502': 0.04, '429': 0.04, reset: 0.03, resetAfterAccept: 0.03 },
  poll: { '503': 0.05, '504': 0.05, reset: 0.05 },
  download: { truncate: 0.1, '500': 0.05 },
  errorRate: 0.05,
};

const manifest = (n: number): string =>
  tilesManifest(n, {
    prompt: 'tile {n}',
    tail: `    outputs:
      - png: {}
      - webp: { quality: 60 }
  - { name: bad, prompt: "a cat [moderated]", path: "bad" }
`,
  });

function config(url: string, provider: string): string {
  return `provider: ${provider}
baseUrl: ${url}
polling: { expectedTaskMs: 50, minIntervalMs: 20, maxIntervalMs: 200 }
retry: { baseDelayMs: 10, maxDelayMs: 100 }
`;
}

/** Every file under `dir` that contains `needle` (bytes, so binary files count too). */
async function filesContaining(dir: string, needle: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const hits: string[] = [];
  for (const e of entries.filter((x) => x.isFile())) {
    const file = path.join(e.parentPath, e.name);
    if ((await readFile(file)).includes(needle)) hits.push(path.relative(dir, file));
  }
  return hits;
}

async function expectNoKey(dir: string, r: CliResult): Promise<void> {
  expect(r.stdout).not.toContain(KEY);
  expect(r.stderr).not.toContain(KEY);
  expect(await filesContaining(dir, KEY)).toEqual([]);
}

function expectDeliveryClean(sim: Simulator): void {
  const delivery = sim.requests.filter((q) => q.role === 'delivery');
  expect(delivery.length).toBeGreaterThan(0);
  for (const q of delivery) {
    expect(q.headers['authorization']).toBeUndefined();
    expect(q.headers['x-key']).toBeUndefined();
    expect(JSON.stringify(q)).not.toContain(KEY);
  }
}

let sim: Simulator | undefined;
let server: Server | undefined;
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  await sim?.close();
  sim = undefined;
  await new Promise((r) => (server ? server.close(r) : r(undefined)));
  server = undefined;
  for (const c of cleanups.splice(0)) await c();
});

describe('the API key never leaks', () => {
  for (const provider of ['cometapi', 'bfl'] as const) {
    it(`${provider}: --verbose and --json runs under faults write the key nowhere; only the API hosts ever see it`, async () => {
      sim = await startSimulator({ keys: { [provider]: KEY }, latency: { fixedMs: 40 }, seed: 13, faults: FAULTS });
      const env = provider === 'bfl' ? { BFL_API_KEY: KEY } : { COMETAPI_KEY: KEY };
      for (const flag of ['--verbose', '--json']) {
        const p = await tempProject({ 'm.yaml': manifest(30), 'flux.config.yaml': config(sim.url, provider) });
        cleanups.push(p.cleanup);
        const r = await runCli(['run', 'm.yaml', flag, '--debug'], { cwd: p.dir, env });
        expect(r.code).toBe(1); // the moderated job (and any Error outcome)
        if (flag === '--verbose') expect(r.stdout).toMatch(/retry (submit|poll|download)/);
        expect(await readdir(path.join(p.dir, 'out/t'))).not.toHaveLength(0);
        await expectNoKey(p.dir, r);
      }
      expectDeliveryClean(sim);
      // The key was really used: the API host saw it on every submit.
      const api = sim.requests.filter((q) => q.role === 'api' && q.method === 'POST');
      const header = provider === 'bfl' ? 'x-key' : 'authorization';
      expect(api.every((q) => String(q.headers[header]).includes(KEY))).toBe(true);
    }, 60_000);
  }

  it('a server that echoes the key in its error bodies: the key is redacted from messages, the lock and the output', async () => {
    // A CometAPI look-alike that refuses every submit with 422 and quotes the Authorization header back.
    server = createServer((req, res) => {
      res.writeHead(422, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: `bad request from ${req.headers.authorization} (key ${KEY})`, code: 'invalid_request' } }));
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const p = await tempProject({ 'm.yaml': manifest(3), 'flux.config.yaml': config(url, 'cometapi') });
    cleanups.push(p.cleanup);
    for (const flag of ['--verbose', '--json']) {
      const r = await runCli(['run', 'm.yaml', flag, '--debug', '--retry-failed'], { cwd: p.dir, env: { COMETAPI_KEY: KEY } });
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(/\[REDACTED\]/);
      await expectNoKey(p.dir, r);
    }
    expect(await readFile(path.join(p.dir, 'm.lock'), 'utf8')).toMatch(/rejected by the API/);
  }, 60_000);

  it('--debug on an internal error prints a stack trace without the key', async () => {
    sim = await startSimulator({ keys: { cometapi: KEY }, latency: { fixedMs: 20 } });
    const p = await tempProject({ 'm.yaml': manifest(2), 'flux.config.yaml': config(sim.url, 'cometapi') });
    cleanups.push(p.cleanup);
    await mkdir(path.join(p.dir, 'm.lock')); // the lock path is a folder: opening the journal throws
    const r = await runCli(['run', 'm.yaml', '--debug', '--verbose'], { cwd: p.dir, env: { COMETAPI_KEY: KEY } });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/\n\s+at /); // a stack trace, as --debug promises
    await expectNoKey(p.dir, r);
  }, 30_000);
});
