// The terminal view: listr2 with one line per manifest job (its cells by phase) and an overall line
// with counts and an ETA. Only a view of scheduler events; it decides nothing.
import type { Writable } from 'node:stream';
import { Listr, type ListrTaskWrapper } from 'listr2';
import type { JobPhase, RunEvent } from '../run/events.js';
import { redact } from '../providers/redact.js';

type Wrapper = ListrTaskWrapper<unknown, never, never>;
const TERMINAL: ReadonlySet<JobPhase> = new Set(['done', 'skipped', 'failed', 'interrupted']);

interface Group {
  name: string;
  total: number;
  phases: Map<string, JobPhase>;
  task?: Wrapper;
  resolve?: () => void;
  failures: string[];
}

export interface ListrView {
  emit(e: RunEvent): void;
  /** Resolves when the view has drawn its last frame. */
  done(): Promise<void>;
}

export function listrReporter(groups: Map<string, number>, out: Writable): ListrView {
  const byName = new Map<string, Group>();
  for (const [name, total] of groups) byName.set(name, { name, total, phases: new Map(), failures: [] });
  let finished = 0;
  let total = 0;
  let started = Date.now();
  let overall: Wrapper | undefined;
  let endOverall: (() => void) | undefined;

  const title = (g: Group): string => {
    const c: Partial<Record<JobPhase, number>> = {};
    for (const p of g.phases.values()) c[p] = (c[p] ?? 0) + 1;
    const bits = (['generating', 'downloading', 'processing', 'done', 'skipped', 'failed'] as const)
      .filter((p) => c[p])
      .map((p) => `${p} ${c[p]}`);
    const queued = g.total - g.phases.size + (c.queued ?? 0) + (c.submitting ?? 0);
    if (queued > 0) bits.unshift(`queued ${queued}`);
    return `${g.name} (${g.total}): ${bits.join(', ')}`;
  };
  const eta = (): string => {
    if (finished === 0) return '';
    const rate = finished / (Date.now() - started);
    const left = Math.round((total - finished) / rate / 1000);
    return left > 0 ? `, ETA ${left < 90 ? `${left} s` : `${Math.round(left / 60)} min`}` : '';
  };

  const list = new Listr(
    [
      {
        title: 'flux-batch',
        task: (_ctx: unknown, task: Wrapper) => {
          overall = task;
          return new Promise<void>((r) => (endOverall = r));
        },
      },
      ...[...byName.values()].map((g) => ({
        title: title(g),
        task: (_ctx: unknown, task: Wrapper) => {
          g.task = task;
          return new Promise<void>((resolve, reject) => {
            g.resolve = () => (g.failures.length ? reject(new Error(redact(g.failures.slice(0, 3).join('; ')))) : resolve());
            if (g.total === 0) g.resolve();
          });
        },
      })),
    ],
    { concurrent: true, exitOnError: false, registerSignalListeners: false },
  );
  // listr2 writes to process.stdout; `out` is accepted for symmetry with the other reporters.
  void out;
  const running = list.run().catch(() => undefined);

  return {
    emit(e) {
      if (e.type === 'start') {
        total = e.total;
        started = Date.now();
        if (overall) overall.title = `flux-batch: ${e.total} jobs on ${e.provider}`;
        return;
      }
      if (e.type === 'end') {
        if (overall) overall.title = `flux-batch: ${finished}/${total} finished`;
        endOverall?.();
        for (const g of byName.values()) g.resolve?.();
        return;
      }
      if (e.type !== 'job') return;
      const g = byName.get(e.name);
      if (!g) return;
      const before = g.phases.get(e.id);
      g.phases.set(e.id, e.phase);
      if (TERMINAL.has(e.phase) && !(before && TERMINAL.has(before))) finished++;
      if (e.phase === 'failed' && e.reason) g.failures.push(`${e.id}: ${e.reason}`);
      if (g.task) g.task.title = title(g);
      if (overall) overall.title = `flux-batch: ${finished}/${total} finished${eta()}`;
      if ([...g.phases.values()].filter((p) => TERMINAL.has(p)).length === g.total) g.resolve?.();
    },
    done: () => running.then(() => undefined),
  };
}
