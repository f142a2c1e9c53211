// Simulator limits and injected faults: in-flight 429s, 402, resets, truncated downloads, task
// outcomes, and seeded reproducibility.
import { describe, expect, it } from 'vitest';
import { startSimulator, type FaultConfig, type Simulator, type SimulatorOptions } from '../src/sim/index.js';

const H = { 'x-key': 'k', 'content-type': 'application/json' };

async function withSim<T>(opts: SimulatorOptions, fn: (sim: Simulator) => Promise<T>): Promise<T> {
  const sim = await startSimulator(opts);
  try {
    return await fn(sim);
  } finally {
    await sim.close();
  }
}
const submit = (sim: Simulator, model: string, body: Record<string, unknown> = { prompt: 'x', width: 256, height: 256 }) =>
  fetch(`${sim.url}/v1/${model}`, { method: 'POST', headers: H, body: JSON.stringify(body) });

describe('in-flight limits', () => {
  it('refuses the 25th concurrent task with 429 + Retry-After, and does not charge it', async () => {
    await withSim({ latency: { fixedMs: 1500 } }, async (sim) => {
      const first = await Promise.all(Array.from({ length: 24 }, () => submit(sim, 'flux-dev')));
      expect(first.map((r) => r.status)).toEqual(Array(24).fill(200));
      const over = await submit(sim, 'flux-dev');
      expect(over.status).toBe(429);
      expect(Number(over.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect((await over.json()).detail).toMatch(/active tasks/);
      expect(sim.stats).toMatchObject({ submits: 25, accepted: 24, rejected429: 1, inFlight: 24, maxInFlightSeen: 24 });
      expect(sim.stats.perKey.k).toMatchObject({ accepted: 24, rejected429: 1, maxInFlightSeen: 24 });
      // A different key has its own budget.
      const other = await fetch(`${sim.url}/v1/flux-dev`, { method: 'POST', headers: { ...H, 'x-key': 'k2' }, body: JSON.stringify({ prompt: 'x' }) });
      expect(other.status).toBe(200);
    });
  });

  it('limits flux-kontext-max to 6 per key, and frees slots when tasks finish', async () => {
    await withSim({ latency: { fixedMs: 300 } }, async (sim) => {
      const statuses = [];
      for (let i = 0; i < 7; i++) statuses.push((await submit(sim, 'flux-kontext-max', { prompt: 'x' })).status);
      expect(statuses).toEqual([200, 200, 200, 200, 200, 200, 429]);
      expect((await submit(sim, 'flux-dev')).status).toBe(200);
      await new Promise((r) => setTimeout(r, 350));
      expect((await submit(sim, 'flux-kontext-max', { prompt: 'x' })).status).toBe(200);
      expect(sim.stats.completed).toBeGreaterThanOrEqual(7);
    });
  });

  it('answers 402 when credits are 0, and spends a credit budget', async () => {
    await withSim({ faults: { credits: 0 } }, async (sim) => {
      const res = await submit(sim, 'flux-dev');
      expect(res.status).toBe(402);
      expect(sim.stats.accepted).toBe(0);
      sim.setFaults({ credits: 5 });
      expect((await submit(sim, 'flux-dev')).status).toBe(200); // 2.5 credits
      expect((await submit(sim, 'flux-dev')).status).toBe(200);
      expect((await submit(sim, 'flux-dev')).status).toBe(402);
      expect(await (await fetch(`${sim.url}/v1/credits`, { headers: H })).json()).toEqual({ credits: 0 });
    });
  });
});

describe('request faults', () => {
  it('reset drops the connection; resetAfterAccept drops it after creating (and charging) the task', async () => {
    await withSim({ faults: { submit: { reset: 1 } } }, async (sim) => {
      await expect(submit(sim, 'flux-dev')).rejects.toThrow();
      expect(sim.stats.accepted).toBe(0);
      sim.setFaults({ submit: { resetAfterAccept: 1 } });
      await expect(submit(sim, 'flux-dev')).rejects.toThrow();
      expect(sim.stats.accepted).toBe(1);
      expect(sim.stats.faults).toMatchObject({ 'submit.reset': 1, 'submit.resetAfterAccept': 1 });
    });
  });

  it('injects status codes with the right bodies', async () => {
    await withSim({ faults: { submit: { '429': 1, retryAfterS: 3 }, poll: { '502': 1 } } }, async (sim) => {
      const res = await submit(sim, 'flux-dev');
      expect(res.status).toBe(429);
      expect(res.headers.get('retry-after')).toBe('3');
      const poll = await fetch(`${sim.url}/v1/get_result?id=x`, { headers: H });
      expect(poll.status).toBe(502);
      expect(await poll.text()).toContain('502 Bad Gateway');
      sim.setFaults({ submit: { '503': 1 } });
      const comet = await fetch(`${sim.url}/flux/v1/flux-dev`, { method: 'POST', headers: { authorization: 'Bearer c' }, body: '{"prompt":"x"}' });
      expect(comet.status).toBe(503);
      expect((await comet.json()).error.type).toBe('comet_api_error');
    });
  });

  it('truncated downloads announce the full length but deliver less', async () => {
    await withSim({ faults: { download: { truncate: 1 } } }, async (sim) => {
      const sub = await (await submit(sim, 'flux-dev')).json();
      const done = await (await fetch(sub.polling_url, { headers: H })).json();
      const res = await fetch(done.result.sample);
      expect(res.status).toBe(200);
      const expected = Number(res.headers.get('content-length'));
      let received = 0;
      await expect(
        (async () => {
          for await (const chunk of res.body!) received += (chunk as Uint8Array).length;
        })(),
      ).rejects.toThrow();
      expect(received).toBeLessThan(expected);
    });
  });

  it('slow replies are delayed', async () => {
    await withSim({ faults: { poll: { slow: 1, slowMs: 250 } } }, async (sim) => {
      const t = Date.now();
      await (await fetch(`${sim.url}/v1/get_result?id=x`, { headers: H })).json();
      expect(Date.now() - t).toBeGreaterThanOrEqual(240);
    });
  });
});

describe('task outcome faults', () => {
  it('errorRate, moderateRate and expireRate shape outcomes', async () => {
    const outcome = async (faults: FaultConfig) =>
      withSim({ faults }, async (sim) => {
        const sub = await (await submit(sim, 'flux-dev')).json();
        return (await (await fetch(sub.polling_url, { headers: H })).json()).status;
      });
    expect(await outcome({ errorRate: 1 })).toBe('Error');
    expect(await outcome({ moderateRate: 1 })).toBe('Content Moderated');
    expect(await outcome({ expireRate: 1 })).toBe('Task not found');
  });

  it('expires tasks after taskTtlMs', async () => {
    await withSim({ taskTtlMs: 100 }, async (sim) => {
      const sub = await (await submit(sim, 'flux-dev')).json();
      expect((await (await fetch(sub.polling_url, { headers: H })).json()).status).toBe('Ready');
      await new Promise((r) => setTimeout(r, 150));
      expect((await (await fetch(sub.polling_url, { headers: H })).json()).status).toBe('Task not found');
    });
  });
});

describe('seeded reproducibility', () => {
  const faults: FaultConfig = { submit: { '503': 0.2, '429': 0.1 }, poll: { '500': 0.2 }, errorRate: 0.2, moderateRate: 0.1 };
  const run = (seed: number) =>
    withSim({ seed, faults, latency: { medianMs: 20, sigma: 0.5 } }, async (sim) => {
      const trace: string[] = [];
      for (let i = 0; i < 30; i++) {
        const res = await submit(sim, 'flux-dev', { prompt: `p${i}` });
        const body = await res.json();
        trace.push(`${res.status}`);
        if (res.status === 200) {
          await new Promise((r) => setTimeout(r, 5));
          const poll = await fetch(`${sim.url}/v1/get_result?id=${body.id}`, { headers: H });
          trace.push(`${poll.status}`);
        }
      }
      const outcomes = sim.stats.tasks.map((t) => `${t.id}:${t.outcome}:${t.readyAt - t.createdAt}`);
      return { trace, outcomes };
    });

  it('the same seed gives the same run; another seed a different one', async () => {
    const a = await run(11);
    const b = await run(11);
    const c = await run(12);
    expect(b).toEqual(a);
    expect(c.trace.join()).not.toEqual(a.trace.join());
    expect(a.trace).toContain('503');
  });
});
