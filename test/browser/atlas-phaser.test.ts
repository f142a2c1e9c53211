// The atlas data read the way Phaser 3 and PixiJS read it, in headless Chromium: fetch the JSON
// over HTTP, look the frame up (hash: by key; array and Phaser 3 multi-atlas: by `filename`), load
// the sheet, and draw the frame with drawImage(sheet, frame.x, frame.y, w, h, trim offset…) onto
// a canvas of the frame's source size — what Phaser's Frame/WebGL and Pixi's Texture do. Phaser
// itself is not a dependency (no network installs here), so this page script stands in for its
// JSON-hash/array/multi-atlas parsers; the pixels must equal the source frame exactly.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempProject } from '../helpers/cli.js';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const MANIFEST = `version: 1
output: out
defaults: { model: flux-dev, width: 256, height: 256, output_format: png }
jobs:
  - name: hero
    prompt: "{pose} frame {frame}"
    matrix: { pose: [idle, walk], frame: [0, 1, 2], seed: [3] }
    path: "hero/{pose}-{frame}"
    post:
      - resize: { width: 40, height: 56 }
      - extend: { top: 5, bottom: 3, left: 7, right: 2, background: "#00000000" }
    outputs: [{ png: {} }]
    atlas: { frame: "{pose}_{frame}", animations: pose, trim: true, extrude: 2, padding: 1, formats: [json-hash, json-array, phaser3] }
`;

let project: Awaited<ReturnType<typeof tempProject>>;
let server: http.Server;
let base: string;
let browser: Browser;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: this test needs Debian's chromium package (apt-get install chromium) to load the atlas in a real browser`);
  }
  project = await tempProject({ 'a.yaml': MANIFEST, 'flux.config.yaml': 'provider: mock\nmock: { taskMs: 0 }\n' });
  const r = await runCli(['run', 'a.yaml'], { cwd: project.dir });
  expect([r.code, r.stderr]).toEqual([0, '']);
  const root = path.join(project.dir, 'out');
  server = http.createServer(async (req, res) => {
    const rel = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    if (rel === '/') {
      res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>atlas</title>');
      return;
    }
    const file = path.join(root, path.normalize(rel));
    const data = file.startsWith(root) ? await readFile(file).catch(() => undefined) : undefined;
    if (!data) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': file.endsWith('.png') ? 'image/png' : 'application/json' }).end(data);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => server?.close(resolve));
  await project?.cleanup();
});

interface Drawn {
  width: number;
  height: number;
  pixels: number[];
  animation: string[] | null;
}

/** Runs in the page: the loader logic of Phaser's JSONHash / JSONArray / MultiAtlas parsers. */
async function drawFrame(args: { data: string; format: string; name: string }): Promise<Drawn> {
  type Frame = { filename?: string; frame: { x: number; y: number; w: number; h: number }; spriteSourceSize: { x: number; y: number }; sourceSize: { w: number; h: number } };
  const json = await (await fetch(args.data)).json();
  let frame: Frame | undefined;
  let image = '';
  if (args.format === 'phaser3') {
    for (const t of json.textures) {
      const f = t.frames.find((x: Frame) => x.filename === args.name);
      if (f) [frame, image] = [f, t.image];
    }
  } else {
    frame = args.format === 'json-hash' ? json.frames[args.name] : json.frames.find((x: Frame) => x.filename === args.name);
    image = json.meta.image;
  }
  if (!frame) throw new Error(`frame ${args.name} not found`);
  const sheet = new Image();
  sheet.src = new URL(image, new URL(args.data, location.href)).href;
  await sheet.decode();
  const canvas = document.createElement('canvas');
  canvas.width = frame.sourceSize.w;
  canvas.height = frame.sourceSize.h;
  const g = canvas.getContext('2d')!;
  const { x, y, w, h } = frame.frame;
  g.drawImage(sheet, x, y, w, h, frame.spriteSourceSize.x, frame.spriteSourceSize.y, w, h);
  const pixels = Array.from(g.getImageData(0, 0, canvas.width, canvas.height).data);
  return { width: canvas.width, height: canvas.height, pixels, animation: json.animations?.walk ?? null };
}

describe('atlas loaded in headless Chromium the way Phaser 3 / PixiJS load it', () => {
  for (const [format, file] of [['json-hash', 'hero.json'], ['json-array', 'hero.array.json'], ['phaser3', 'hero.multiatlas.json']] as const) {
    it(`${format}: the named frame draws at its source size with the source's pixels`, async () => {
      const page = await browser.newPage();
      try {
        await page.goto(`${base}/`);
        const drawn = await page.evaluate(drawFrame, { data: `/atlases/${file}`, format, name: 'walk_1' });
        const src = await sharp(path.join(project.dir, 'out/hero/walk-1.png')).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
        expect([drawn.width, drawn.height]).toEqual([49, 64]);
        expect([src.info.width, src.info.height]).toEqual([49, 64]);
        let worst = 0;
        for (let i = 0; i < drawn.pixels.length; i++) {
          // Fully transparent pixels may carry any colour; compare alpha there.
          if (src.data[i - (i % 4) + 3] === 0 && i % 4 !== 3) continue;
          worst = Math.max(worst, Math.abs(drawn.pixels[i]! - src.data[i]!));
        }
        expect(worst).toBe(0);
        expect(drawn.animation).toEqual(['walk_0', 'walk_1', 'walk_2']);
      } finally {
        await page.close();
      }
    });
  }
});
