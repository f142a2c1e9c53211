// Atomic file writes (DESIGN decision 11): a reader, or a run killed at any moment, sees either the old
// file or the new one, never a partial target. Temps live in the target's folder so rename stays atomic.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { isProcessAlive } from './process.js';

export interface WriteFileAtomicOptions {
  /** fsync the data before the rename and the folder after it. Default true. */
  fsync?: boolean;
  /** File mode of a new file. Default 0o666 (minus umask). */
  mode?: number;
}

/** `.<base>.<pid>.<12 hex>.tmp`: the pid lets `removeStaleTemps` tell a killed run's temp from live work. */
const TEMP_PATTERN = /^\..+\.(\d+)\.[0-9a-f]{12}\.tmp$/;
/** Keep temp names under the usual 255-byte name limit even for long targets. */
const MAX_BASE_IN_TEMP = 120;

/** 48 bits: a random start per process, then a counter (unique within the process; the pid and the
 *  random start keep processes apart). Drawing 6 random bytes per write cost more than the write. */
let tempCounter = randomBytes(6).readUIntBE(0, 6);

export function tempPathFor(target: string): string {
  const base = basename(target).slice(0, MAX_BASE_IN_TEMP);
  tempCounter = (tempCounter + 1) % 0x1000000000000;
  return join(dirname(target), `.${base}.${process.pid}.${tempCounter.toString(16).padStart(12, '0')}.tmp`);
}

export async function writeFileAtomic(
  path: string,
  data: Buffer | string,
  opts: WriteFileAtomicOptions = {},
): Promise<void> {
  const fsync = opts.fsync ?? true;
  const dir = dirname(path);
  const tmp = tempPathFor(path);
  try {
    // The folder usually exists: create it only when the open says it does not (one call saved per write).
    const fh = await open(tmp, 'wx', opts.mode ?? 0o666).catch(async (err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
      await mkdir(dir, { recursive: true });
      return open(tmp, 'wx', opts.mode ?? 0o666);
    });
    try {
      await fh.writeFile(data);
      if (fsync) await fh.sync();
    } finally {
      await fh.close();
    }
    await renameWithRetry(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw err;
  }
  // The rename itself is only durable once the folder entry is on disk.
  if (fsync) await syncDir(dir);
}

/** fsync a folder; a no-op where folders cannot be opened for sync (Windows). */
export async function syncDir(dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EINVAL' && code !== 'ENOTSUP' && code !== 'EISDIR') throw err;
  } finally {
    await fh.close();
  }
}

/** Windows refuses to rename over a file that a virus scanner or indexer holds open for a moment. */
async function renameWithRetry(from: string, to: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await rename(from, to);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const transient = code === 'EPERM' || code === 'EACCES' || code === 'EBUSY';
      if (process.platform !== 'win32' || !transient || attempt >= 8) throw err;
      await new Promise((r) => setTimeout(r, 10 * 2 ** attempt));
    }
  }
}

export interface RemoveStaleTempsOptions {
  /** Also look in sub-folders. Default false. */
  recursive?: boolean;
  /** A temp older than this is stale even if its pid is alive (pid reuse). Default one hour. */
  maxAgeMs?: number;
  /** Only temps of this target file name (e.g. `sprites.lock`). */
  target?: string;
}

/**
 * Delete temps that killed runs left behind: only names `writeFileAtomic` makes, and only when their
 * writer is gone (dead pid) or they are too old to be live work. Returns the removed paths.
 */
export async function removeStaleTemps(dir: string, opts: RemoveStaleTempsOptions = {}): Promise<string[]> {
  const maxAgeMs = opts.maxAgeMs ?? 60 * 60 * 1000;
  const removed: string[] = [];
  let names;
  try {
    names = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return removed;
    throw err;
  }
  for (const entry of names) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (opts.recursive) removed.push(...(await removeStaleTemps(full, opts)));
      continue;
    }
    const match = TEMP_PATTERN.exec(entry.name);
    if (!match || !entry.isFile()) continue;
    if (opts.target !== undefined && !entry.name.startsWith(`.${opts.target.slice(0, MAX_BASE_IN_TEMP)}.`)) continue;
    if (await isStaleTemp(full, Number(match[1]), maxAgeMs)) {
      await rm(full, { force: true });
      removed.push(full);
    }
  }
  return removed;
}

async function isStaleTemp(path: string, pid: number, maxAgeMs: number): Promise<boolean> {
  if (pid !== process.pid && !isProcessAlive(pid)) return true;
  try {
    return Date.now() - (await stat(path)).mtimeMs > maxAgeMs;
  } catch {
    return false;
  }
}

export function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** sha256 (hex) of a file, read in chunks so large files do not sit in memory. One buffer sized to the
 *  file (up to 1 MiB) instead of a stream: checking thousands of small outputs is dominated by overhead. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  const fh = await open(path, 'r');
  try {
    const { size } = await fh.stat();
    const buf = Buffer.allocUnsafe(Math.min(Math.max(size + 1, 4096), 1 << 20));
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      hash.update(buf.subarray(0, bytesRead));
    }
  } finally {
    await fh.close();
  }
  return hash.digest('hex');
}
