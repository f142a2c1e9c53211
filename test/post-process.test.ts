import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { processImage } from '../src/post/process.js';
import type { OutputSpec, PostOp } from '../src/types.js';
import { BLUE, bordered, decode, GREEN, paint, pngClaiming, quadrants, RED, solid, WHITE } from './fixtures/images/make.js';

const p = (op: string, options?: unknown): PostOp => ({ op, options });
const out = (format: OutputSpec['format'], options: Record<string, unknown> = {}, suffix = ''): OutputSpec => ({
  format,
  options,
  suffix,
});
const lossless = [out('png')];

/** Runs post ops and returns the decoded single PNG output. */
async function run(image: Buffer, post: PostOp[]) {
  const [result] = await processImage(image, post, lossless);
  const decoded = await decode(result!.data);
  expect([decoded.width, decoded.height]).toEqual([result!.width, result!.height]);
  return decoded;
}

describe('processImage: passthrough and defaults', () => {
  it('returns the original bytes unchanged with no post and no outputs', async () => {
    const original = await quadrants(64, 32, 'jpeg');
    const [result, ...rest] = await processImage(original, [], []);
    expect(rest).toHaveLength(0);
    expect(result!.spec).toBeNull();
    expect(result!.ext).toBe('jpg');
    expect(result!.data.equals(original)).toBe(true);
    expect([result!.width, result!.height]).toEqual([64, 32]);
    expect(result!.recipe).toMatch(/^[0-9a-f]{64}$/);
  });

  it("re-encodes in the original's format when there is post but no outputs", async () => {
    const [result] = await processImage(await quadrants(64, 32, 'jpeg'), [p('resize', { width: 16 })], []);
    expect(result!.spec).toBeNull();
    expect(result!.ext).toBe('jpg');
    expect((await sharp(result!.data).metadata()).format).toBe('jpeg');
    expect([result!.width, result!.height]).toEqual([16, 8]);
  });

  it('refuses to guess a format for bytes it does not know', async () => {
    await expect(processImage(Buffer.from('not an image at all'), [], [])).rejects.toThrow(
      /original is not a PNG, JPEG, WebP, AVIF, TIFF or GIF image \(starts 6e6f7420616e2069\)/,
    );
  });
});

describe('processImage: geometry', () => {
  it('resize, extract, trim, extend', async () => {
    const q = await quadrants(64, 32);
    expect((await run(q, [p('resize', { width: 32 })])).width).toBe(32);
    const fill = await run(q, [p('resize', { width: 10, height: 40, fit: 'fill', kernel: 'nearest' })]);
    expect([fill.width, fill.height]).toEqual([10, 40]);

    const cut = await run(q, [p('extract', { left: 32, top: 0, width: 32, height: 16 })]);
    expect([cut.width, cut.height]).toEqual([32, 16]);
    expect(cut.at(5, 5)).toEqual(GREEN);

    const trimmed = await run(await bordered(20, 6), [p('trim', {})]);
    expect([trimmed.width, trimmed.height]).toEqual([20, 20]);

    const ext = await run(q, [p('extend', { top: 2, left: 3, background: '#0000ff' })]);
    expect([ext.width, ext.height]).toEqual([67, 34]);
    expect(ext.at(0, 0)).toEqual(BLUE);
  });

  it('rotate, flip, flop, affine, autoOrient', async () => {
    const q = await quadrants(64, 32); // red TL, green TR, blue BL, white BR
    const r90 = await run(q, [p('rotate', 90)]);
    expect([r90.width, r90.height]).toEqual([32, 64]);
    expect(r90.at(31, 0)).toEqual(RED); // top-left went to top-right
    const r45 = await run(q, [p('rotate', { angle: 45, background: '#00ff00' })]);
    expect(r45.width).toBeGreaterThan(64);
    expect(r45.at(0, 0)).toEqual(GREEN);
    expect((await run(q, [p('flip')])).at(0, 0)).toEqual(BLUE);
    expect((await run(q, [p('flop', true)])).at(0, 0)).toEqual(GREEN);
    expect((await run(q, [p('flop', false)])).at(0, 0)).toEqual(RED);
    const wide = await run(q, [p('affine', [2, 0, 0, 1])]);
    expect([wide.width, wide.height]).toEqual([128, 32]);

    const sideways = await sharp(q).withMetadata({ orientation: 6 }).jpeg().toBuffer();
    const upright = await run(sideways, [p('autoOrient'), p('resize', { height: 32 })]);
    expect([upright.width, upright.height]).toEqual([16, 32]);
  });

  it('applies operations in manifest order, not sharp pipeline order', async () => {
    // In one sharp pipeline trim runs before extend, and only the last resize counts.
    const q = await quadrants(64, 32);
    const extendThenTrim = await run(q, [p('extend', { top: 5, bottom: 5, background: '#ffffff' }), p('trim', {})]);
    expect(extendThenTrim.height).toBeLessThan(42);
    const twice = await run(q, [p('resize', { width: 32 }), p('resize', { height: 4 })]);
    expect([twice.width, twice.height]).toEqual([8, 4]);
    const rotateThenResize = await run(q, [p('rotate', 90), p('resize', { width: 16, height: 8, fit: 'fill' })]);
    expect([rotateThenResize.width, rotateThenResize.height]).toEqual([16, 8]);
    const resizeThenRotate = await run(q, [p('resize', { width: 16, height: 8, fit: 'fill' }), p('rotate', 90)]);
    expect([resizeThenRotate.width, resizeThenRotate.height]).toEqual([8, 16]);
  });
});

describe('processImage: colour and channels', () => {
  it('greyscale, tint, modulate, negate, linear, threshold, gamma', async () => {
    const q = await quadrants(64, 32);
    const grey = await run(q, [p('greyscale')]);
    const [r, g, b, a] = grey.at(0, 0);
    expect([g, b, a]).toEqual([r, r, 255]);
    expect(r).toBeLessThan(128); // red is dark in luminance
    expect(grey.at(63, 31)[0]).toBe(255);
    // Transparency survives greyscale (sharp's raw output would keep only the grey band).
    const ghost = await run(await solid(4, 4, [0, 0, 255, 64]), [p('greyscale'), p('flip')]);
    expect(ghost.at(0, 0)[3]).toBe(64);
    expect((await run(q, [p('grayscale', false)])).at(0, 0).slice(0, 3)).toEqual([255, 0, 0]);
    const tinted = await run(await solid(8, 8, [128, 128, 128, 255]), [p('tint', '#0000ff')]);
    expect(tinted.at(0, 0)[2]!).toBeGreaterThan(tinted.at(0, 0)[0]!);
    const darker = await run(await solid(8, 8, [200, 200, 200, 255]), [p('modulate', { brightness: 0.5 })]);
    expect(darker.at(0, 0)[0]!).toBeLessThan(150);
    expect((await run(q, [p('negate', { alpha: false })])).at(0, 0).slice(0, 3)).toEqual([0, 255, 255]);
    expect((await run(await solid(4, 4, [100, 100, 100, 255]), [p('linear', { a: 2, b: 10 })])).at(0, 0)[0]).toBe(210);
    expect((await run(await solid(4, 4, [100, 100, 100, 255]), [p('threshold', 90)])).at(0, 0)[0]).toBe(255);
    expect((await run(await solid(4, 4, [100, 100, 100, 255]), [p('threshold', 110)])).at(0, 0)[0]).toBe(0);
    const gamma = await run(await solid(4, 4, [100, 100, 100, 255]), [p('gamma', 3)]);
    expect(gamma.at(0, 0)[0]).not.toBe(100);
  });

  it('normalise, clahe', async () => {
    const dull = sharp(paint(32, 32, (x) => [100 + x, 100 + x, 100 + x, 255]), { raw: { width: 32, height: 32, channels: 4 } });
    const image = await dull.png().toBuffer();
    const stretched = await run(image, [p('normalise')]);
    expect(stretched.at(31, 0)[0]! - stretched.at(0, 0)[0]!).toBeGreaterThan(100);
    const alias = await run(image, [p('normalize', { lower: 1, upper: 99 })]);
    expect(alias.at(31, 0)[0]! - alias.at(0, 0)[0]!).toBeGreaterThan(100);
    const local = await run(image, [p('clahe', { width: 8, height: 8, maxSlope: 10 })]);
    expect(local.data.equals((await decode(image)).data)).toBe(false);
  });

  it('flatten, unflatten, removeAlpha, ensureAlpha', async () => {
    const clear = await solid(4, 4, [0, 0, 0, 0]);
    const flat = await run(clear, [p('flatten', { background: '#00ff00' })]);
    expect(flat.channels).toBe(3);
    expect(flat.at(0, 0)).toEqual([0, 255, 0]);
    expect((await run(clear, [p('removeAlpha')])).channels).toBe(3);
    const opaque = await sharp({ create: { width: 4, height: 4, channels: 3, background: '#ffffff' } }).png().toBuffer();
    const half = await run(opaque, [p('ensureAlpha', 0.5)]);
    expect(half.at(0, 0).slice(0, 3)).toEqual([255, 255, 255]);
    expect(half.at(0, 0)[3]).toBeCloseTo(127.5, -0.5);
    const holes = await run(opaque, [p('unflatten')]);
    expect(holes.at(0, 0)[3]).toBe(0); // white became transparent
  });
});

describe('processImage: filters', () => {
  it('blur softens an edge; sharpen, median, dilate, erode change pixels', async () => {
    const edge = await sharp(paint(16, 4, (x) => (x < 8 ? [0, 0, 0, 255] : WHITE)), { raw: { width: 16, height: 4, channels: 4 } })
      .png()
      .toBuffer();
    const soft = await run(edge, [p('blur', 2)]);
    expect(soft.at(7, 1)[0]).toBeGreaterThan(0);
    expect(soft.at(8, 1)[0]).toBeLessThan(255);
    expect((await run(edge, [p('blur', true)])).at(7, 1)[0]).toBeGreaterThan(0);
    expect((await run(edge, [p('blur', { sigma: 1, precision: 'float' })])).at(7, 1)[0]).toBeGreaterThan(0);

    const speck = await sharp(paint(9, 9, (x, y) => (x === 4 && y === 4 ? WHITE : [0, 0, 0, 255])), { raw: { width: 9, height: 9, channels: 4 } })
      .png()
      .toBuffer();
    expect((await run(speck, [p('median', 3)])).at(4, 4)[0]).toBe(0);
    // sharp's morphology works in opposite directions on the white speck
    expect((await run(speck, [p('dilate', 1)])).at(4, 4)[0]).toBe(0);
    expect((await run(speck, [p('erode')])).at(3, 4)[0]).toBe(255);
    const softPng = await sharp(soft.data, { raw: { width: 16, height: 4, channels: 4 } }).png().toBuffer();
    expect(soft.channels).toBe(4);
    expect((await run(softPng, [p('sharpen', { sigma: 2 })])).data.equals(soft.data)).toBe(false);
    expect((await run(softPng, [p('sharpen')])).data.equals(soft.data)).toBe(false);
  });
});

describe('processImage: outputs', () => {
  it('encodes every output from one set of pixels', async () => {
    const results = await processImage(await quadrants(64, 32), [p('resize', { width: 32 })], [
      out('png'),
      out('webp', { lossless: true }),
      out('png', { palette: true, colours: 4 }, '-pal'),
      out('jpeg', { quality: 90, mozjpeg: true }),
      out('avif', { quality: 60, effort: 2 }),
      out('tiff', { compression: 'lzw' }),
      out('gif', { colours: 8 }),
    ]);
    expect(results.map((r) => r.ext)).toEqual(['png', 'webp', 'png', 'jpg', 'avif', 'tif', 'gif']);
    expect(results.map((r) => [r.width, r.height])).toEqual(Array(7).fill([32, 16]));
    expect(new Set(results.map((r) => r.recipe)).size).toBe(7);
    expect(results[2]!.spec?.suffix).toBe('-pal');

    // Clones see the same pixels: lossless outputs decode identically.
    const rgb = (data: Buffer) => sharp(data).removeAlpha().raw().toBuffer(); // webp drops opaque alpha
    expect((await rgb(results[1]!.data)).equals(await rgb(results[0]!.data))).toBe(true);
    expect((await rgb(results[5]!.data)).equals(await rgb(results[0]!.data))).toBe(true); // lzw tiff
    expect(results[1]!.data.subarray(12, 16).toString('latin1')).toBe('VP8L'); // lossless bitstream
    expect(results[2]!.data[25]).toBe(3); // IHDR colour type 3: palette
    expect(results[0]!.data[25]).not.toBe(3);
    const formats = await Promise.all(results.map(async (r) => (await sharp(r.data).metadata()).format));
    expect(formats).toEqual(['png', 'webp', 'png', 'jpeg', 'heif', 'tiff', 'gif']);
  });

  it('runs the DESIGN.md manifest example', async () => {
    const sprite = await bordered(40, 12);
    const [webp, pal] = await processImage(
      sprite,
      [p('trim', {}), p('resize', { width: 128, height: 128, fit: 'contain', kernel: 'nearest' })],
      [out('webp', { quality: 90 }), out('png', { palette: true, colours: 32 }, '-pal')],
    );
    expect([webp!.ext, webp!.width, webp!.height]).toEqual(['webp', 128, 128]);
    expect([pal!.ext, pal!.spec?.suffix, pal!.data[25]]).toEqual(['png', '-pal', 3]);
    expect((await decode(pal!.data)).at(0, 0).slice(0, 3)).toEqual([255, 0, 0]); // border trimmed away
  });

  it('passes object forms through to sharp', async () => {
    const grey = await solid(4, 4, [100, 100, 100, 255]);
    expect((await run(grey, [p('threshold', { threshold: 90, greyscale: false })])).at(0, 0)[0]).toBe(255);
    expect((await run(grey, [p('gamma', { gammaOut: 1.5 })])).width).toBe(4);
    expect((await run(grey, [p('negate', false)])).at(0, 0)[0]).toBe(100);
    expect((await run(grey, [p('affine', { matrix: [[1, 0], [0, 2]], interpolator: 'nearest' })])).height).toBe(8);
    expect((await run(grey, [p('extend', 2)])).width).toBe(8);
    expect((await run(grey, [p('resize', 2)])).height).toBe(2);
    expect((await run(await quadrants(64, 32), [p('rotate', { angle: -90 })])).width).toBe(32);
  });

  it('honours encoder options', async () => {
    const noisy = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 40 } } })
      .png()
      .toBuffer();
    const [low, high] = await processImage(noisy, [], [out('jpeg', { quality: 10 }), out('jpeg', { quality: 95 })]);
    expect(low!.data.length).toBeLessThan(high!.data.length / 2);
  });

  it('is safe to run concurrently: calls do not share state', async () => {
    const q = await quadrants(64, 32);
    const widths = [8, 16, 24, 32, 40, 48];
    const results = await Promise.all(widths.map((w) => processImage(q, [p('resize', { width: w })], [out('png')])));
    expect(results.map(([r]) => r!.width)).toEqual(widths);
  });
});

describe('processImage: guards and errors', () => {
  it('refuses a decompression bomb from its header, quickly', async () => {
    const bomb = pngClaiming(50_000, 50_000);
    expect(bomb.length).toBeLessThan(100);
    const started = Date.now();
    await expect(processImage(bomb, [p('resize', { width: 10 })], [out('png')])).rejects.toMatchObject({
      code: 'image-too-large',
      message: 'original is 50000×50000 (2500 MP), over the 100 MP limit',
    });
    await expect(processImage(bomb, [], [out('webp')])).rejects.toThrow(/over the 100 MP limit/);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('honours limitInputPixels', async () => {
    const q = await quadrants(64, 32);
    await expect(processImage(q, [], [out('png')], { limitInputPixels: 1000 })).rejects.toThrow(
      'original is 64×32 (2048 px), over the 1000 px limit',
    );
    await expect(processImage(q, [], [out('png')], { limitInputPixels: 2048 })).resolves.toHaveLength(1);
  });

  it('refuses operations that would make an absurd canvas', async () => {
    const strip = await solid(1000, 10);
    await expect(processImage(strip, [p('trim'), p('resize', { height: 1000 })], [out('png')])).rejects.toMatchObject({
      code: 'post-canvas',
      message: 'post[1] resize: would make a 100000×1000 canvas from 1000×10; the limit is 16384 px a side',
    });
    await expect(processImage(strip, [p('extend', { left: 16000 })], [out('png')])).rejects.toThrow(
      /^post\[0\] extend: would make a 17000×10 canvas/,
    );
    await expect(processImage(strip, [p('affine', [100, 0, 0, 1])], [out('png')])).rejects.toThrow(/^post\[0\] affine: would make/);
  });

  it('names the operation and the fix', async () => {
    const q = await quadrants(64, 32);
    await expect(processImage(q, [p('trim'), p('resize', { widht: 3 })], [])).rejects.toThrow(
      'post[1] resize: unknown option "widht"; did you mean "width"?',
    );
    await expect(processImage(q, [p('extract', { left: 60, top: 0, width: 10, height: 10 })], [])).rejects.toMatchObject({
      message: 'post[0] extract: region 10×10 at (60, 0) does not fit the 64×32 image',
      hint: 'make left + width and top + height fit inside the image at this step',
    });
    await expect(processImage(q, [p('flip'), p('autoOrient')], [])).rejects.toThrow('post[1] autoOrient: must be the first operation');
    await expect(processImage(q, [], [out('png'), out('webp', { qualty: 3 })])).rejects.toThrow(
      'outputs[1] webp: unknown option "qualty"; did you mean "quality"?',
    );
  });

  it('reports an original that does not decode', async () => {
    const png = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#888', noise: { type: 'gaussian', mean: 128, sigma: 30 } } })
      .png()
      .toBuffer();
    await expect(processImage(png.subarray(0, 40), [p('flip')], [])).rejects.toMatchObject({
      code: 'image-undecodable',
      message: expect.stringMatching(/^not a readable image \(40 bytes, starts 89504e470d0a1a0a\): /),
    });
    await expect(processImage(png.subarray(0, png.length / 2), [p('flip')], [])).rejects.toMatchObject({
      code: 'image-undecodable',
      message: expect.stringMatching(/^original could not be decoded: /),
    });
  });
});
