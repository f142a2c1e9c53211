// Child process for the kill test: appends lock entries as fast as it can, rewrites one file atomically
// and compacts now and then, printing `ack <id> <seq>` once an append has resolved. The test SIGKILLs it.
// Plain JS: it imports the lock module compiled by the test (Node 20 cannot run TypeScript).
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const [modDir, lockPath, target, startArg] = process.argv.slice(2);
const { LockJournal } = await import(pathToFileURL(join(modDir, 'lock/journal.js')).href);
const { writeFileAtomic } = await import(pathToFileURL(join(modDir, 'fs/atomic.js')).href);

const journal = await LockJournal.open(lockPath);
let seq = Number(startArg);
const IDS = 300;
const IN_FLIGHT = 16;

function entry(n) {
  const id = `job-${n % IDS}`;
  return {
    id, key: `key-${n}`, model: 'flux-dev', provider: 'mock', state: n % 2 ? 'done' : 'submitted', seed: n,
    task: { id: `task-${n}`, submittedAt: '2025-01-01T00:00:00.000Z' },
    outputs: [{ path: `out/${id}.png`, sha256: 'f'.repeat(64), recipe: 'r', bytes: n }],
  };
}

async function appender() {
  for (;;) {
    const n = seq++;
    const e = entry(n);
    await journal.append(e);
    process.stdout.write(`ack ${e.id} ${n}\n`);
    if (n % 997 === 0) await journal.compact();
  }
}

async function rewriter() {
  for (let i = 0; ; i++) {
    const len = Math.floor(Math.random() * 300_000);
    await writeFileAtomic(target, `${len}:${'x'.repeat(len)}`);
  }
}

process.stdout.write('ready\n');
await Promise.all([...Array.from({ length: IN_FLIGHT }, appender), rewriter()]);
