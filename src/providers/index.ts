// Provider factory. Keys come only from the environment (DESIGN decision 12) and are registered for
// redaction before any request can be made with them.
import { UserError } from '../errors.js';
import type { DownloadOptions } from '../http/download.js';
import type { HttpTimeouts } from '../http/request.js';
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
  if (name === 'mock') return createMockProvider(opts.taskMs === undefined ? {} : { taskMs: opts.taskMs });
  const apiKey = readKey(name, opts.env ?? process.env);
  const common = {
    apiKey,
    ...(opts.baseUrl ? { baseUrl: opts.baseUrl } : {}),
    ...(opts.timeouts ? { timeouts: opts.timeouts } : {}),
    ...(opts.download ? { download: opts.download } : {}),
  };
  switch (name) {
    case 'cometapi':
      return createCometApiProvider(common);
    case 'bfl':
      return createBflProvider(common);
    case 'replicate':
      return createReplicateProvider({
        ...common,
        ...(opts.route ? { route: opts.route } : {}),
        ...(opts.preferWaitSeconds !== undefined ? { preferWaitSeconds: opts.preferWaitSeconds } : {}),
      });
  }
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
