// The offline `mock` provider.
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { createMockProvider } from '../src/providers/mock.js';
import type { Job } from '../src/types.js';

function job(request: Record<string, unknown>, key = 'k1', model = 'flux-dev'): Job {
  return { name: 'j', id: `j:${key}`, key, model, request, vars: {}, path: key, post: [], outputs: [], index: 0, source: { file: 'm.yaml' } };
}

describe('mock provider', () => {
  it('is pending for taskMs, then ready with a mock:// URL and the seed; renders the requested image', async () => {
    const p = createMockProvider({ taskMs: 60 });
    expect([p.name, p.family]).toEqual(['mock', 'mock']);
    const task = await p.submit(job({ prompt: 'knight', width: 320, height: 256, output_format: 'webp', seed: 9 }), {});
    expect(task).toMatchObject({ provider: 'mock', id: expect.stringMatching(/^mock-/) });
    expect(await p.poll(task, {})).toMatchObject({ state: 'pending' });
    await new Promise((r) => setTimeout(r, 70));
    const ready = await p.poll(task, {});
    if (ready.state !== 'ready') throw new Error(`not ready: ${ready.state}`);
    expect(ready.seed).toBe(9);
    expect(ready.urls[0]).toMatch(new RegExp(`^mock://${task.id}\\?`));
    const meta = await sharp(await p.download(ready.urls[0]!, {})).metadata();
    expect([meta.width, meta.height, meta.format]).toEqual([320, 256, 'webp']);
  });

  it('is deterministic: same key, same id, seed and bytes; picks a seed from the key when none is given', async () => {
    const a = createMockProvider({ taskMs: 0 });
    const b = createMockProvider({ taskMs: 0 });
    const ta = await a.submit(job({ prompt: 'x' }), {});
    const tb = await b.submit(job({ prompt: 'x' }), {});
    expect(tb.id).toBe(ta.id);
    const ra = await a.poll(ta, {});
    const rb = await b.poll(tb, {});
    if (ra.state !== 'ready' || rb.state !== 'ready') throw new Error('not ready');
    expect(Number.isInteger(ra.seed)).toBe(true);
    expect(rb.seed).toBe(ra.seed);
    expect((await a.download(ra.urls[0]!, {})).equals(await b.download(rb.urls[0]!, {}))).toBe(true);
    expect((await a.submit(job({ prompt: 'x' }, 'k2'), {})).id).not.toBe(ta.id);
  });

  it('resumes a task from another process through its polling URL, and moderates like the simulator', async () => {
    const first = createMockProvider({ taskMs: 0 });
    const task = await first.submit(job({ prompt: 'x', width: 256, height: 256 }), {});
    const other = createMockProvider();
    expect(await other.poll(task, {})).toMatchObject({ state: 'ready' });
    expect(await other.poll({ provider: 'mock', id: 'mock-unknown' }, {})).toMatchObject({ state: 'failed', kind: 'not-found' });
    const mod = await first.submit(job({ prompt: 'bad [moderated]' }), {});
    expect(await first.poll(mod, {})).toMatchObject({ state: 'failed', kind: 'moderated', status: 'Request Moderated' });
  });

  it('honours an aborted signal', async () => {
    const p = createMockProvider();
    const ac = new AbortController();
    ac.abort();
    await expect(p.submit(job({ prompt: 'x' }), { signal: ac.signal })).rejects.toThrow();
  });
});
