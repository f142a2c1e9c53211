// Argument parsing with node:util parseArgs: common flags for every command, plus each command's own.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UserError } from '../errors.js';
import { PROVIDER_NAMES, type ProviderName } from '../types.js';

type Options = NonNullable<ParseArgsConfig['options']>;

export const COMMON_OPTIONS = {
  config: { type: 'string' },
  provider: { type: 'string' },
  concurrency: { type: 'string' },
  json: { type: 'boolean' },
  verbose: { type: 'boolean', short: 'v' },
  debug: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies Options;

export interface CommonFlags {
  config?: string;
  provider?: ProviderName;
  concurrency?: number;
  json: boolean;
  verbose: boolean;
  debug: boolean;
  help: boolean;
}

export interface Parsed<V> {
  flags: CommonFlags;
  values: V;
  positionals: string[];
}

export function parseCommand<O extends Options>(argv: string[], own: O, command: string): Parsed<Record<string, unknown>> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: { ...COMMON_OPTIONS, ...own }, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UserError('usage', `${command}: ${(err as Error).message}`, `see \`flux-batch ${command} --help\``);
  }
  const v = parsed.values as Record<string, unknown>;
  return { flags: commonFlags(v, command), values: v, positionals: parsed.positionals };
}

function commonFlags(v: Record<string, unknown>, command: string): CommonFlags {
  const provider = v.provider as string | undefined;
  if (provider !== undefined && !PROVIDER_NAMES.includes(provider as ProviderName)) {
    throw new UserError('usage', `--provider must be one of ${PROVIDER_NAMES.join(', ')}, got "${provider}"`);
  }
  return {
    config: v.config as string | undefined,
    provider: provider as ProviderName | undefined,
    concurrency: positiveInt(v.concurrency, '--concurrency', command),
    json: Boolean(v.json),
    verbose: Boolean(v.verbose),
    debug: Boolean(v.debug),
    help: Boolean(v.help),
  };
}

export function positiveInt(raw: unknown, flag: string, command: string): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) {
    throw new UserError('usage', `${flag} must be a whole number of at least 1, got "${String(raw)}"`, `see \`flux-batch ${command} --help\``);
  }
  return n;
}

/** The manifest argument every manifest command takes. */
export function manifestArg(positionals: string[], command: string): string {
  const [file, ...rest] = positionals;
  if (!file) throw new UserError('usage', `${command}: missing the manifest file`, `usage: flux-batch ${command} <manifest.yaml>`);
  if (rest.length > 0) throw new UserError('usage', `${command}: unexpected argument "${rest[0]}"`, `usage: flux-batch ${command} <manifest.yaml>`);
  return file;
}
