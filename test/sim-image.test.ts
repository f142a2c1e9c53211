// Placeholder rendering: deterministic, at the requested size and format, fast.
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { renderPlaceholder } from '../src/sim/image.js';

const base = { model: 'flux-dev', prompt: 'a <red> & "blue" fox', seed: 1, width: 512, height: 512, format: 'png' as const };

describe('renderPlaceholder', () => {
  it('renders the requested size and format', async () => {
    for (const format of ['jpeg', 'png', 'webp'] as const) {
      const meta = await sharp(await renderPlaceholder({ ...base, format, width: 320, height: 192 })).metadata();
      expect([meta.width, meta.height, meta.format]).toEqual([320, 192, format]);
    }
  });

  it('is a deterministic function of its inputs', async () => {
    const a = await renderPlaceholder(base);
    const again = await renderPlaceholder({ ...base });
    expect(again.equals(a)).toBe(true);
    expect((await renderPlaceholder({ ...base, seed: 2 })).equals(a)).toBe(false);
    expect((await renderPlaceholder({ ...base, label: 'MOCK' })).equals(a)).toBe(false);
  });

  it('is fast enough for benches', async () => {
    await renderPlaceholder({ ...base, seed: 99 });
    const t = performance.now();
    for (let i = 0; i < 10; i++) await renderPlaceholder({ ...base, format: 'jpeg', seed: 1000 + i });
    expect((performance.now() - t) / 10).toBeLessThan(60);
  });
});
