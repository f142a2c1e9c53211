import { mkdtemp, readdir, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { removeStaleTemps, sha256, sha256File, tempPathFor, writeFileAtomic } from '../src/fs/atomic.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fb-fs-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('writeFileAtomic', () => {
  it('creates parent folders and replaces the target, leaving no temp', async () => {
    const target = join(dir, 'a/b/out.png');
    await writeFileAtomic(target, 'one');
    await writeFileAtomic(target, Buffer.from('two'), { fsync: false });
    expect(await readFile(target, 'utf8')).toBe('two');
    expect(await readdir(join(dir, 'a/b'))).toEqual(['out.png']);
  });

  it('removes its temp and keeps the old target when the write fails', async () => {
    const target = join(dir, 'keep.txt');
    await writeFileAtomic(target, 'old');
    const bad = { toString: () => { throw new Error('boom'); } } as unknown as string;
    await expect(writeFileAtomic(target, bad)).rejects.toThrow();
    expect(await readFile(target, 'utf8')).toBe('old');
    expect(await readdir(dir)).toEqual(['keep.txt']);
  });

  it('fails cleanly when the target is a folder', async () => {
    await mkdir(join(dir, 'x'));
    await expect(writeFileAtomic(join(dir, 'x'), 'data')).rejects.toThrow();
    expect((await readdir(dir)).sort()).toEqual(['x']);
  });

  it('names temps .<base>.<pid>.<random>.tmp in the same folder', () => {
    const t = tempPathFor(join(dir, 'sprites.lock'));
    expect(t.startsWith(join(dir, `.sprites.lock.${process.pid}.`))).toBe(true);
    expect(t).toMatch(/\.[0-9a-f]{12}\.tmp$/);
  });
});

describe('removeStaleTemps', () => {
  it('removes temps of dead writers only, and only our pattern', async () => {
    const deadPid = 2 ** 22 + 12345; // above the default pid_max
    const stale = `.img.png.${deadPid}.0123456789ab.tmp`;
    const live = `.img.png.${process.pid}.0123456789ab.tmp`;
    await mkdir(join(dir, 'sub'));
    for (const name of [stale, live, 'notes.tmp', '.hidden.tmp', 'img.png', `sub/${stale}`]) {
      await writeFile(join(dir, name), 'x');
    }
    expect(await removeStaleTemps(dir)).toEqual([join(dir, stale)]);
    expect((await readdir(dir)).sort()).toEqual(['.hidden.tmp', live, 'img.png', 'notes.tmp', 'sub'].sort());
    expect(await removeStaleTemps(dir, { recursive: true })).toEqual([join(dir, 'sub', stale)]);
    expect(await removeStaleTemps(join(dir, 'missing'))).toEqual([]);
  });

  it('can limit itself to one target name', async () => {
    const deadPid = 2 ** 22 + 1;
    await writeFile(join(dir, `.a.lock.${deadPid}.0123456789ab.tmp`), 'x');
    await writeFile(join(dir, `.b.png.${deadPid}.0123456789ab.tmp`), 'x');
    expect(await removeStaleTemps(dir, { target: 'a.lock' })).toEqual([join(dir, `.a.lock.${deadPid}.0123456789ab.tmp`)]);
  });
});

describe('sha256', () => {
  it('hashes buffers and streams files alike', async () => {
    const data = Buffer.alloc(3 << 20, 7);
    await writeFile(join(dir, 'big'), data);
    expect(await sha256File(join(dir, 'big'))).toBe(sha256(data));
    expect(sha256('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });
});
