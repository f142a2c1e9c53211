// A run killed at any moment must leave a lock that reopens with every acknowledged entry, at most a
// torn last line, and no partial file where a target should be. Uses real processes and SIGKILL.
import { execFileSync, spawn } from 'node:child_process';
import { appendFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeStaleTemps } from '../src/fs/atomic.js';
import { parseEntry } from '../src/lock/entry.js';
import { LockJournal } from '../src/lock/journal.js';
import { LOCK_HEADER } from '../src/lock/read.js';

const root = resolve(import.meta.dirname, '..');
let work: string;
let modDir: string;

// Node 20 cannot run TypeScript, so compile just the lock and fs modules for the child.
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'fb-kill-'));
  modDir = join(work, 'mod');
  const tsconfig = join(work, 'tsconfig.json');
  await writeFile(tsconfig, JSON.stringify({
    extends: join(root, 'tsconfig.json'),
    compilerOptions: {
      rootDir: join(root, 'src'),
      outDir: modDir,
      typeRoots: [join(root, 'node_modules/@types')],
      declaration: false,
      sourceMap: false,
      noEmit: false,
    },
    include: [],
    files: [join(root, 'src/lock/index.ts')],
  }));
  try {
    execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', tsconfig], { stdio: 'pipe' });
  } catch (err) {
    throw new Error(`compiling src/lock for the child failed:\n${String((err as { stdout?: Buffer }).stdout)}`);
  }
  await writeFile(join(modDir, 'package.json'), '{"type":"module"}');
}, 120_000);

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

interface Round {
  acked: Map<string, number>;
  lastSeq: number;
}

async function runAndKill(lockPath: string, target: string, start: number, killAfterMs: number): Promise<Round> {
  const child = spawn(process.execPath, [join(root, 'test/helpers/kill-writer.mjs'), modDir, lockPath, target, String(start)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const acked = new Map<string, number>();
  let lastSeq = start;
  let buffered = '';
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((res) => child.on('exit', () => res()));
  await new Promise<void>((res, rej) => {
    child.stdout.on('data', (d: Buffer) => {
      buffered += d.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) {
        if (line === 'ready') {
          setTimeout(() => child.kill('SIGKILL'), killAfterMs);
          res();
        }
        const m = /^ack (\S+) (\d+)$/.exec(line);
        if (m) {
          acked.set(m[1]!, Math.max(acked.get(m[1]!) ?? -1, Number(m[2])));
          lastSeq = Math.max(lastSeq, Number(m[2]));
        }
      }
    });
    child.on('exit', (code, signal) => rej(new Error(`child exited early (${code ?? signal}): ${stderr}`)));
  });
  await exited; // reaped: its pid is dead, so its process lock is stale
  return { acked, lastSeq };
}

describe('killed writer', () => {
  it('leaves a lock that reopens with every acknowledged entry', async () => {
    const dir = join(work, 'run');
    const lockPath = join(dir, 'sprites.lock');
    const target = join(dir, 'target.bin');
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    let start = 0;
    let totalAcks = 0;
    for (let round = 0; round < 6; round++) {
      const { acked, lastSeq } = await runAndKill(lockPath, target, start, 40 + Math.floor(Math.random() * 400));
      totalAcks += acked.size;
      start = lastSeq + 10_000; // leave room for appends in flight that were never acknowledged

      if (round % 2 === 1) {
        // Also a torn write, as a power cut would leave it: half of a line, no newline.
        const sample = (await readFile(lockPath, 'utf8')).split('\n')[1] ?? '{"id":"x"';
        await appendFile(lockPath, sample.slice(0, 1 + Math.floor(Math.random() * (sample.length - 2))));
      }
      const lines = (await readFile(lockPath, 'utf8')).split('\n');
      expect(lines[0]).toBe(LOCK_HEADER);
      const body = lines.slice(1, -1); // the part after the last newline may be torn
      for (const line of body) expect(parseEntry(line), line.slice(0, 120)).toBeDefined();

      const journal = await LockJournal.open(lockPath);
      for (const [id, seq] of acked) expect(journal.get(id)?.seed ?? -1).toBeGreaterThanOrEqual(seq);
      expect(journal.recovery.droppedLines.length).toBeLessThanOrEqual(1);
      await journal.compact();
      const compacted = (await readFile(lockPath, 'utf8')).trimEnd().split('\n');
      expect(compacted).toHaveLength(journal.size + 1);
      await journal.close();

      const content = await readFile(target, 'utf8').catch(() => undefined);
      if (content !== undefined) {
        const [len, payload] = content.split(':');
        expect(payload?.length).toBe(Number(len));
      }
      await removeStaleTemps(dir);
      expect((await readdir(dir)).filter((n) => n.endsWith('.tmp'))).toEqual([]);
    }
    expect(totalAcks).toBeGreaterThan(0);
  }, 120_000);
});
