// Placeholder images: a deterministic function of (model, prompt, seed, size, format, label).
// A seeded gradient with a few soft shapes and a "PLACEHOLDER" caption, drawn as SVG by sharp.
// Renders are cached (LRU by bytes) because benches ask for the same few images thousands of times.
import sharp from 'sharp';
import { hash32, mulberry32 } from './rng.js';

export type PlaceholderFormat = 'jpeg' | 'png' | 'webp';

export interface PlaceholderOptions {
  model: string;
  prompt: string;
  seed: number;
  width: number;
  height: number;
  format: PlaceholderFormat;
  /** Big caption; default `PLACEHOLDER`. */
  label?: string;
}

let CACHE_LIMIT_BYTES = 64 * 1024 * 1024;

/** Benches that replay thousands of distinct images raise this so renders stay out of the numbers. */
export function setRenderCacheLimit(bytes: number): void {
  CACHE_LIMIT_BYTES = bytes;
}
const cache = new Map<string, Promise<Buffer>>();
const sizes = new Map<string, number>();
let cachedBytes = 0;

/**
 * Render (or fetch from the cache) a placeholder image. The same options give the same bytes.
 * `cache: false` for callers that ask for each image once (the mock provider): no memory held.
 */
export function renderPlaceholder(opts: PlaceholderOptions, { cache: useCache = true }: { cache?: boolean } = {}): Promise<Buffer> {
  if (!useCache) return encode(opts);
  const key = JSON.stringify([opts.model, opts.prompt, opts.seed, opts.width, opts.height, opts.format, opts.label ?? '']);
  const hit = cache.get(key);
  if (hit) {
    cache.delete(key);
    cache.set(key, hit);
    return hit;
  }
  const pending = encode(opts);
  cache.set(key, pending);
  pending.then(
    (buf) => remember(key, buf.length),
    () => cache.delete(key),
  );
  return pending;
}

function remember(key: string, bytes: number): void {
  if (!cache.has(key)) return;
  sizes.set(key, bytes);
  cachedBytes += bytes;
  for (const oldest of cache.keys()) {
    if (cachedBytes <= CACHE_LIMIT_BYTES) break;
    const size = sizes.get(oldest);
    if (size === undefined) continue; // still rendering
    cache.delete(oldest);
    sizes.delete(oldest);
    cachedBytes -= size;
  }
}

async function encode(opts: PlaceholderOptions): Promise<Buffer> {
  const img = sharp(Buffer.from(placeholderSvg(opts)), { density: 72 });
  if (opts.format === 'png') return img.png({ compressionLevel: 3 }).toBuffer();
  if (opts.format === 'webp') return img.webp({ quality: 80, effort: 0 }).toBuffer();
  return img.jpeg({ quality: 85 }).toBuffer();
}

/** The SVG source of a placeholder (exported for tests and for curious users). */
export function placeholderSvg(opts: PlaceholderOptions): string {
  const { width: w, height: h } = opts;
  const rand = mulberry32(hash32(`${opts.model}\n${opts.prompt}\n${opts.seed}`));
  const hue = Math.floor(rand() * 360);
  const hue2 = (hue + 60 + Math.floor(rand() * 120)) % 360;
  const shapes: string[] = [];
  for (let i = 0; i < 5; i++) {
    const x = (rand() * w).toFixed(1);
    const y = (rand() * h).toFixed(1);
    const r = ((0.08 + rand() * 0.25) * Math.min(w, h)).toFixed(1);
    const fill = `hsl(${(hue + i * 47) % 360},70%,${rand() < 0.5 ? 85 : 25}%)`;
    shapes.push(
      rand() < 0.5
        ? `<circle cx="${x}" cy="${y}" r="${r}" fill="${fill}" fill-opacity="0.25"/>`
        : `<rect x="${x}" y="${y}" width="${r}" height="${r}" rx="${(Number(r) / 5).toFixed(1)}" fill="${fill}" fill-opacity="0.25" transform="rotate(${Math.floor(rand() * 90)} ${x} ${y})"/>`,
    );
  }
  const big = Math.max(6, Math.min(w / 9, h / 4));
  const small = Math.max(5, Math.min(w / 42, h / 14));
  const caption = escapeXml(`${opts.model} · seed ${opts.seed} · ${w}×${h}`);
  const prompt = escapeXml(opts.prompt.length > 80 ? `${opts.prompt.slice(0, 79)}…` : opts.prompt);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}">
<defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1">
<stop offset="0" stop-color="hsl(${hue},55%,58%)"/><stop offset="1" stop-color="hsl(${hue2},55%,38%)"/>
</linearGradient></defs>
<rect width="${w}" height="${h}" fill="url(#g)"/>
${shapes.join('\n')}
<text x="50%" y="50%" dominant-baseline="middle" text-anchor="middle" font-family="DejaVu Sans, Arial, sans-serif" font-weight="bold" font-size="${big.toFixed(1)}" fill="#fff" fill-opacity="0.9">${escapeXml(opts.label ?? 'PLACEHOLDER')}</text>
<text x="${(w * 0.03).toFixed(1)}" y="${(h - small * 2.6).toFixed(1)}" font-family="DejaVu Sans Mono, monospace" font-size="${small.toFixed(1)}" fill="#fff">${caption}</text>
<text x="${(w * 0.03).toFixed(1)}" y="${(h - small * 1.1).toFixed(1)}" font-family="DejaVu Sans, sans-serif" font-size="${small.toFixed(1)}" fill="#fff" fill-opacity="0.85">${prompt}</text>
</svg>`;
}

function escapeXml(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '').replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
