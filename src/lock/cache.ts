// Content-addressed cache of originals (DESIGN decision 4), stored before sharp touches them, so
// deleted or stale outputs are rebuilt without paying again. Layout: `<dir>/<sha[0..2]>/<sha>.<ext>`.
import { readdir, readFile, rm, rmdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { removeStaleTemps, sha256, writeFileAtomic } from '../fs/atomic.js';

export interface CachedOriginal {
  sha256: string;
  path: string;
  bytes: number;
}

export interface CacheGcOptions {
  /** Report what would be removed, remove nothing. */
  dryRun?: boolean;
}

export interface CacheGcResult {
  /** Absolute paths of removed originals. */
  removed: string[];
  /** Bytes freed. */
  bytes: number;
}

const SHA_PATTERN = /^[0-9a-f]{64}$/;
const EXT_PATTERN = /^[a-z0-9]{1,10}$/;
const FILE_PATTERN = /^([0-9a-f]{64})\.([a-z0-9]{1,10})$/;

export class OriginalCache {
  constructor(readonly dir: string) {}

  pathFor(sha: string, ext: string): string {
    if (!SHA_PATTERN.test(sha)) throw new TypeError(`not a sha256 hex digest: ${JSON.stringify(sha)}`);
    if (!EXT_PATTERN.test(ext)) throw new TypeError(`not a file extension: ${JSON.stringify(ext)}`);
    return join(this.dir, sha.slice(0, 2), `${sha}.${ext}`);
  }

  /** Store an original; a no-op when an intact copy is already there. */
  async put(data: Buffer, ext: string): Promise<CachedOriginal> {
    const sha = sha256(data);
    const path = this.pathFor(sha, ext.toLowerCase());
    if (!(await sameContent(path, data))) await writeFileAtomic(path, data);
    return { sha256: sha, path, bytes: data.length };
  }

  /** Present (by name and existence; `read` verifies the content). */
  async has(sha: string, ext: string): Promise<boolean> {
    return stat(this.pathFor(sha, ext)).then((s) => s.isFile(), () => false);
  }

  /** The original's bytes, verified; a corrupt copy is deleted and reported as missing. */
  async read(sha: string, ext: string): Promise<Buffer | undefined> {
    const path = this.pathFor(sha, ext);
    let data: Buffer;
    try {
      data = await readFile(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    if (sha256(data) === sha) return data;
    await rm(path, { force: true });
    return undefined;
  }

  /** Remove originals whose sha256 is not in `keep`, leftover temps and emptied folders. Files that
   *  are not ours (other names) are left alone. */
  async gc(keep: ReadonlySet<string>, opts: CacheGcOptions = {}): Promise<CacheGcResult> {
    const result: CacheGcResult = { removed: [], bytes: 0 };
    for (const shard of await listDir(this.dir)) {
      if (!/^[0-9a-f]{2}$/.test(shard)) continue;
      const shardDir = join(this.dir, shard);
      if (!opts.dryRun) await removeStaleTemps(shardDir);
      for (const name of await listDir(shardDir)) {
        const match = FILE_PATTERN.exec(name);
        if (!match || keep.has(match[1]!)) continue;
        const file = join(shardDir, name);
        const size = await stat(file).then((s) => s.size, () => 0);
        if (!opts.dryRun) await rm(file, { force: true });
        result.removed.push(file);
        result.bytes += size;
      }
      if (!opts.dryRun) await rmdir(shardDir).catch(() => undefined); // only succeeds when empty
    }
    return result;
  }
}

async function sameContent(path: string, data: Buffer): Promise<boolean> {
  const existing = await stat(path).catch(() => undefined);
  if (existing?.size !== data.length) return false;
  return readFile(path).then((b) => b.equals(data), () => false);
}

async function listDir(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return [];
    throw err;
  }
}
