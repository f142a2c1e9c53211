// JSON-schema check (ajv, schemas/manifest.schema.json), errors mapped to InputIssues.
import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { IssueSink } from './issues.js';
import { shorten } from './issues.js';
import type { Seg } from './source.js';
import { didYouMean } from './suggest.js';

const SCHEMA_URL = new URL('../../schemas/manifest.schema.json', import.meta.url);
let compiled: ValidateFunction | undefined;

export function manifestSchema(): Record<string, unknown> {
  return JSON.parse(readFileSync(SCHEMA_URL, 'utf8')) as Record<string, unknown>;
}

/** The validator the build precompiled (scripts/postbuild.mjs), if present. */
let precompiled: ValidateFunction | undefined;
try {
  const url = new URL('../validators/manifest.js', import.meta.url);
  if (url.pathname.includes('/dist/')) precompiled = ((await import(url.href)) as { default: ValidateFunction }).default;
} catch {
  precompiled = undefined; // running from src/ (tests) or an incomplete build: compile instead
}

function validator(): ValidateFunction {
  compiled ??= precompiled ?? new Ajv({ allErrors: true, verbose: true, strict: false }).compile(manifestSchema());
  return compiled;
}

export interface SchemaResult {
  /** Top-level keys with errors under them (`defaults`, `output`, …). */
  dirtyTop: Set<string>;
  /** Indexes of jobs with errors under them. */
  dirtyJobs: Set<number>;
}

export interface SchemaCheckOptions {
  /** Paths already reported by another rule (e.g. secrets); unknown-key errors there are skipped. */
  skip: Set<string>;
}

/** Validates `data` against the manifest schema and reports each problem once, in user terms. */
export function checkSchema(data: unknown, sink: IssueSink, opts: SchemaCheckOptions): SchemaResult {
  const result: SchemaResult = { dirtyTop: new Set(), dirtyJobs: new Set() };
  const validate = validator();
  if (validate(data)) return result;
  for (const err of pruneAnyOf(validate.errors ?? [])) {
    const path = toSegments(err.instancePath, data);
    const issue = mapError(err, path);
    if (!issue) continue;
    if (issue.code === 'unknown-key' && opts.skip.has(JSON.stringify(issue.path))) continue;
    if (issue.path[0] === 'jobs' && typeof issue.path[1] === 'number') result.dirtyJobs.add(issue.path[1]);
    else if (typeof issue.path[0] === 'string') result.dirtyTop.add(issue.path[0]);
    else result.dirtyTop.add('');
    sink.add(issue);
  }
  return result;
}

/**
 * For each failed `anyOf`, keep only the errors of the branch whose type matched the value (so a
 * seed range with a typo says "unknown key `cont`"); when no branch's type matched, keep the
 * `anyOf` error alone (one "wrong type" message).
 */
function pruneAnyOf(errors: ErrorObject[]): ErrorObject[] {
  const drop = new Set<ErrorObject>();
  for (const a of errors.filter((e) => e.keyword === 'anyOf')) {
    const prefix = `${a.schemaPath}/`;
    const branches = new Map<string, ErrorObject[]>();
    for (const e of errors) {
      if (!e.schemaPath.startsWith(prefix)) continue;
      const branch = e.schemaPath.slice(prefix.length).split('/')[0] ?? '';
      branches.set(branch, [...(branches.get(branch) ?? []), e]);
    }
    const typed = [...branches.values()].find((list) => !list.some((e) => e.keyword === 'type' && e.instancePath === a.instancePath));
    for (const list of branches.values()) if (list !== typed) list.forEach((e) => drop.add(e));
    if (typed) drop.add(a);
  }
  return errors.filter((e) => !drop.has(e) && e.keyword !== 'propertyNames' && e.keyword !== 'if');
}

function toSegments(pointer: string, data: unknown): Seg[] {
  const segs: Seg[] = [];
  let cur: unknown = data;
  for (const raw of pointer.split('/').slice(1)) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    const seg: Seg = Array.isArray(cur) && /^\d+$/.test(key) ? Number(key) : key;
    segs.push(seg);
    cur = cur && typeof cur === 'object' ? (cur as Record<string, unknown>)[String(seg)] : undefined;
  }
  return segs;
}

const TYPE_NAMES: Record<string, string> = {
  integer: 'an integer',
  number: 'a number',
  string: 'a string',
  boolean: 'true or false',
  object: 'a mapping',
  array: 'a list',
  null: 'empty',
};

function typeText(t: unknown): string {
  const list = Array.isArray(t) ? t : [t];
  return list.map((x) => TYPE_NAMES[String(x)] ?? String(x)).join(' or ');
}

function where(path: readonly Seg[]): string {
  return path.length ? `\`${formatShort(path)}\`` : 'the manifest';
}
const formatShort = (path: readonly Seg[]) => path.map((s, i) => (typeof s === 'number' ? `[${s}]` : i ? `.${s}` : s)).join('');
const isSeedPath = (path: readonly Seg[]) => path.includes('seed');

type MappedIssue = Parameters<IssueSink['add']>[0] & { path: Seg[] };

function mapError(err: ErrorObject, path: Seg[]): MappedIssue | undefined {
  const p = err.params as Record<string, unknown>;
  const seed = isSeedPath(path);
  switch (err.keyword) {
    case 'additionalProperties': {
      const key = String(p.additionalProperty);
      const allowed = Object.keys((err.parentSchema?.properties as Record<string, unknown> | undefined) ?? {});
      const keyPath = [...path, key];
      return {
        code: 'unknown-key',
        path: keyPath,
        atKey: true,
        message: `unknown key \`${key}\` in ${where(path)}`,
        hint: allowed.length ? didYouMean(key, allowed) : undefined,
      };
    }
    case 'required': {
      const key = String(p.missingProperty);
      if (path.length === 0 && key === 'jobs') {
        return { code: 'no-jobs', path, message: 'the manifest has no `jobs`', hint: 'add `jobs:` with at least one job (`- name: …`)' };
      }
      return { code: 'missing-key', path, message: `${where(path)} needs \`${key}\``, hint: key === 'name' ? 'give every job a unique `name`' : undefined };
    }
    case 'type':
      return {
        code: seed ? 'seed-invalid' : 'wrong-type',
        path,
        message: `${where(path)} must be ${typeText(p.type)}, got ${shorten(err.data)}`,
        received: shorten(err.data),
      };
    case 'anyOf': {
      const types = ((err.schema as { type?: string }[] | undefined) ?? []).map((s) => (s.type === 'object' ? 'a range {from, count}' : typeText(s.type)));
      return {
        code: seed ? 'seed-invalid' : 'wrong-type',
        path,
        message: seed
          ? `seeds are integers ≥ 0 (or a list, or a range {from, count}), got ${shorten(err.data)}`
          : `${where(path)} must be ${[...new Set(types)].join(' or ')}, got ${shorten(err.data)}`,
        received: shorten(err.data),
        hint: seed ? 'seeds are integers ≥ 0: `seed: 7`, `seed: [1, 2, 3]` or `seed: {from: 100, count: 8}`' : undefined,
      };
    }
    case 'const':
      if (path.length === 1 && path[0] === 'version') {
        return {
          code: 'bad-version',
          path,
          message: `\`version\` must be 1, got ${shorten(err.data)}`,
          received: err.data,
          hint: 'this flux-batch reads manifest version 1; write `version: 1`',
        };
      }
      return { code: 'bad-value', path, message: `${where(path)} must be ${shorten(p.allowedValue)}`, received: err.data };
    case 'minItems':
      if (path.length === 1 && path[0] === 'jobs') {
        return { code: 'no-jobs', path, message: '`jobs` is empty', hint: 'add at least one job (`- name: …`)' };
      }
      return { code: seed ? 'seed-invalid' : 'empty-list', path, message: `${where(path)} is empty`, hint: 'give at least one value, or remove the key' };
    case 'minimum':
    case 'maximum':
      return {
        code: seed ? 'seed-invalid' : 'out-of-range',
        path,
        message: seed ? `seeds are integers ≥ 0, got ${shorten(err.data)}` : `${where(path)} must be ${p.comparison} ${p.limit}, got ${shorten(err.data)}`,
        received: err.data,
      };
    case 'pattern':
      if (p.propertyName !== undefined) {
        return {
          code: 'bad-variable-name',
          path: [...path, String(p.propertyName)],
          atKey: true,
          message: `\`${String(p.propertyName)}\` is not a valid variable name in ${where(path)}`,
          hint: 'use letters, digits and `_`, starting with a letter or `_`',
        };
      }
      if (path[path.length - 1] === 'name') {
        return {
          code: 'bad-name',
          path,
          message: `job name ${shorten(err.data)} may only use letters, digits, \`_\`, \`.\` and \`-\`, starting with a letter or digit`,
          received: err.data,
          hint: 'the name becomes a folder and `{job}`; pick a file-name-safe one',
        };
      }
      return { code: 'bad-value', path, message: `${where(path)} must match ${String(p.pattern)}`, received: err.data };
    case 'minProperties':
    case 'maxProperties':
      return {
        code: 'bad-post-op',
        path,
        message: `each \`post\` step is one \`operation: options\` pair, got ${shorten(err.data)}`,
        received: err.data,
        hint: 'split it into one list item per operation, e.g. `- trim: {}` then `- resize: {width: 128}`',
      };
    default:
      return { code: 'schema', path, message: `${where(path)} ${err.message ?? 'is invalid'}`, received: err.data };
  }
}
