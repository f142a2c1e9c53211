// Error taxonomy (STYLE habit 6): user errors carry a stable code and a fix; ExitError means
// "already reported, exit with this code"; anything else is an internal error worth a bug report.
import type { FailureClass, InputIssue } from './types.js';

/** A problem with the user's input or environment; shown without a stack trace. */
export class UserError extends Error {
  override name = 'UserError';
  constructor(
    readonly code: string,
    message: string,
    readonly hint?: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** Input validation failed: every issue at once. Exit code 2. */
export class InvalidInputError extends UserError {
  override name = 'InvalidInputError';
  constructor(readonly issues: InputIssue[]) {
    const n = issues.filter((i) => i.severity === 'error').length;
    super('invalid-input', `${n} problem${n === 1 ? '' : 's'} found; nothing was sent or written`);
  }
}

/** Already reported to the user; exit with this code. */
export class ExitError extends Error {
  override name = 'ExitError';
  constructor(readonly exitCode: number) {
    super(`exit ${exitCode}`);
  }
}

/** An HTTP exchange that failed, with its safety class. Messages never contain the API key. */
export class HttpError extends Error {
  override name = 'HttpError';
  /** Stable machine code when one applies, e.g. `out-of-credits`, `rate-limited`, `result-expired`. */
  code?: string;
  /** A signed result URL was refused (403/404/410): the result is gone, regenerate the image. */
  expired?: boolean;
  constructor(
    message: string,
    readonly failure: FailureClass,
    readonly status?: number,
    /** Milliseconds the server asked us to wait (Retry-After), if it said. */
    readonly retryAfterMs?: number,
    /** Parsed error body, when there was one. */
    readonly body?: unknown,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
