// Config: cosmiconfig search from the manifest's folder upward, schema-checked, then CLI overrides.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { cosmiconfig } from 'cosmiconfig';
import { LineCounter, parseDocument } from 'yaml';
import type { InputIssue } from '../types.js';
import { DEFAULT_CONFIG, type ConfigOverrides, type FluxConfig } from './types.js';

const MODULE = 'flux-batch';
const SEARCH_PLACES = [
  'flux.config.yaml',
  'flux.config.yml',
  'flux.config.json',
  `.${MODULE}rc`,
  `.${MODULE}rc.yaml`,
  `.${MODULE}rc.yml`,
  `.${MODULE}rc.json`,
  'package.json',
];
/** Key names that look like a secret: keys come only from the environment. */
const SECRET_KEY = /^(api[_-]?key|apikey|x-key|key|token|secret|authorization|cometapi_key|bfl_api_key|password)$/i;

export interface LoadConfigOptions {
  /** Folder to search from (the manifest's). */
  searchFrom: string;
  /** An explicit file (`--config`); no search then. */
  configFile?: string;
  overrides?: ConfigOverrides;
}

export interface LoadedConfig {
  config: FluxConfig;
  /** The file it came from, if any. */
  file?: string;
  issues: InputIssue[];
}

let validator: ReturnType<Ajv['compile']> | undefined;
function getValidator() {
  if (validator) return validator;
  const schemaPath = fileURLToPath(new URL('../../schemas/config.schema.json', import.meta.url));
  const ajv = new Ajv({ allErrors: true, useDefaults: false, strict: false });
  validator = ajv.compile(JSON.parse(readFileSync(schemaPath, 'utf8')));
  return validator;
}

export async function loadConfig(opts: LoadConfigOptions): Promise<LoadedConfig> {
  const explorer = cosmiconfig(MODULE, {
    searchPlaces: SEARCH_PLACES,
    searchStrategy: 'global',
    packageProp: MODULE,
    cache: false,
  });
  let result: { config: unknown; filepath: string; isEmpty?: boolean } | null;
  try {
    result = opts.configFile ? await explorer.load(opts.configFile) : await explorer.search(opts.searchFrom);
  } catch (err) {
    const file = opts.configFile ?? opts.searchFrom;
    const e = err as NodeJS.ErrnoException & { mark?: { line: number; column: number } };
    const issue: InputIssue = {
      severity: 'error',
      code: e.code === 'ENOENT' ? 'config-missing' : 'config-syntax',
      file: e.code === 'ENOENT' ? file : (e as { filepath?: string }).filepath ?? file,
      path: '',
      message: e.code === 'ENOENT' ? `config file not found: ${file}` : `cannot read config: ${firstLine(e.message)}`,
      hint: e.code === 'ENOENT' ? 'check the --config path' : 'fix the syntax error; the file must be YAML or JSON',
    };
    return { config: applyOverrides(DEFAULT_CONFIG, opts.overrides), issues: [issue] };
  }
  if (!result || result.isEmpty || result.config == null) {
    return { config: applyOverrides(DEFAULT_CONFIG, opts.overrides), file: result?.filepath, issues: [] };
  }
  const issues = checkConfig(result.config, result.filepath);
  if (issues.length > 0) return { config: applyOverrides(DEFAULT_CONFIG, opts.overrides), file: result.filepath, issues };
  const merged = mergeConfig(DEFAULT_CONFIG, result.config as Partial<FluxConfig>);
  return { config: applyOverrides(merged, opts.overrides), file: result.filepath, issues: [] };
}

function checkConfig(raw: unknown, file: string): InputIssue[] {
  const issues: InputIssue[] = [];
  const locate = locator(file);
  if (raw && typeof raw === 'object' && !Array.isArray(raw)) {
    for (const key of Object.keys(raw)) {
      if (SECRET_KEY.test(key)) {
        issues.push({
          severity: 'error', code: 'secret-in-file', file, ...locate([key]), path: key,
          message: `\`${key}\` looks like an API key; keys are never read from files`,
          hint: 'remove it and export COMETAPI_KEY (cometapi, replicate) or BFL_API_KEY (bfl) in the environment',
        });
      }
    }
  }
  const validate = getValidator();
  if (!validate(raw)) {
    for (const err of validate.errors ?? []) {
      const segs = err.instancePath.split('/').filter(Boolean);
      if (err.keyword === 'additionalProperties') {
        const extra = (err.params as { additionalProperty: string }).additionalProperty;
        if (segs.length === 0 && SECRET_KEY.test(extra)) continue; // already reported above
        segs.push(extra);
        issues.push({
          severity: 'error', code: 'unknown-key', file, ...locate(segs), path: segs.join('.'),
          message: `unknown config key \`${extra}\``,
          hint: 'see schemas/config.schema.json for the keys flux-batch understands',
        });
        continue;
      }
      issues.push({
        severity: 'error', code: 'config-invalid', file, ...locate(segs), path: segs.join('.'),
        message: `\`${segs.join('.') || '(config)'}\` ${err.message ?? 'is invalid'}`,
        received: JSON.stringify(valueAt(raw, segs))?.slice(0, 80),
      });
    }
  }
  return issues;
}

/** Line/column of a key path in a YAML or JSON config file, when it can be found. */
function locator(file: string): (segs: string[]) => { line?: number; col?: number } {
  let doc: ReturnType<typeof parseDocument> | undefined;
  const lc = new LineCounter();
  try {
    if (path.basename(file) !== 'package.json') doc = parseDocument(readFileSync(file, 'utf8'), { lineCounter: lc });
  } catch {
    doc = undefined;
  }
  return (segs) => {
    if (!doc) return {};
    for (let n = segs.length; n > 0; n--) {
      const node = doc.getIn(segs.slice(0, n), true) as { range?: [number, number, number] } | undefined;
      const pair = findKeyNode(doc, segs.slice(0, n));
      const offset = pair ?? node?.range?.[0];
      if (offset !== undefined) {
        const pos = lc.linePos(offset);
        return { line: pos.line, col: pos.col };
      }
    }
    return {};
  };
}

function findKeyNode(doc: ReturnType<typeof parseDocument>, segs: string[]): number | undefined {
  const parent = segs.length > 1 ? doc.getIn(segs.slice(0, -1), true) : doc.contents;
  const items = (parent as { items?: Array<{ key?: { value?: unknown; range?: [number, number, number] } }> } | null)?.items;
  const key = items?.find((p) => p.key?.value === segs[segs.length - 1])?.key;
  return key?.range?.[0];
}

function valueAt(obj: unknown, segs: string[]): unknown {
  return segs.reduce<unknown>((o, s) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[s] : undefined), obj);
}

function mergeConfig(base: FluxConfig, raw: Partial<FluxConfig>): FluxConfig {
  const { $schema: _s, ...rest } = raw as Partial<FluxConfig> & { $schema?: string };
  return {
    ...base,
    ...rest,
    polling: { ...base.polling, ...rest.polling },
    retry: { ...base.retry, ...rest.retry },
    timeouts: { ...base.timeouts, ...rest.timeouts },
    downloads: { ...base.downloads, ...rest.downloads },
    mock: { ...base.mock, ...rest.mock },
  };
}

function applyOverrides(config: FluxConfig, o: ConfigOverrides = {}): FluxConfig {
  const out = { ...config };
  if (o.provider !== undefined) out.provider = o.provider;
  if (o.baseUrl !== undefined) out.baseUrl = o.baseUrl;
  if (o.concurrency !== undefined) out.concurrency = o.concurrency;
  if (o.maxJobs !== undefined) out.maxJobs = o.maxJobs;
  if (o.retryFailed !== undefined) out.retryFailed = o.retryFailed;
  return out;
}

function firstLine(s: string): string {
  return s.split('\n')[0] ?? s;
}
