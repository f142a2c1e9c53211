// Download verification: whole images pass, cut or foreign bytes fail, and the header reader agrees
// with sharp on every format and flavour it handles.
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { headerSize, verifyDownload } from '../src/post/verify.js';
import type { OutputFormat } from '../src/types.js';

const base = () => sharp({ create: { width: 123, height: 77, channels: 4, background: '#f80' } });
const FLAVOURS: Array<[OutputFormat, Record<string, unknown>]> = [
  ['png', {}], ['png', { palette: true }], ['jpeg', {}], ['jpeg', { progressive: true }],
  ['webp', {}], ['webp', { lossless: true }], ['gif', {}],
];

describe('verifyDownload', () => {
  it.each(FLAVOURS)('reads %s %j dimensions from the header like sharp does', async (format, options) => {
    const data = await (base() as unknown as Record<string, (o: unknown) => sharp.Sharp>)[format]!(options).toBuffer();
    expect(headerSize(data, format)).toEqual({ width: 123, height: 77 });
    await expect(verifyDownload(data, format)).resolves.toEqual({ format, width: 123, height: 77 });
  });

  it('reads an extended (VP8X) WebP with metadata', async () => {
    const data = await base().webp().withXmp('<x:xmpmeta xmlns:x="adobe:ns:meta/"/>').toBuffer();
    expect(headerSize(data, 'webp')).toEqual({ width: 123, height: 77 });
  });

  it.each(['png', 'jpeg', 'webp'] as const)('refuses a truncated %s', async (format) => {
    const data = await base()[format]().toBuffer();
    await expect(verifyDownload(data.subarray(0, data.length - 10), format)).rejects.toThrow(/truncated/);
  });

  it('refuses an HTML error page and a format other than the one asked for', async () => {
    await expect(verifyDownload(Buffer.from('<html><body>AccessDenied</body></html>'))).rejects.toThrow(/not an image/);
    const png = await base().png().toBuffer();
    await expect(verifyDownload(png, 'jpeg')).rejects.toThrow(/expected jpeg, got png/);
  });
});
