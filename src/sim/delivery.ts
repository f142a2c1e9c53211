// The delivery host: serves signed, expiring result URLs like a cloud bucket (403 + XML when the
// signature is wrong or the URL expired), with download faults (truncated body, slow body).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { applyFault, signatureMatches, type SimContext } from './context.js';
import { delay, sendText } from './http.js';
import { renderPlaceholder } from './image.js';

const CONTENT_TYPES: Record<string, string> = { jpeg: 'image/jpeg', png: 'image/png', webp: 'image/webp' };

export async function serveDelivery(ctx: SimContext, url: URL, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    bucketError(res, 405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.');
    return;
  }
  ctx.stats.downloads++;
  const m = /^\/([^/]+)\/sample(?:-(\d+))?\.(\w+)$/.exec(url.pathname);
  const exp = Number(url.searchParams.get('exp'));
  const sig = url.searchParams.get('sig') ?? '';
  if (!m || !Number.isFinite(exp) || !signatureMatches(ctx, url.pathname, exp, sig)) {
    bucketError(res, 403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided.');
    return;
  }
  const task = ctx.store.get(m[1]!);
  const now = Date.now();
  if (!task || now > exp || task.readyAt <= ctx.urlsRevokedBefore) {
    bucketError(res, 403, 'AccessDenied', 'Request has expired');
    return;
  }
  const action = await applyFault(ctx, 'download', res, 'bfl');
  if (!action) return;
  const index = Number(m[2] ?? 0);
  const image = await renderPlaceholder({
    model: task.model,
    prompt: task.prompt,
    seed: task.seed + index,
    width: task.width,
    height: task.height,
    format: task.format,
  });
  res.writeHead(200, {
    'content-type': CONTENT_TYPES[task.format] ?? 'application/octet-stream',
    'content-length': image.length,
    'cache-control': 'private, max-age=600',
  });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  if (action.kind === 'truncate') {
    // The promised length, then about half of it, then the connection goes away.
    res.write(image.subarray(0, Math.floor(image.length / 2)), () => res.destroy());
    return;
  }
  if (action.slowMs > 0) {
    const chunks = 10;
    const step = Math.ceil(image.length / chunks);
    for (let i = 0; i < image.length && !res.destroyed; i += step) {
      res.write(image.subarray(i, i + step));
      await delay(action.slowMs / chunks);
    }
    res.end();
    return;
  }
  res.end(image);
}

function bucketError(res: ServerResponse, status: number, code: string, message: string): void {
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`;
  sendText(res, status, body, 'application/xml');
}
