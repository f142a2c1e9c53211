// How a job ends when it does not end well: the failure types the scheduler throws between its
// stages, and how an HTTP failure is named in the summary and whether the lock records it.
import { HttpError } from '../errors.js';

/**
 * A job that cannot be finished; `reason` is what the summary groups by. `persist: false` for
 * failures that say nothing about the request itself (out of credits, a bad key, an outage that
 * outlasted every retry, a deadline): they are reported but not journalled, so the lock keeps the
 * job's last real state and a plain rerun picks it up again (resuming its task if it has one).
 */
export class JobFailure extends Error {
  constructor(readonly reason: string, readonly detail: string, readonly persist = true) {
    super(detail);
  }
}

/** The run was interrupted (Ctrl-C): the job stops where it is; its task stays in the lock. */
export class Interrupted extends Error {}

/** Only answers about the request itself stay failed on a rerun; outages and account problems do not. */
export function persistHttpFailure(err: HttpError): boolean {
  return err.code === 'invalid-request';
}

export function httpReason(err: HttpError): string {
  if (err.status === 401 || err.status === 403) return 'authentication';
  if (err.status === 422 || err.status === 400) return 'rejected by the API';
  if (err.status) return `HTTP ${err.status}`;
  return err.failure === 'ambiguous' ? 'network (ambiguous)' : 'network';
}

export function isAbort(err: unknown): boolean {
  return (err as Error)?.name === 'AbortError' || err instanceof Interrupted;
}
