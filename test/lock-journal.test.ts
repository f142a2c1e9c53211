import { appendFile, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UserError } from '../src/errors.js';
import type { LockEntry } from '../src/lock/entry.js';
import { LockJournal, readLockEntries } from '../src/lock/journal.js';
import { lockPathFor } from '../src/lock/paths.js';
import { LOCK_HEADER, readLock } from '../src/lock/read.js';

let dir: string;
let lockPath: string;
const open: LockJournal[] = [];
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fb-lock-'));
  lockPath = join(dir, 'sprites.lock');
});
afterEach(async () => {
  for (const j of open.splice(0)) await j.close();
  await rm(dir, { recursive: true, force: true });
});

async function openJournal(path = lockPath): Promise<LockJournal> {
  const j = await LockJournal.open(path);
  open.push(j);
  return j;
}

function entry(id: string, patch: Partial<LockEntry> = {}): LockEntry {
  return { id, key: `k-${id}`, model: 'flux-dev', provider: 'mock', state: 'submitted', ...patch };
}

function done(id: string, path: string, seed = 1): LockEntry {
  return entry(id, {
    state: 'done',
    seed,
    original: { sha256: 'a'.repeat(64), ext: 'png', bytes: 10 },
    outputs: [{ path, sha256: 'b'.repeat(64), recipe: 'r', bytes: 5 }],
    cost: 0.025,
    attempts: 1,
  });
}

describe('lockPathFor', () => {
  it('replaces the extension, or appends .lock', () => {
    expect(lockPathFor('/p/sprites.yaml')).toBe('/p/sprites.lock');
    expect(lockPathFor('/p/x.yml')).toBe('/p/x.lock');
    expect(lockPathFor('/p/manifest')).toBe('/p/manifest.lock');
    expect(lockPathFor('/p/a.b.yaml')).toBe('/p/a.b.lock');
  });
});

describe('LockJournal', () => {
  it('creates a lock with a header and round-trips entries', async () => {
    const j = await openJournal();
    await j.append(entry('a', { task: { id: 't1', pollingUrl: 'https://x/poll', submittedAt: '2025-01-01T00:00:00Z' } }));
    await j.append(done('b', 'out/b.png'));
    await j.close();
    const text = await readFile(lockPath, 'utf8');
    expect(text.split('\n')[0]).toBe(LOCK_HEADER);
    const j2 = await openJournal();
    expect(j2.recovery).toEqual({ droppedLines: [], truncatedBytes: 0, rescuedTo: undefined });
    expect(j2.get('a')?.task).toEqual({ id: 't1', pollingUrl: 'https://x/poll', submittedAt: '2025-01-01T00:00:00Z' });
    expect(j2.get('b')).toMatchObject(done('b', 'out/b.png'));
    expect(j2.entries().map((e) => e.id)).toEqual(['a', 'b']);
  });

  it('takes the last record per id', async () => {
    const j = await openJournal();
    await j.append(entry('a'));
    await j.append(entry('b'));
    await j.append(entry('a', { state: 'ready', seed: 42 }));
    await j.close();
    const snap = await readLock(lockPath);
    expect(snap.entries.get('a')).toMatchObject({ state: 'ready', seed: 42 });
    expect(snap.entries.size).toBe(2);
  });

  it('drops a torn last line, reports it, and appends cleanly after it', async () => {
    const j = await openJournal();
    await j.append(entry('a'));
    await j.close();
    await appendFile(lockPath, '{"id":"b","key":"k-b","mod');
    const j2 = await openJournal();
    expect(j2.recovery.droppedLines).toEqual([3]);
    expect(j2.recovery.truncatedBytes).toBe(26);
    expect(j2.has('b')).toBe(false);
    await j2.append(entry('c'));
    await j2.close();
    const lines = (await readFile(lockPath, 'utf8')).trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    for (const l of lines) expect(() => JSON.parse(l)).not.toThrow();
  });

  it('treats a complete line that is not an entry as garbled', async () => {
    await writeFile(lockPath, `${LOCK_HEADER}\n{"id":"a","key":"k","model":"m","provider":"mock","state":"done"}\n{"id":"x"}\n`);
    const snap = await readLock(lockPath);
    expect(snap.droppedLines).toEqual([3]);
    expect(snap.garbled).toEqual([]); // at the tail: torn, not garbled
    expect([...snap.entries.keys()]).toEqual(['a']);
  });

  it('copies garbled lines from the middle aside before compaction can drop them', async () => {
    const good = '{"id":"a","key":"k","model":"m","provider":"future-api","state":"done"}';
    await writeFile(lockPath, `${LOCK_HEADER}\n${good}\nnot json\n${good.replace('"a"', '"b"')}\n`);
    const j = await openJournal();
    expect(j.recovery).toEqual({ droppedLines: [3], truncatedBytes: 0, rescuedTo: `${lockPath}.garbled` });
    expect(await readFile(`${lockPath}.garbled`, 'utf8')).toBe('not json\n');
    expect(j.size).toBe(2);
  });

  it('refuses a file that is not a lock, and one from a newer version', async () => {
    await writeFile(lockPath, 'hello\n');
    await expect(LockJournal.open(lockPath)).rejects.toThrow(/not a flux-batch lock/);
    await writeFile(lockPath, '{"flux-batch-lock":7}\n');
    await expect(LockJournal.open(lockPath)).rejects.toMatchObject({ code: 'lock-version' });
    // the failed opens released the process lock
    expect(await readdir(dir)).toEqual(['sprites.lock']);
  });

  it('serialises concurrent appends into whole lines', async () => {
    const j = await openJournal();
    await Promise.all(Array.from({ length: 500 }, (_, i) => j.append(done(`job-${i}`, `out/${i}.png`, i))));
    await j.close();
    const lines = (await readFile(lockPath, 'utf8')).trimEnd().split('\n');
    expect(lines).toHaveLength(501);
    expect((await readLock(lockPath)).entries.size).toBe(500);
  });

  it('creates the folder, and batches appends with a group-commit window', async () => {
    const j = await LockJournal.open(join(dir, 'deep/er/x.lock'), { groupCommitMs: 5 });
    open.push(j);
    await Promise.all([j.append(entry('a')), j.append(entry('b'))]);
    await j.append(entry('c'));
    await j.flush();
    expect((await readLock(join(dir, 'deep/er/x.lock'))).entries.size).toBe(3);
  });

  it('rejects invalid entries and freezes stored ones', async () => {
    const j = await openJournal();
    await expect(j.append({ ...entry('a'), state: 'nope' as never })).rejects.toThrow(TypeError);
    await j.append(entry('a'));
    expect(() => {
      (j.get('a') as { state: string }).state = 'done';
    }).toThrow();
  });

  it('compacts to a byte-stable file whatever the history', async () => {
    const first = await LockJournal.open(join(dir, 'one.lock'), { now: () => new Date(1) });
    await first.append(entry('x'));
    await first.append(done('y', 'out/a.png', 3));
    await first.append(entry('x', { state: 'ready' }));
    await first.append(done('x', 'out/b.png', 9));
    await first.append(entry('gone'));
    const second = await LockJournal.open(join(dir, 'two.lock'), { now: () => new Date(2) });
    await second.append(done('x', 'out/b.png', 9));
    await second.append(entry('y', { state: 'failed', error: { kind: 'error', reason: 'boom' } }));
    await second.append(done('y', 'out/a.png', 3));
    const keep = (id: string): boolean => id !== 'gone';
    const r1 = await first.compact({ keep });
    await second.compact({ keep });
    expect(r1).toMatchObject({ kept: 2, removed: 1 });
    await Promise.all([first.close(), second.close()]);
    const a = await readFile(join(dir, 'one.lock'), 'utf8');
    expect(a).toBe(await readFile(join(dir, 'two.lock'), 'utf8'));
    expect(a).not.toContain('updatedAt');
    expect(a.split('\n')[1]).toContain('"out/a.png"'); // sorted by output path, not id
    expect(a.split('\n')[1]).toBe(
      '{"id":"y","key":"k-y","model":"flux-dev","provider":"mock","state":"done","seed":3,' +
        `"original":{"sha256":"${'a'.repeat(64)}","ext":"png","bytes":10},` +
        `"outputs":[{"path":"out/a.png","sha256":"${'b'.repeat(64)}","recipe":"r","bytes":5}],"cost":0.025,"attempts":1}`,
    );
  });

  it('keeps appending to the compacted file, and carries unflushed appends', async () => {
    const j = await openJournal();
    await j.append(entry('a'));
    const pending = j.append(entry('b'));
    await j.compact();
    await pending;
    await j.append(entry('a', { state: 'ready' }));
    await j.close();
    const snap = await readLock(lockPath);
    expect(snap.entries.get('a')?.state).toBe('ready');
    expect(snap.entries.has('b')).toBe(true);
    expect((await readFile(lockPath, 'utf8')).trimEnd().split('\n')).toHaveLength(4);
    expect(await readdir(dir)).toEqual(['sprites.lock']);
  });

  it('journals output mtimes but drops them at compaction', async () => {
    const j = await openJournal();
    const e = done('a', 'out/a.png');
    await j.append({ ...e, outputs: e.outputs!.map((o) => ({ ...o, mtimeMs: 1234.5 })) });
    expect((await readLockEntries(lockPath)).get('a')?.outputs?.[0]?.mtimeMs).toBe(1234.5);
    expect(j.entriesMap().get('a')?.outputs?.[0]?.mtimeMs).toBe(1234.5);
    await j.compact();
    expect(await readFile(lockPath, 'utf8')).not.toContain('mtimeMs');
  });

  it('keeps unknown fields of newer writers, in a stable order', async () => {
    await writeFile(lockPath, `${LOCK_HEADER}\n{"zz":{"b":1,"a":2},"id":"a","key":"k","model":"m","provider":"mock","state":"done","aa":true}\n`);
    const j = await openJournal();
    await j.compact();
    expect((await readFile(lockPath, 'utf8')).split('\n')[1]).toBe(
      '{"id":"a","key":"k","model":"m","provider":"mock","state":"done","aa":true,"zz":{"a":2,"b":1}}',
    );
  });
});

describe('process lock', () => {
  it('lets one journal at a time use a lock', async () => {
    const j = await openJournal();
    const err = await LockJournal.open(lockPath).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).code).toBe('lock-busy');
    expect((err as UserError).message).toMatch(
      new RegExp(`^another flux-batch run \\(pid ${process.pid}\\) is using sprites.lock .*; wait for it or remove sprites.lock.pid$`),
    );
    await j.close();
    const again = await openJournal();
    expect(again.size).toBe(0);
  });

  it('takes over the lock of a dead run', async () => {
    await writeFile(`${lockPath}.pid`, `${2 ** 22 + 99}\n`);
    const j = await openJournal();
    expect(JSON.parse(await readFile(`${lockPath}.pid`, 'utf8'))).toMatchObject({ pid: process.pid });
    await j.close();
    expect(await readdir(dir)).toEqual(['sprites.lock']);
  });

  it('does not take over a lock held on another host', async () => {
    await writeFile(`${lockPath}.pid`, JSON.stringify({ pid: 1, host: 'elsewhere' }));
    await expect(LockJournal.open(lockPath)).rejects.toThrow(/pid 1 on elsewhere/);
  });
});
