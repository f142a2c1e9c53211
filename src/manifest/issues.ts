// Collects InputIssues with their source positions; one issue per (code, path, message).
import type { InputIssue } from '../types.js';
import type { Locator, Seg } from './source.js';

export interface IssueInput {
  code: string;
  path: readonly Seg[];
  message: string;
  received?: unknown;
  hint?: string;
  severity?: 'error' | 'warning';
  /** Point at the key of `path` rather than its value (unknown keys). */
  atKey?: boolean;
}

/** `jobs[1].matrix.seed[2]` from `['jobs', 1, 'matrix', 'seed', 2]`. */
export function formatPath(path: readonly Seg[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(seg)) out += out ? `.${seg}` : seg;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

/** A short display form of a received value. */
export function shorten(value: unknown, max = 60): string {
  let text: string;
  try {
    text = value === undefined ? 'nothing' : JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

export class IssueSink {
  readonly issues: InputIssue[] = [];
  private readonly seen = new Set<string>();

  constructor(
    readonly file: string,
    private locator?: Locator,
  ) {}

  setLocator(locator: Locator): void {
    this.locator = locator;
  }

  add(input: IssueInput): void {
    const path = formatPath(input.path);
    const id = `${input.code}\0${path}\0${input.message}`;
    if (this.seen.has(id)) return;
    this.seen.add(id);
    const pos = this.locator?.at(input.path, input.atKey ?? false) ?? {};
    const issue: InputIssue = {
      file: this.file,
      ...pos,
      code: input.code,
      path,
      message: input.message,
      severity: input.severity ?? 'error',
    };
    if (input.received !== undefined) issue.received = typeof input.received === 'string' ? input.received : shorten(input.received);
    if (input.hint) issue.hint = input.hint;
    this.issues.push(issue);
  }

  /** Line and column of a key path. */
  position(path: readonly Seg[]): { line?: number; col?: number } {
    return this.locator?.at(path) ?? {};
  }

  /** Adds an issue with a known position (the document could not be parsed into nodes). */
  addAt(issue: Omit<InputIssue, 'file'>): void {
    this.issues.push({ file: this.file, ...issue });
  }

  hasErrors(): boolean {
    return this.issues.some((i) => i.severity === 'error');
  }

  /** Issues in document order. */
  sorted(): InputIssue[] {
    return [...this.issues].sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.col ?? 0) - (b.col ?? 0));
  }
}
