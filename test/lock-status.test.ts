import { mkdtemp, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sha256 } from '../src/fs/atomic.js';
import type { LockEntry } from '../src/lock/entry.js';
import { OutputStatCache, statCachePathFor } from '../src/lock/stat-cache.js';
import { intactIds, outputsIntact } from '../src/lock/status.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fb-status-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('outputsIntact', () => {
  async function writeOutput(rel: string, content: string): Promise<LockEntry['outputs']> {
    await writeFile(join(dir, rel), content);
    return [{ path: rel, sha256: sha256(content), recipe: 'r', bytes: Buffer.byteLength(content) }];
  }
  const base = { key: 'k', model: 'm', provider: 'mock', state: 'done' } as const;

  it('checks existence, size and content', async () => {
    const outputs = await writeOutput('a.png', 'hello');
    const e: LockEntry = { ...base, id: 'a', outputs };
    expect(await outputsIntact(e, dir)).toBe(true);
    await writeFile(join(dir, 'a.png'), 'jello');
    expect(await outputsIntact(e, dir)).toBe(false);
    await writeFile(join(dir, 'a.png'), 'hello!');
    expect(await outputsIntact(e, dir)).toBe(false);
    await rm(join(dir, 'a.png'));
    expect(await outputsIntact(e, dir)).toBe(false);
    expect(await outputsIntact({ ...base, id: 'none' }, dir)).toBe(false);
  });

  it('trusts a remembered stamp, and rehashes when the stamp changes', async () => {
    const outputs = await writeOutput('b.png', 'hello');
    const e: LockEntry = { ...base, id: 'b', outputs };
    const stats = await OutputStatCache.load(statCachePathFor(join(dir, 'cache')));
    expect(await outputsIntact(e, dir, { stats })).toBe(true);
    await stats.save();
    const reloaded = await OutputStatCache.load(statCachePathFor(join(dir, 'cache')));
    // Same size, same mtime, different bytes: the stamp still catches it (ctime changed).
    const before = await stat(join(dir, 'b.png'));
    await writeFile(join(dir, 'b.png'), 'jello');
    await utimes(join(dir, 'b.png'), before.atime, before.mtime);
    expect(await outputsIntact(e, dir, { stats: reloaded })).toBe(false);
  });

  it('trusts an output mtime journalled at write time, and hashes when it differs', async () => {
    const outputs = await writeOutput('c.png', 'hello');
    const at = 1_700_000_000; // whole seconds: utimes round-trips them exactly
    await writeFile(join(dir, 'c.png'), 'jello'); // same size, different bytes
    await utimes(join(dir, 'c.png'), at, at);
    const withMtime = (mtimeMs: number): LockEntry => ({ ...base, id: 'c', outputs: [{ ...outputs![0]!, mtimeMs }] });
    expect(await outputsIntact(withMtime(at * 1000 + 1), dir)).toBe(false);
    // Same size and mtime as written: trusted without hashing (make's rule); this is the trade-off.
    expect(await outputsIntact(withMtime(at * 1000), dir)).toBe(true);
  });

  it('checks many entries', async () => {
    const entries: LockEntry[] = [];
    for (let i = 0; i < 20; i++) entries.push({ ...base, id: `j${i}`, outputs: await writeOutput(`${i}.png`, `c${i}`) });
    await rm(join(dir, '3.png'));
    const ok = await intactIds(entries, dir, { stats: OutputStatCache.inMemory() });
    expect(ok.size).toBe(19);
    expect(ok.has('j3')).toBe(false);
  });
});
