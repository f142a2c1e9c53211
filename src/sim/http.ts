// Small node:http helpers for the simulator: body reading, JSON replies, listening, and the
// injected faults (status codes, resets, slow replies), which every route applies the same way.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RequestFaults } from './options.js';

export const MAX_BODY_BYTES = 32 * 1024 * 1024;

export class BodyTooLargeError extends Error {}

export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new BodyTooLargeError('body too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

export function sendText(res: ServerResponse, status: number, body: string, contentType: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

/** Drop the connection without a reply. */
export function resetSocket(res: ServerResponse): void {
  res.socket?.destroy();
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

export type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

export async function listen(handler: Handler, port: number): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    handler(req, res).catch((err: unknown) => {
      if (res.headersSent) res.destroy();
      else sendJson(res, 500, { detail: `simulator error: ${err instanceof Error ? err.message : String(err)}` });
    });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port: actual } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${actual}` };
}

export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** The fault (if any) drawn for one request. */
export type FaultAction =
  | { kind: 'none'; slowMs: number }
  | { kind: 'status'; status: 500 | 502 | 503 | 504 | 429; retryAfterS: number; slowMs: number }
  | { kind: 'reset' | 'resetAfterAccept' | 'truncate'; slowMs: number };

const OUTCOME_FAULTS = ['500', '502', '503', '504', '429', 'reset', 'resetAfterAccept', 'truncate'] as const;

/** Draw one request's fault: one uniform picks among the exclusive faults, another decides `slow`. */
export function drawFault(faults: RequestFaults | undefined, rand: () => number): FaultAction {
  const pick = rand();
  const slowMs = rand() < (faults?.slow ?? 0) ? (faults?.slowMs ?? 2000) : 0;
  if (!faults) return { kind: 'none', slowMs };
  let acc = 0;
  for (const name of OUTCOME_FAULTS) {
    acc += faults[name] ?? 0;
    if (pick < acc) {
      if (name === 'reset' || name === 'resetAfterAccept' || name === 'truncate') return { kind: name, slowMs };
      return { kind: 'status', status: Number(name) as 500 | 502 | 503 | 504 | 429, retryAfterS: faults.retryAfterS ?? 1, slowMs };
    }
  }
  return { kind: 'none', slowMs };
}

/** Fault name for the stats (`503`, `reset`, …), or undefined for none. */
export function faultName(action: FaultAction): string | undefined {
  if (action.kind === 'none') return undefined;
  return action.kind === 'status' ? String(action.status) : action.kind;
}

/** Gateway-style HTML for 502/504, as a proxy in front of the API would send. */
export function gatewayHtml(status: 502 | 504): string {
  const title = status === 502 ? '502 Bad Gateway' : '504 Gateway Time-out';
  return `<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n<center><h1>${title}</h1></center>\r\n</body>\r\n</html>\r\n`;
}
