// Plain lines for logs and CI (not a TTY, or CI set), and `--json` newline-delimited events.
import type { Writable } from 'node:stream';
import type { RunEvent } from '../run/events.js';
import { redact } from '../providers/redact.js';

export function plainReporter(out: Writable, verbose: boolean): (e: RunEvent) => void {
  let done = 0;
  let total = 0;
  const line = (s: string) => out.write(`${redact(s)}\n`);
  return (e) => {
    switch (e.type) {
      case 'start':
        total = e.total;
        line(`flux-batch: ${e.total} jobs on ${e.provider} (submit ${e.actions.submit}, resume ${e.actions.resume}, rebuild ${e.actions.rebuild}, up to date ${e.actions.skip})`);
        return;
      case 'job':
        if (e.phase === 'done' || e.phase === 'failed' || e.phase === 'skipped' || e.phase === 'interrupted') done++;
        if (e.phase === 'done') line(`[${done}/${total}] done ${e.id} → ${(e.outputs ?? []).join(', ')}`);
        else if (e.phase === 'failed') line(`[${done}/${total}] FAILED ${e.id}: ${e.reason ?? ''}`);
        else if (verbose && e.phase !== 'generating') line(`${e.phase} ${e.id}${e.reason ? ` (${e.reason})` : ''}`);
        return;
      case 'retry':
        if (verbose || e.ambiguous) line(`retry ${e.what} ${e.id} in ${e.delayMs} ms: ${e.message}${e.ambiguous ? ' (ambiguous: may be charged twice)' : ''}`);
        return;
      case 'regenerate':
        line(`regenerate ${e.id}: ${e.reason}`);
        return;
      case 'rate-limited':
        if (verbose) line(`rate limited: in-flight window now ${e.window}`);
        return;
      case 'out-of-credits':
        line(`out of credits: ${e.message}; no new submissions, in-flight tasks finish`);
        return;
      case 'end':
        return;
    }
  };
}

export function jsonReporter(out: Writable): (e: RunEvent) => void {
  return (e) => out.write(`${redact(JSON.stringify({ ...e, time: new Date().toISOString() }))}\n`);
}
