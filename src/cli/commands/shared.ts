// What the manifest commands share: flags → project options.
import type { ConfigOverrides } from '../../config/index.js';
import type { PlanOptions, ProjectOptions } from '../../pipeline.js';
import { manifestArg, parseCommand, positiveInt, type Parsed } from '../args.js';

export const PLAN_FLAGS = {
  force: { type: 'string' },
  reroll: { type: 'string' },
  'retry-failed': { type: 'boolean' },
  'max-jobs': { type: 'string' },
} as const;

/** `--force` and `--reroll` take an optional pattern: a bare flag means every job. */
export function normalizeOptionalValues(argv: string[], names: string[]): string[] {
  return argv.map((a) => (names.includes(a.replace(/^--/, '')) && a.startsWith('--') ? `${a}=*` : a));
}

export function parseManifestCommand(argv: string[], own: Record<string, { type: 'string' | 'boolean'; short?: string }>, command: string) {
  const parsed = parseCommand(normalizeOptionalValues(argv, ['force', 'reroll']), own, command);
  return { ...parsed, manifest: manifestArg(parsed.positionals, command) };
}

export function projectOptions(p: Parsed<Record<string, unknown>> & { manifest: string }, command: string): ProjectOptions & PlanOptions {
  const overrides: ConfigOverrides = {
    provider: p.flags.provider,
    concurrency: p.flags.concurrency,
    maxJobs: positiveInt(p.values['max-jobs'], '--max-jobs', command),
    retryFailed: p.values['retry-failed'] ? true : undefined,
  };
  return {
    manifestPath: p.manifest,
    configFile: p.flags.config,
    overrides,
    force: patternFlag(p.values.force),
    reroll: patternFlag(p.values.reroll),
    retryFailed: p.values['retry-failed'] ? true : undefined,
  };
}

function patternFlag(v: unknown): string | boolean | undefined {
  if (v === undefined) return undefined;
  return v === '*' ? true : String(v);
}
