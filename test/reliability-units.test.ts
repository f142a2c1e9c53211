// The parts the reliability e2e tests lean on, one at a time: retries by safety class, Retry-After
// (seconds and HTTP dates), the AIMD in-flight window with per-model limits, and the configured
// timeouts reaching every request (API calls and result downloads).
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpError } from '../src/errors.js';
import { makeHttpError } from '../src/http/errors.js';
import { createProvider } from '../src/providers/index.js';
import { backoffMs, withRetry, type RetryInfo, type RetryPolicy } from '../src/run/retry.js';
import { InFlightWindow } from '../src/run/window.js';
import { inFlightLimit } from '../src/models.js';
import type { Job } from '../src/types.js';

const POLICY: RetryPolicy = { maxAttempts: 4, baseDelayMs: 1, maxDelayMs: 4, ambiguousRetry: true };

function failing(errors: HttpError[], value = 'ok') {
  let calls = 0;
  const fn = async () => {
    const e = errors[calls++];
    if (e) throw e;
    return value;
  };
  return { fn, calls: () => calls };
}

const notSent = (status = 503) => makeHttpError(`HTTP ${status}`, 'not-sent', { status });
const ambiguous = () => makeHttpError('connection lost', 'ambiguous', { code: 'ECONNRESET' });
const fatal = () => makeHttpError('HTTP 422', 'fatal', { status: 422, code: 'invalid-request' });
const tooMany = (retryAfterMs?: number) => makeHttpError('HTTP 429', 'not-sent', { status: 429, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) });

describe('withRetry', () => {
  it('GETs retry transient and ambiguous failures, and give up after maxAttempts failures', async () => {
    const ok = failing([notSent(), ambiguous(), notSent(500)]);
    await expect(withRetry(ok.fn, { kind: 'get', policy: POLICY })).resolves.toBe('ok');
    expect(ok.calls()).toBe(4);
    const never = failing(Array.from({ length: 10 }, () => notSent()));
    await expect(withRetry(never.fn, { kind: 'get', policy: POLICY })).rejects.toThrow('HTTP 503');
    expect(never.calls()).toBe(4);
  });

  it('fatal answers are not retried', async () => {
    const f = failing([fatal()]);
    await expect(withRetry(f.fn, { kind: 'get', policy: POLICY })).rejects.toThrow('HTTP 422');
    expect(f.calls()).toBe(1);
  });

  it('a submit retries "not sent" failures freely; ambiguous ones only by policy, and flags them', async () => {
    const seen: RetryInfo[] = [];
    const f = failing([notSent(), tooMany(0), ambiguous()]);
    await withRetry(f.fn, { kind: 'submit', policy: POLICY, onRetry: (i) => seen.push(i) });
    expect(seen.map((i) => i.ambiguous)).toEqual([false, false, true]);

    const off = failing([ambiguous()]);
    await expect(withRetry(off.fn, { kind: 'submit', policy: { ...POLICY, ambiguousRetry: false } })).rejects.toThrow('connection lost');
    expect(off.calls()).toBe(1);
    // The same failure on a GET is just retried.
    const get = failing([ambiguous()]);
    await expect(withRetry(get.fn, { kind: 'get', policy: { ...POLICY, ambiguousRetry: false } })).resolves.toBe('ok');
  });

  it('429s wait (Retry-After when given) and do not use up the attempts: one 429 never fails a job', async () => {
    const delays: number[] = [];
    const f = failing([...Array.from({ length: 8 }, () => tooMany(3)), notSent()]);
    await expect(withRetry(f.fn, { kind: 'submit', policy: { ...POLICY, maxAttempts: 2 }, onRetry: (i) => delays.push(i.delayMs) })).resolves.toBe('ok');
    expect(delays.slice(0, 8)).toEqual(Array(8).fill(3));
  });

  it('backoff is exponential with jitter, never zero, never above the cap', () => {
    const policy = { ...POLICY, baseDelayMs: 100, maxDelayMs: 1000 };
    expect(backoffMs(1, policy, () => 0)).toBe(50);
    expect(backoffMs(1, policy, () => 1)).toBe(100);
    expect(backoffMs(3, policy, () => 0.5)).toBe(300);
    expect(backoffMs(10, policy, () => 1)).toBe(1000);
    for (let a = 1; a < 20; a++) {
      const d = backoffMs(a, policy);
      expect(d).toBeGreaterThan(0);
      expect(d).toBeLessThanOrEqual(1000);
    }
  });

  it('stops waiting when the run is interrupted', async () => {
    const ac = new AbortController();
    const f = failing([tooMany(60_000)]);
    const p = withRetry(f.fn, { kind: 'submit', policy: POLICY, signal: ac.signal });
    setTimeout(() => ac.abort(), 20);
    await expect(p).rejects.toThrow();
  });
});

// ---- over real HTTP -------------------------------------------------------------------------------

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((r) => (server ? server.close(r) : r(undefined)));
  server = undefined;
});

async function serve(handler: (path: string, res: ServerResponse) => void): Promise<string> {
  server = createServer((req, res) => handler(req.url ?? '/', res));
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const JOB: Job = {
  name: 'a', id: 'a:a', key: 'k', model: 'flux-dev', request: { prompt: 'x' }, vars: {}, path: 'a', post: [], outputs: [], index: 0, source: { file: 'm.yaml' },
};

describe('Retry-After over HTTP', () => {
  it('an HTTP-date Retry-After on a 429 submit is honoured, then the submit goes through', async () => {
    let submits = 0;
    let retryAt = 0;
    const url = await serve((_path, res) => {
      submits++;
      if (submits === 1) {
        retryAt = Math.ceil((Date.now() + 1500) / 1000) * 1000; // whole seconds, as HTTP dates are
        res.writeHead(429, { 'retry-after': new Date(retryAt).toUTCString(), 'content-type': 'application/json' });
        res.end(JSON.stringify({ detail: 'slow down' }));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: 'task-1' }));
    });
    const provider = createProvider('cometapi', { baseUrl: url, env: { COMETAPI_KEY: 'sk-unit-retry-after' } });
    const seen: RetryInfo[] = [];
    const sub = await withRetry(() => provider.submit(JOB, {}), { kind: 'submit', policy: POLICY, onRetry: (i) => seen.push(i) });
    expect(sub.id).toBe('task-1');
    expect(submits).toBe(2);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.error.status).toBe(429);
    expect(seen[0]!.delayMs).toBeGreaterThan(400); // the date, not the 1–4 ms backoff
    expect(Date.now()).toBeGreaterThanOrEqual(retryAt - 5);
  });
});

describe('configured timeouts reach every request', () => {
  const config = { timeouts: { headersMs: 150, idleMs: 150 } };

  it('API calls: a server that never answers fails the poll with a headers timeout, fast', async () => {
    const url = await serve(() => undefined); // never answers
    const provider = createProvider('cometapi', { baseUrl: url, env: { COMETAPI_KEY: 'sk-unit-timeouts' }, config });
    const t0 = Date.now();
    const err = await provider.poll({ provider: 'cometapi', id: 'x' }, {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HttpError);
    expect((err as HttpError).code).toBe('timeout-headers');
    expect(Date.now() - t0).toBeLessThan(1500);
  });

  it('downloads: a result URL that stalls mid-body fails with an idle timeout (retryable), fast', async () => {
    const url = await serve((_path, res) => {
      res.writeHead(200, { 'content-type': 'image/png', 'content-length': '1000' });
      res.write(Buffer.alloc(100)); // then nothing
    });
    const provider = createProvider('bfl', { baseUrl: url, env: { BFL_API_KEY: 'sk-unit-timeouts' }, config });
    const t0 = Date.now();
    const err = await provider.download(`${url}/sample.png`, {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HttpError);
    expect((err as HttpError).code).toBe('timeout-idle');
    expect((err as HttpError).failure).not.toBe('fatal');
    expect(Date.now() - t0).toBeLessThan(1500);
  });

  it('downloads: headers that never come fail with a headers timeout', async () => {
    const url = await serve(() => undefined);
    const provider = createProvider('cometapi', { baseUrl: url, env: { COMETAPI_KEY: 'sk-unit-timeouts' }, config });
    const err = await provider.download(`${url}/sample.png`, {}).catch((e: unknown) => e);
    expect((err as HttpError).code).toBe('timeout-headers');
  });
});

describe('InFlightWindow (AIMD)', () => {
  it('halves on a 429 at most once a second, then grows back by one slot per window of accepted submits', () => {
    let t = 10_000;
    const w = new InFlightWindow(24, () => 24, () => t);
    expect(w.size).toBe(24);
    expect(w.onRateLimited()).toBe(true);
    expect(w.size).toBe(12);
    t += 500;
    expect(w.onRateLimited()).toBe(false); // same burst
    expect(w.size).toBe(12);
    t += 600;
    expect(w.onRateLimited()).toBe(true);
    expect(w.size).toBe(6);
    for (let i = 0; i < 5; i++) w.onAccepted();
    expect(w.size).toBe(6);
    w.onAccepted();
    expect(w.size).toBe(7); // +1 after a window's worth (6) of successes
    for (let i = 0; i < 7; i++) w.onAccepted();
    expect(w.size).toBe(8);
    for (let i = 0; i < 1000; i++) w.onAccepted();
    expect(w.size).toBe(24); // never above the configured maximum
    for (let i = 0; i < 10; i++) {
      t += 1000;
      w.onRateLimited();
    }
    expect(w.size).toBe(1); // never below one
  });

  it('limits tasks in flight: the shrunk window, and 6 for flux-kontext-max under a window of 24', async () => {
    const w = new InFlightWindow(24, inFlightLimit, () => 0);
    expect(inFlightLimit('flux-kontext-max')).toBe(6);
    const active: Record<string, number> = {};
    const peak: Record<string, number> = {};
    const task = (model: string) =>
      w.run(model, async () => {
        active[model] = (active[model] ?? 0) + 1;
        peak[model] = Math.max(peak[model] ?? 0, active[model]!);
        peak.all = Math.max(peak.all ?? 0, Object.values(active).reduce((a, b) => a + b, 0));
        await new Promise((r) => setTimeout(r, 15));
        active[model]!--;
      });
    await Promise.all([...Array.from({ length: 20 }, () => task('flux-kontext-max')), ...Array.from({ length: 30 }, () => task('flux-dev'))]);
    expect(peak['flux-kontext-max']).toBe(6);
    expect(peak.all).toBe(24); // kontext tasks waiting on their own limit hold no global slot

    expect(w.onRateLimited()).toBe(true);
    expect(w.size).toBe(12);
    const seen: number[] = [];
    await Promise.all(Array.from({ length: 30 }, () => w.run('flux-dev', async () => {
      seen.push(w.active);
      await new Promise((r) => setTimeout(r, 5));
    })));
    expect(Math.max(...seen)).toBe(12);
  });
});
