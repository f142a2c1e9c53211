// Reading a lock journal: a header line, then one JSON line per job event; the last valid line per id
// wins. A run killed mid-append leaves at most a torn last line, which is dropped and reported.
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { UserError } from '../errors.js';
import { parseEntry, type LockEntry } from './entry.js';

export const LOCK_VERSION = 1;
export const LOCK_HEADER = `{"flux-batch-lock":${LOCK_VERSION}}`;

export interface LockSnapshot {
  /** Last valid record per job id, in order of first appearance. */
  entries: Map<string, LockEntry>;
  /** 1-based line numbers that were not valid entries (torn tail, garbled). */
  droppedLines: number[];
  /** Text of invalid lines in the middle of the file (not the tail): never expected, kept for rescue. */
  garbled: string[];
  /** Bytes up to and including the last valid line; anything after it is a torn or garbled tail. */
  validBytes: number;
  totalBytes: number;
  /** False when there was no lock file (or an empty one): a first run. */
  exists: boolean;
}

/** Read a lock without taking it (plan, status, merge). A missing file is an empty lock. */
export async function readLock(lockPath: string): Promise<LockSnapshot> {
  let buf: Buffer;
  try {
    buf = await readFile(lockPath);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return emptySnapshot();
    throw err;
  }
  return parseLock(buf, lockPath);
}

export function parseLock(buf: Buffer, lockPath: string): LockSnapshot {
  if (buf.length === 0) return emptySnapshot();
  const snap: LockSnapshot = { ...emptySnapshot(), exists: true, totalBytes: buf.length };
  let start = 0;
  let lineNo = 0;
  const pendingGarbled: string[] = []; // invalid lines become `garbled` once a valid line follows them
  while (start < buf.length) {
    const nl = buf.indexOf(0x0a, start);
    const end = nl === -1 ? buf.length : nl;
    const line = buf.toString('utf8', start, end);
    lineNo++;
    if (lineNo === 1) {
      // A header without its newline: a file with no records; the journal writes it afresh.
      if (nl === -1 && line === LOCK_HEADER) return emptySnapshot();
      checkHeader(line, lockPath);
      snap.validBytes = end + 1;
    } else if (line.trim() !== '') {
      // A line without its newline is torn even if it happens to parse: the write did not finish.
      const entry = nl === -1 ? undefined : parseEntry(line);
      if (entry) {
        snap.entries.set(entry.id, entry);
        snap.validBytes = end + 1;
        snap.garbled.push(...pendingGarbled.splice(0));
      } else {
        snap.droppedLines.push(lineNo);
        pendingGarbled.push(line);
      }
    }
    start = end + 1;
  }
  return snap;
}

function checkHeader(line: string, lockPath: string): void {
  if (line === LOCK_HEADER) return;
  let version: unknown;
  try {
    version = (JSON.parse(line) as Record<string, unknown>)['flux-batch-lock'];
  } catch {
    // not JSON: not ours
  }
  if (typeof version === 'number' && version > LOCK_VERSION) {
    throw new UserError(
      'lock-version',
      `${basename(lockPath)} was written by a newer flux-batch (lock format ${version}, this one reads ${LOCK_VERSION})`,
      'upgrade flux-batch',
    );
  }
  throw new UserError(
    'lock-invalid',
    `${basename(lockPath)} is not a flux-batch lock (its first line is not ${LOCK_HEADER})`,
    `move ${lockPath} aside, or point the manifest elsewhere; flux-batch will not overwrite it`,
  );
}

function emptySnapshot(): LockSnapshot {
  return { entries: new Map(), droppedLines: [], garbled: [], validBytes: 0, totalBytes: 0, exists: false };
}
