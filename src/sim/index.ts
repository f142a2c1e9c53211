// The Flux API simulator: a real HTTP server on 127.0.0.1 speaking the BFL, CometAPI (/flux/v1)
// and CometAPI Replicate-format (/replicate/v1) protocols, with regional polling hosts, a delivery
// host with signed expiring URLs, in-flight limits, seeded latency and injectable faults.
// See docs/SIMULATOR.md.
import { createHash } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { sendError, type SimContext } from './context.js';
import { serveDelivery } from './delivery.js';
import { creditsFlux, deliverWebhook, pollFlux, submitFlux } from './flux-routes.js';
import { closeServer, listen, sendJson } from './http.js';
import { emptyStats, type FaultConfig, type HostRole, type RecordedRequest, type SimulatorOptions, type SimulatorStats } from './options.js';
import { createPrediction, getPrediction } from './replicate-routes.js';
import { SeededStreams } from './rng.js';
import { TaskStore } from './tasks.js';

export type { FaultConfig, HostRole, KeyStats, LatencyOptions, RecordedRequest, RequestFaults, SimulatorOptions, SimulatorStats, TaskTiming } from './options.js';
export { renderPlaceholder, setRenderCacheLimit, type PlaceholderOptions, type PlaceholderFormat } from './image.js';

export interface Simulator {
  /** Main API base, e.g. `http://127.0.0.1:PORT` (CometAPI `/flux/v1/…`, BFL `/v1/…`, `/replicate/v1/…`). */
  url: string;
  /** Regional polling hosts (`eu2`, `us1`): BFL `/v1/get_result`, `x-key` only. */
  regionUrls: string[];
  /** Delivery host serving signed, expiring result URLs. */
  deliveryUrl: string;
  /** Live counters. */
  stats: SimulatorStats;
  /** Every request received, in arrival order. */
  requests: RecordedRequest[];
  /** Replace the fault configuration (also resets the credit budget to `f.credits`). */
  setFaults(f: FaultConfig): void;
  /** Make every existing task `Task not found` and every issued result URL expired, now. */
  expireAll(): void;
  close(): Promise<void>;
}

export const REGION_NAMES = ['eu2', 'us1'] as const;
const MAX_RECORDED = 200_000;

export async function startSimulator(opts: SimulatorOptions = {}): Promise<Simulator> {
  const seed = opts.seed ?? 1;
  const stats = emptyStats();
  const streams = new SeededStreams(seed);
  const requests: RecordedRequest[] = [];
  const ctx: SimContext = {
    stats,
    streams,
    faults: opts.faults ?? {},
    creditsLeft: opts.faults?.credits,
    keys: opts.keys ?? {},
    urls: { api: '', regions: [], delivery: '' },
    resultTtlMs: opts.resultTtlMs ?? 600_000,
    urlsRevokedBefore: -Infinity,
    secret: createHash('sha256').update(`flux-batch-sim:${seed}`).digest(),
    store: undefined as unknown as TaskStore,
  };
  ctx.store = new TaskStore(
    {
      latency: opts.latency ?? { fixedMs: 0 },
      maxInFlight: opts.maxInFlight ?? 24,
      modelLimits: opts.modelLimits ?? { 'flux-kontext-max': 6 },
      taskTtlMs: opts.taskTtlMs ?? 1_800_000,
      regions: REGION_NAMES.length,
      ...(opts.unknownStatus ? { unknownStatus: opts.unknownStatus } : {}),
      faults: () => ctx.faults,
      onFinal: (task) => deliverWebhook(ctx, task),
    },
    streams,
    stats,
  );

  const record = opts.recordRequests ?? true;
  const handlerFor = (role: HostRole) => async (req: IncomingMessage, res: ServerResponse) => {
    if (record && requests.length < MAX_RECORDED) {
      requests.push({ method: req.method ?? 'GET', role, path: req.url ?? '/', headers: { ...req.headers }, time: Date.now() });
    }
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (role === 'delivery') return serveDelivery(ctx, url, req, res);
    return route(ctx, role, url, req, res);
  };

  const servers: Server[] = [];
  const api = await listen(handlerFor('api'), opts.port ?? 0);
  servers.push(api.server);
  for (const _ of REGION_NAMES) {
    const region = await listen(handlerFor('region'), 0);
    servers.push(region.server);
    ctx.urls.regions.push(region.url);
  }
  const delivery = await listen(handlerFor('delivery'), 0);
  servers.push(delivery.server);
  ctx.urls.api = api.url;
  ctx.urls.delivery = delivery.url;

  return {
    url: api.url,
    regionUrls: ctx.urls.regions,
    deliveryUrl: delivery.url,
    stats,
    requests,
    setFaults(f) {
      ctx.faults = f;
      ctx.creditsLeft = f.credits;
    },
    expireAll() {
      const now = Date.now();
      ctx.store.expireAll(now);
      ctx.urlsRevokedBefore = now;
    },
    async close() {
      ctx.store.close();
      await Promise.all(servers.map(closeServer));
    },
  };
}

async function route(ctx: SimContext, role: HostRole, url: URL, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const method = req.method ?? 'GET';
  const path = url.pathname.replace(/\/+$/, '') || '/';
  const on = (expected: string, handler: () => void | Promise<void>) => guard(method, expected, res, handler);
  if (path === '/v1/get_result') return on('GET', () => pollFlux(ctx, 'bfl', url, req, res));
  if (path === '/v1/credits') return on('GET', () => creditsFlux(ctx, req, res));
  const bflModel = /^\/v1\/([\w.-]+)$/.exec(path)?.[1];
  if (bflModel) return on('POST', () => submitFlux(ctx, 'bfl', bflModel, req, res));
  if (role !== 'api') return sendJson(res, 404, { detail: 'Not Found' });

  if (path === '/flux/v1/get_result') return on('GET', () => pollFlux(ctx, 'cometapi', url, req, res));
  const cometModel = /^\/flux\/v1\/([\w.-]+)$/.exec(path)?.[1];
  if (cometModel) return on('POST', () => submitFlux(ctx, 'cometapi', cometModel, req, res));
  const replicateModel = /^\/replicate\/v1\/models\/([\w.-]+\/[\w.-]+)\/predictions$/.exec(path)?.[1];
  if (replicateModel) return on('POST', () => createPrediction(ctx, replicateModel, req, res));
  if (path === '/replicate/v1/predictions') return on('POST', () => createPrediction(ctx, undefined, req, res));
  const pred = /^\/replicate\/v1\/predictions\/(\w+)(\/cancel)?$/.exec(path);
  if (pred) {
    const [, id = '', cancel] = pred;
    return on(cancel ? 'POST' : 'GET', () => getPrediction(ctx, id, cancel !== undefined, req, res));
  }
  if (path.startsWith('/flux/') || path.startsWith('/replicate/')) return sendError(res, 'comet', 404, `Invalid URL (${method} ${path})`, 'not_found');
  sendJson(res, 404, { detail: 'Not Found' });
}

/** Run the handler when the method matches; reply 405 otherwise. */
async function guard(method: string, expected: string, res: ServerResponse, handler: () => void | Promise<void>): Promise<void> {
  if (method === expected) return handler();
  sendJson(res, 405, { detail: 'Method Not Allowed' }, { allow: expected });
}
