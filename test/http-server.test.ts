// Timeouts and broken connections against a real, deliberately slow server on 127.0.0.1.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpError } from '../src/errors.js';
import { downloadResult, httpRequest } from '../src/http/index.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;
const routes = new Map<string, Handler>();
let server: Server;
let base: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    const handler = routes.get(req.url ?? '');
    if (handler) handler(req, res);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  routes.set('/silent', () => {
    // Never answers: the headers timeout must fire.
  });
  routes.set('/stall', (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    res.write(Buffer.alloc(10)); // then nothing: the idle timeout must fire
  });
  routes.set('/trickle', (_req, res) => {
    // 6 chunks, 60 ms apart: longer than idleMs in total, but never idle that long.
    res.writeHead(200, { 'content-length': '60' });
    let n = 0;
    const t = setInterval(() => {
      res.write(Buffer.alloc(10, n));
      if (++n === 6) {
        clearInterval(t);
        res.end();
      }
    }, 60);
  });
  routes.set('/cut', (_req, res) => {
    res.writeHead(200, { 'content-length': '1000' });
    res.write(Buffer.alloc(400), () => res.socket?.destroy());
  });
  routes.set('/reset-before-headers', (req) => {
    req.socket.destroy();
  });
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

async function failure(p: Promise<unknown>): Promise<HttpError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(HttpError);
  return err as HttpError;
}

describe('timeouts against a slow server', () => {
  it('headers timeout → ambiguous', async () => {
    const started = Date.now();
    const err = await failure(httpRequest(`${base}/silent`, { method: 'POST', body: {}, timeouts: { headersMs: 150, idleMs: 5000 } }));
    expect(err).toMatchObject({ failure: 'ambiguous', code: 'timeout-headers' });
    expect(err.message).toMatch(/no response within 150 ms/);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('idle body timeout → ambiguous', async () => {
    const err = await failure(httpRequest(`${base}/stall`, { timeouts: { headersMs: 2000, idleMs: 150 } }));
    expect(err).toMatchObject({ failure: 'ambiguous', code: 'timeout-idle' });
    expect(err.message).toMatch(/stalled for 150 ms/);
  });

  it('the idle timer resets on every chunk', async () => {
    const res = await httpRequest(`${base}/trickle`, { timeouts: { headersMs: 2000, idleMs: 200 } });
    expect(res.body.length).toBe(60);
  });

  it('total deadline', async () => {
    const err = await failure(httpRequest(`${base}/trickle`, { timeouts: { headersMs: 2000, idleMs: 200, totalMs: 150 } }));
    expect(err.code).toBe('timeout-total');
  });
});

describe('broken connections', () => {
  it('a body cut short of Content-Length is a truncated download (retryable)', async () => {
    const err = await failure(downloadResult(`${base}/cut`, { timeouts: { headersMs: 2000, idleMs: 2000 } }));
    expect(err).toMatchObject({ failure: 'not-sent', code: 'truncated' });
    expect(err.message).toContain('truncated download: got 400 of 1000 bytes');
  });

  it('a reset after sending, before headers → ambiguous', async () => {
    const err = await failure(httpRequest(`${base}/reset-before-headers`, { method: 'POST', body: {}, timeouts: { headersMs: 2000, idleMs: 2000 } }));
    expect(err.failure).toBe('ambiguous');
  });

  it('connection refused → not-sent', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const err = await failure(httpRequest(`http://127.0.0.1:${port}/x`, { method: 'POST', body: {}, timeouts: { headersMs: 2000, idleMs: 2000 } }));
    expect(err).toMatchObject({ failure: 'not-sent', code: 'ECONNREFUSED' });
  });
});
