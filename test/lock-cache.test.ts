import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sha256 } from '../src/fs/atomic.js';
import { OriginalCache } from '../src/lock/cache.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fb-cache-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('OriginalCache', () => {
  it('stores content-addressed originals in two-letter shards', async () => {
    const cache = new OriginalCache(join(dir, '.flux-cache'));
    const data = Buffer.from('png bytes');
    const put = await cache.put(data, 'png');
    expect(put).toEqual({ sha256: sha256(data), path: join(dir, '.flux-cache', put.sha256.slice(0, 2), `${put.sha256}.png`), bytes: 9 });
    expect(await cache.has(put.sha256, 'png')).toBe(true);
    expect(await cache.has(put.sha256, 'jpeg')).toBe(false);
    expect(await cache.read(put.sha256, 'png')).toEqual(data);
    expect(await cache.put(data, 'png')).toEqual(put); // no-op
  });

  it('treats a corrupt copy as missing and deletes it; put repairs it', async () => {
    const cache = new OriginalCache(dir);
    const data = Buffer.from('original');
    const { sha256: sha, path } = await cache.put(data, 'webp');
    await writeFile(path, 'Xriginal');
    expect(await cache.read(sha, 'webp')).toBeUndefined();
    expect(await cache.has(sha, 'webp')).toBe(false);
    await cache.put(data, 'webp');
    await writeFile(path, 'Xriginal');
    await cache.put(data, 'webp');
    expect(await readFile(path, 'utf8')).toBe('original');
  });

  it('rejects names that are not a digest and an extension', () => {
    const cache = new OriginalCache(dir);
    expect(() => cache.pathFor('../../etc', 'png')).toThrow(TypeError);
    expect(() => cache.pathFor('a'.repeat(64), '../x')).toThrow(TypeError);
  });

  it('gc removes unreferenced originals only', async () => {
    const cache = new OriginalCache(dir);
    const a = await cache.put(Buffer.from('a'), 'png');
    const b = await cache.put(Buffer.from('b'), 'png');
    await writeFile(join(dir, 'README'), 'not ours');
    expect(await cache.gc(new Set([a.sha256]), { dryRun: true })).toEqual({ removed: [b.path], bytes: 1 });
    expect(await cache.has(b.sha256, 'png')).toBe(true);
    const result = await cache.gc(new Set([a.sha256]));
    expect(result).toEqual({ removed: [b.path], bytes: 1 });
    expect(await cache.has(a.sha256, 'png')).toBe(true);
    expect((await readdir(dir)).sort()).toEqual(['README', a.sha256.slice(0, 2)].sort());
  });
});
