import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { extensionFor, inspectImage, recipeHash, sniffFormat } from '../src/post/process.js';
import type { OutputSpec, PostOp } from '../src/types.js';
import { pngClaiming, quadrants } from './fixtures/images/make.js';

const SHA = 'a'.repeat(64);

describe('sniffFormat', () => {
  it('knows each output format by its magic bytes', async () => {
    const image = sharp({ create: { width: 8, height: 8, channels: 3, background: '#123456' } });
    for (const format of ['png', 'jpeg', 'webp', 'avif', 'tiff', 'gif'] as const) {
      const data = await image.clone().toFormat(format).toBuffer();
      expect([format, sniffFormat(data)]).toEqual([format, format]);
    }
  });

  it('returns undefined for anything else, without decoding', () => {
    expect(sniffFormat(Buffer.alloc(0))).toBeUndefined();
    expect(sniffFormat(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'))).toBeUndefined();
    expect(sniffFormat(Buffer.from('BM6\u0000\u0000\u0000', 'latin1'))).toBeUndefined(); // BMP
    const heic = Buffer.concat([Buffer.from([0, 0, 0, 24]), Buffer.from('ftypheic\u0000\u0000\u0000\u0000mif1heic', 'latin1')]);
    expect(sniffFormat(heic)).toBeUndefined();
    const avif = Buffer.concat([Buffer.from([0, 0, 0, 24]), Buffer.from('ftypmif1\u0000\u0000\u0000\u0000mif1avif', 'latin1')]);
    expect(sniffFormat(avif)).toBe('avif'); // compatible brand counts
    expect(sniffFormat(Buffer.from([0x89, 0x50, 0x4e]))).toBeUndefined(); // too short
  });
});

describe('extensionFor', () => {
  it('uses the short common spellings', () => {
    expect(['png', 'jpeg', 'webp', 'avif', 'tiff', 'gif', 'jpg', 'tif'].map(extensionFor)).toEqual([
      'png', 'jpg', 'webp', 'avif', 'tif', 'gif', 'jpg', 'tif',
    ]);
    expect(() => extensionFor('bmp')).toThrow('no file extension for image format "bmp"');
  });
});

describe('inspectImage', () => {
  it('gives format and size', async () => {
    expect(await inspectImage(await quadrants(64, 32))).toEqual({ format: 'png', width: 64, height: 32 });
    expect(await inspectImage(await quadrants(64, 32, 'jpeg'))).toEqual({ format: 'jpeg', width: 64, height: 32 });
  });

  it('throws a clear error for truncated data, even when the header is intact', async () => {
    const noisy = sharp({ create: { width: 64, height: 64, channels: 3, background: '#888', noise: { type: 'gaussian', mean: 128, sigma: 30 } } });
    const png = await noisy.clone().png().toBuffer();
    const jpeg = await noisy.clone().jpeg().toBuffer();
    await expect(inspectImage(png.subarray(0, png.length / 2))).rejects.toMatchObject({
      code: 'image-undecodable',
      message: expect.stringMatching(/^png image \(64×64, \d+ bytes\) is truncated or corrupt: /),
      hint: 'download it again',
    });
    await expect(inspectImage(jpeg.subarray(0, jpeg.length / 2))).rejects.toThrow(
      /^jpeg image \(64×64, \d+ bytes\) is truncated or corrupt: .*premature end/i,
    );
  });

  it('throws a clear error for data that is not an image', async () => {
    await expect(inspectImage(Buffer.from('{"error":"Task not found"}'))).rejects.toMatchObject({
      code: 'image-undecodable',
      message: expect.stringMatching(/^not a readable image \(26 bytes, starts 7b226572726f7222\): /),
    });
    await expect(inspectImage(Buffer.alloc(0))).rejects.toThrow(/^not a readable image \(0 bytes, starts empty\)/);
  });

  it('refuses a decompression bomb from its header', async () => {
    await expect(inspectImage(pngClaiming(50_000, 50_000))).rejects.toMatchObject({ code: 'image-too-large' });
  });
});

describe('recipeHash', () => {
  const post: PostOp[] = [
    { op: 'trim', options: {} },
    { op: 'resize', options: { width: 128, height: 128, fit: 'contain' } },
  ];
  const webp: OutputSpec = { format: 'webp', options: { quality: 90, effort: 4 }, suffix: '' };

  it('is a stable sha256 hex, independent of key order and suffix', () => {
    const hash = recipeHash(SHA, post, webp);
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(recipeHash(SHA, structuredClone(post), { ...webp })).toBe(hash);
    const reordered: PostOp[] = [post[0]!, { options: { fit: 'contain', height: 128, width: 128 }, op: 'resize' }];
    expect(recipeHash(SHA, reordered, { suffix: '', options: { effort: 4, quality: 90 }, format: 'webp' })).toBe(hash);
    expect(recipeHash(SHA, post, { ...webp, suffix: '-x' })).toBe(hash);
  });

  it('changes with the original, any operation, their order, and the encoding', () => {
    const hash = recipeHash(SHA, post, webp);
    const changed = [
      recipeHash('b'.repeat(64), post, webp),
      recipeHash(SHA, [post[0]!, { op: 'resize', options: { width: 64, height: 128, fit: 'contain' } }], webp),
      recipeHash(SHA, [post[1]!, post[0]!], webp),
      recipeHash(SHA, post.slice(1), webp),
      recipeHash(SHA, post, { ...webp, options: { quality: 80, effort: 4 } }),
      recipeHash(SHA, post, { ...webp, format: 'avif' }),
      recipeHash(SHA, post, null),
      recipeHash(SHA, [], null),
    ];
    expect(new Set([hash, ...changed]).size).toBe(changed.length + 1);
  });
});
