// runCli: parse the command, run it, turn errors into messages and an exit code. Never exits.
import { readFileSync } from 'node:fs';
import { ExitError, InvalidInputError, UserError } from '../errors.js';
import { redact } from '../providers/redact.js';
import { formatIssues } from '../report/format.js';
import { HELP } from './help.js';
import { writeLine, type CliIO } from './io.js';

export const EXIT = { ok: 0, failed: 1, invalid: 2, interrupted: 130 } as const;

type Command = (argv: string[], io: CliIO) => Promise<number>;
const COMMANDS: Record<string, () => Promise<Command>> = {
  run: async () => (await import('./commands/run.js')).runCommand,
  plan: async () => (await import('./commands/plan.js')).planCommand,
  validate: async () => (await import('./commands/validate.js')).validateCommand,
  status: async () => (await import('./commands/status.js')).statusCommand,
  gc: async () => (await import('./commands/gc.js')).gcCommand,
  export: async () => (await import('./commands/export.js')).exportCommand,
  models: async () => (await import('./commands/models.js')).modelsCommand,
  sim: async () => (await import('./commands/sim.js')).simCommand,
};

export async function runCli(argv: string[], io: CliIO): Promise<number> {
  const [name, ...rest] = argv;
  const debug = argv.includes('--debug');
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    writeLine(io.stdout, HELP.main!);
    return name ? EXIT.ok : EXIT.invalid;
  }
  if (name === '--version' || name === '-V') {
    writeLine(io.stdout, version());
    return EXIT.ok;
  }
  const load = COMMANDS[name];
  if (!load) {
    writeLine(io.stderr, `error: unknown command "${name}"\n  fix: one of ${Object.keys(COMMANDS).join(', ')}; see flux-batch --help`);
    return EXIT.invalid;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    writeLine(io.stdout, HELP[name]!);
    return EXIT.ok;
  }
  try {
    return await (await load())(rest, io);
  } catch (err) {
    return reportError(err, io, debug);
  }
}

function reportError(err: unknown, io: CliIO, debug: boolean): number {
  if (err instanceof ExitError) return err.exitCode;
  if (err instanceof InvalidInputError) {
    writeLine(io.stderr, redact(formatIssues(err.issues, io.cwd)));
    return EXIT.invalid;
  }
  if (err instanceof UserError) {
    const hint = err.hint ? `\n  fix: ${err.hint}` : '';
    writeLine(io.stderr, redact(`error: ${err.message}${hint}`));
    if (debug && err.stack) writeLine(io.stderr, redact(err.stack));
    return err.code === 'usage' || err.code.startsWith('invalid') || err.code === 'missing-key' || err.code === 'too-many-jobs' ? EXIT.invalid : EXIT.failed;
  }
  const e = err as Error;
  writeLine(io.stderr, redact(`internal error: ${e?.message ?? String(err)}`));
  writeLine(io.stderr, debug && e?.stack ? redact(e.stack) : '  this is a bug in flux-batch: rerun with --debug for the stack trace and report it');
  return EXIT.failed;
}

export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}
