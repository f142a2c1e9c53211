// Provider factory. Keys come only from the environment (DESIGN decision 12) and are registered for
// redaction before any request can be made with them.
import { UserError } from '../errors.js';
import { DEFAULT_API_TIMEOUTS, DEFAULT_DOWNLOAD_TIMEOUTS, type DownloadOptions, type HttpTimeouts } from '../http/index.js';
import type { Provider, ProviderName } from '../types.js';
import { createBflProvider } from './bfl.js';
import { createCometApiProvider } from './cometapi.js';
import { createMockProvider } from './mock.js';
import { registerSecret } from './redact.js';
import { createReplicateProvider, type ReplicateRoute } from './replicate.js';

export interface CreateProviderOptions {
  /** Override the API base URL (simulator, proxies). */
  baseUrl?: string;
  /** Where keys are read from; default `process.env`. */
  env?: Record<string, string | undefined>;
  timeouts?: HttpTimeouts;
  download?: Omit<DownloadOptions, 'signal'>;
  /** Replicate format only. */
  route?: ReplicateRoute;
  /** Replicate format only: `Prefer: wait=N`. */
  preferWaitSeconds?: number;
  /** Mock only: simulated task duration. */
  taskMs?: number;
  /**
   * The effective run config, when the caller has one: its `timeouts` (headers/idle) apply to API
   * calls and `mock.taskMs` to the mock, unless the explicit options above say otherwise.
   */
  config?: {
    timeouts?: { headersMs: number; idleMs: number };
    mock?: { taskMs: number };
    replicate?: { route?: ReplicateRoute; preferWait?: number };
  };
}

/** The environment variable that holds each provider's key. */
export const KEY_ENV: Readonly<Record<Exclude<ProviderName, 'mock'>, string>> = {
  cometapi: 'COMETAPI_KEY',
  replicate: 'COMETAPI_KEY',
  bfl: 'BFL_API_KEY',
};

/** Request-format family: job keys are shared only within a family. */
export function providerFamily(name: ProviderName): 'bfl' | 'replicate' | 'mock' {
  switch (name) {
    case 'cometapi':
    case 'bfl':
      return 'bfl';
    case 'replicate':
      return 'replicate';
    case 'mock':
      return 'mock';
  }
}

export function createProvider(name: ProviderName, opts: CreateProviderOptions = {}): Provider {
  if (name === 'mock') {
    const taskMs = opts.taskMs ?? opts.config?.mock?.taskMs;
    return createMockProvider(taskMs === undefined ? {} : { taskMs });
  }
  const apiKey = readKey(name, opts.env ?? process.env);
  const timeouts = opts.timeouts ?? apiTimeouts(opts.config?.timeouts);
  // Result downloads honour the configured headers/idle timeouts too (a stalled CDN must not hang a slot).
  const download = opts.download ?? downloadTimeouts(opts.config?.timeouts);
  const common = {
    apiKey,
    ...(opts.baseUrl ? { baseUrl: opts.baseUrl } : {}),
    ...(timeouts ? { timeouts } : {}),
    ...(download ? { download } : {}),
  };
  switch (name) {
    case 'cometapi':
      return createCometApiProvider(common);
    case 'bfl':
      return createBflProvider(common);
    case 'replicate': {
      const route = opts.route ?? opts.config?.replicate?.route;
      const wait = opts.preferWaitSeconds ?? opts.config?.replicate?.preferWait;
      return createReplicateProvider({
        ...common,
        ...(route ? { route } : {}),
        ...(wait !== undefined ? { preferWaitSeconds: wait } : {}),
      });
    }
  }
}

function apiTimeouts(t: { headersMs: number; idleMs: number } | undefined): HttpTimeouts | undefined {
  if (!t) return undefined;
  // A total deadline keeps a trickling response from holding a slot forever.
  return { headersMs: t.headersMs, idleMs: t.idleMs, totalMs: Math.max(DEFAULT_API_TIMEOUTS.totalMs ?? 0, t.headersMs + t.idleMs) };
}

function downloadTimeouts(t: { headersMs: number; idleMs: number } | undefined): Omit<DownloadOptions, 'signal'> | undefined {
  if (!t) return undefined;
  return { timeouts: { headersMs: t.headersMs, idleMs: t.idleMs, totalMs: Math.max(DEFAULT_DOWNLOAD_TIMEOUTS.totalMs ?? 0, t.headersMs + t.idleMs) } };
}

function readKey(name: Exclude<ProviderName, 'mock'>, env: Record<string, string | undefined>): string {
  const variable = KEY_ENV[name];
  const key = env[variable]?.trim();
  if (!key) {
    throw new UserError(
      'missing-key',
      `provider ${name} needs an API key in the environment variable ${variable}`,
      `export ${variable}=… (keys are never read from files)`,
    );
  }
  registerSecret(key);
  return key;
}
