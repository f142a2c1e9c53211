import type { Writable } from 'node:stream';

/** Where a command writes, and what it knows of its surroundings. Tests pass their own. */
export interface CliIO {
  stdout: Writable;
  stderr: Writable;
  /** stdout is an interactive terminal (and CI is not set): draw the listr2 view. */
  interactive: boolean;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Aborted on the first Ctrl-C / SIGTERM. */
  signal?: AbortSignal;
}

export function writeLine(stream: Writable, text: string): void {
  stream.write(text.endsWith('\n') ? text : `${text}\n`);
}
