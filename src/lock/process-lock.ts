// One run per lock: `<lock>.pid`, created with O_EXCL, holds the owner's pid and host. A lock whose
// process is gone (killed run) is taken over; a live one is a user error naming the pid.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { link, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { UserError } from '../errors.js';
import { isProcessAlive } from '../fs/process.js';

export interface ProcessLock {
  readonly path: string;
  release(): Promise<void>;
}

interface Owner {
  pid: number;
  host: string;
}

/** A pid file still empty after this long was left by a run killed between create and write. */
const EMPTY_GRACE_MS = 5_000;

export async function acquireProcessLock(lockPath: string): Promise<ProcessLock> {
  const pidPath = `${lockPath}.pid`;
  const me: Owner = { pid: process.pid, host: hostname() };
  for (let attempt = 0; attempt < 5; attempt++) {
    if (await tryCreate(pidPath, me)) return { path: pidPath, release: () => releaseIfOurs(pidPath, me) };
    const seen = await readOwnerFile(pidPath);
    if (seen === undefined) continue; // vanished between our create and read: try again
    if (!(await isStale(pidPath, seen.owner))) throw busyError(lockPath, pidPath, seen.owner);
    await takeOver(pidPath, seen.text, lockPath);
  }
  throw busyError(lockPath, pidPath, undefined);
}

async function tryCreate(pidPath: string, me: Owner): Promise<boolean> {
  let fh;
  try {
    fh = await open(pidPath, 'wx');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  try {
    await fh.writeFile(`${JSON.stringify({ ...me, startedAt: new Date().toISOString() })}\n`);
  } finally {
    await fh.close();
  }
  return true;
}

async function readOwnerFile(pidPath: string): Promise<{ text: string; owner?: Owner } | undefined> {
  try {
    const text = await readFile(pidPath, 'utf8');
    return { text, owner: parseOwner(text) };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

function parseOwner(text: string): Owner | undefined {
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) return { pid: Number(trimmed), host: hostname() };
  try {
    const v = JSON.parse(trimmed) as Partial<Owner>;
    if (typeof v.pid === 'number' && typeof v.host === 'string') return { pid: v.pid, host: v.host };
  } catch {
    // fall through: unreadable
  }
  return undefined;
}

async function isStale(pidPath: string, owner: Owner | undefined): Promise<boolean> {
  if (!owner) {
    // Unreadable: either a run killed mid-create, or one that is writing it right now.
    const age = await stat(pidPath).then((s) => Date.now() - s.mtimeMs, () => 0);
    return age > EMPTY_GRACE_MS;
  }
  // Another host (a shared folder): its pid means nothing here, so assume it is alive.
  if (owner.host !== hostname()) return false;
  return !isProcessAlive(owner.pid);
}

/**
 * Move the stale file aside rather than deleting it, then check that what we moved is what we judged
 * stale: if another run took it over in between, put its lock back and give way.
 */
async function takeOver(pidPath: string, staleText: string, lockPath: string): Promise<void> {
  const aside = `${pidPath}.stale.${process.pid}.${randomBytes(4).toString('hex')}`;
  try {
    await rename(pidPath, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  const moved = await readFile(aside, 'utf8').catch(() => staleText);
  if (moved !== staleText) {
    await link(aside, pidPath).catch(() => undefined);
    await rm(aside, { force: true });
    throw busyError(lockPath, pidPath, parseOwner(moved));
  }
  await rm(aside, { force: true });
}

async function releaseIfOurs(pidPath: string, me: Owner): Promise<void> {
  const seen = await readOwnerFile(pidPath);
  if (seen?.owner?.pid === me.pid && seen.owner.host === me.host) await rm(pidPath, { force: true });
}

function busyError(lockPath: string, pidPath: string, owner: Owner | undefined): UserError {
  const lockName = basename(lockPath);
  const who = owner
    ? `pid ${owner.pid}${owner.host === hostname() ? '' : ` on ${owner.host}`}`
    : 'pid unknown';
  const self = owner?.pid === process.pid && owner.host === hostname() ? ' (this process already has it open)' : '';
  return new UserError(
    'lock-busy',
    `another flux-batch run (${who}) is using ${lockName}${self}; wait for it or remove ${basename(pidPath)}`,
    `if no flux-batch run is active, delete ${pidPath} and run again`,
  );
}
