// The real providers against the simulator on 127.0.0.1: regional polling hosts, delivery host,
// and the rule that no key ever reaches a delivery URL.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBflProvider } from '../src/providers/bfl.js';
import { createCometApiProvider } from '../src/providers/cometapi.js';
import { createReplicateProvider } from '../src/providers/replicate.js';
import { startSimulator, type Simulator } from '../src/sim/index.js';
import type { Job, Provider, TaskState } from '../src/types.js';

const KEY = 'sk-SPOTME-sim-0123456789';
let sim: Simulator;

beforeAll(async () => {
  sim = await startSimulator({ latency: { fixedMs: 30 } });
});
afterAll(async () => {
  await sim?.close();
});

function job(model: string): Job {
  return {
    name: 'hero', id: `hero:${model}`, key: model, model,
    request: { prompt: 'a knight', width: 256, height: 256, seed: 3, output_format: 'png' },
    vars: {}, path: model, post: [], outputs: [], index: 0, source: { file: 'm.yaml' },
  };
}

async function runOne(provider: Provider, model: string): Promise<{ state: TaskState; bytes: Buffer }> {
  const task = await provider.submit(job(model), {});
  let state: TaskState = task.state ?? { state: 'pending', status: 'submitted' };
  for (let i = 0; i < 100 && state.state === 'pending'; i++) {
    await new Promise((r) => setTimeout(r, 20));
    state = await provider.poll(task, {});
  }
  expect(state.state).toBe('ready');
  const url = state.state === 'ready' ? state.urls[0]! : '';
  return { state, bytes: await provider.download(url, {}) };
}

function keyReachedDelivery(): boolean {
  return sim.requests.some((r) => r.role === 'delivery' && JSON.stringify(r.headers).includes(KEY));
}

describe('providers against the simulator', () => {
  it('bfl: polls the regional host, downloads without the key', async () => {
    const { bytes } = await runOne(createBflProvider({ apiKey: KEY, baseUrl: sim.url }), 'flux-dev');
    expect(bytes.length).toBeGreaterThan(0);
    expect(sim.requests.some((r) => r.role === 'region' && r.path.startsWith('/v1/get_result'))).toBe(true);
    expect(keyReachedDelivery()).toBe(false);
  });

  it('cometapi: polls /flux/v1/get_result on the API host', async () => {
    const { bytes } = await runOne(createCometApiProvider({ apiKey: KEY, baseUrl: sim.url }), 'flux-pro-1.1');
    expect(bytes.length).toBeGreaterThan(0);
    expect(sim.requests.some((r) => r.role === 'api' && r.path.startsWith('/flux/v1/get_result'))).toBe(true);
    expect(sim.requests.some((r) => r.role === 'region' && JSON.stringify(r.headers).includes(KEY) && r.headers.authorization !== undefined)).toBe(false);
    expect(keyReachedDelivery()).toBe(false);
  });

  it('replicate: both routes', async () => {
    for (const route of ['models', 'predictions'] as const) {
      // flux-1.1-pro takes width/height (as aspect_ratio "custom"); flux-schnell would refuse them.
      const { bytes } = await runOne(createReplicateProvider({ apiKey: KEY, baseUrl: sim.url, route }), 'flux-pro-1.1');
      expect(bytes.length).toBeGreaterThan(0);
    }
    expect(keyReachedDelivery()).toBe(false);
  });
});
