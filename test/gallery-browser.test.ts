/// <reference lib="dom" />
// The gallery in a real browser: the built CLI runs a mock manifest, then headless Chromium (Debian's
// `chromium`, driven by playwright-core) opens report.html from file:// and we check what a person
// would see. Set GALLERY_SCREENSHOT=1 to refresh docs/gallery.png.
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, runCli, tempProject } from './helpers/cli.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const VIEWPORT = { width: 1280, height: 1000 };
const EVIL = '<script>window.__pwned = 1</script> & "quotes"';

const MANIFEST = `version: 1
output: out
defaults: { model: flux-dev, width: 512, height: 512, output_format: png }
jobs:
  - name: hero
    prompt: "pixel-art {class} hero, {pose} pose, full body, plain background"
    guidance: 3.5
    matrix: { class: [knight, mage], pose: [idle, run], seed: [1, 2] }
    path: "hero/{class}-{pose}-{seed}"
    post: [ { resize: { width: 256, height: 256 } } ]
    outputs: [ { webp: { quality: 80 } } ]
  - name: logo
    prompt: 'a shop sign that says ${EVIL}'
    matrix: { model: [flux-dev, flux-pro-1.1] }
    path: "logo/{model}"
  - name: forbidden
    prompt: "something [moderated]"
    seed: 5
  - name: landscape
    prompt: "a misty mountain lake at dawn, wide shot"
    width: 768
    height: 512
`;

let browser: Browser;
let project: { dir: string; cleanup: () => Promise<void> };
let shots: string;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium not found at ${CHROMIUM}: the gallery browser test needs it. Install it with \`apt-get install chromium\` (or set CHROMIUM_PATH).`);
  }
  project = await tempProject({ 'gallery.yaml': MANIFEST, 'flux.config.yaml': 'provider: mock\nmock: { taskMs: 0 }\n' });
  shots = await mkdtemp(path.join(os.tmpdir(), 'flux-batch-shots-'));
  const run = await runCli(['run', 'gallery.yaml'], { cwd: project.dir });
  expect(run.code, run.stderr + run.stdout).toBe(1); // the moderated job fails; the rest are done
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await project?.cleanup();
  if (shots) await rm(shots, { recursive: true, force: true });
});

async function openGallery(): Promise<{ page: Page; requests: string[] }> {
  const page = await browser.newPage({ viewport: VIEWPORT });
  const requests: string[] = [];
  page.on('request', (r) => requests.push(r.url()));
  await page.goto(pathToFileURL(path.join(project.dir, 'out/report.html')).href, { waitUntil: 'load' });
  return { page, requests };
}

/** Lazy images below the fold load only when scrolled to: load them all, then wait. */
async function loadAllImages(page: Page): Promise<void> {
  await page.evaluate(() => document.querySelectorAll('img[loading=lazy]').forEach((img) => img.setAttribute('loading', 'eager')));
  await page.waitForFunction(() => Array.from(document.querySelectorAll('main img')).every((img) => (img as HTMLImageElement).complete));
}

describe('gallery in headless Chromium', () => {
  it('shows every thumbnail, the failure with its reason, escaped prompts, and makes no network request', async () => {
    const { page, requests } = await openGallery();
    await loadAllImages(page);
    const widths = await page.$$eval('main img', (imgs) => imgs.map((i) => (i as HTMLImageElement).naturalWidth));
    expect(widths).toHaveLength(11);
    expect(widths.every((w) => w > 0)).toBe(true);

    const failed = page.locator('.card.failed');
    await expect(failed.count()).resolves.toBe(1);
    expect(await failed.innerText()).toMatch(/Failed · Request Moderated[\s\S]*prompt moderated \(mock\)/);
    expect(await page.locator('.failures').innerText()).toContain('forbidden:forbidden');

    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(await page.locator('main script').count()).toBe(0);
    expect(await page.locator('#c9 .prompt').innerText()).toBe(`a shop sign that says ${EVIL}`);

    expect(requests.length).toBeGreaterThan(11);
    expect(requests.filter((u) => !u.startsWith('file://'))).toEqual([]);
    await page.close();
  });

  it('filters and zooms', async () => {
    const { page } = await openGallery();
    await page.fill('#q', 'mage run');
    await expect.poll(() => page.locator('#shown').innerText()).toBe('2 shown');
    await page.fill('#q', '');
    await page.check('#only-failed');
    await expect.poll(() => page.locator('#shown').innerText()).toBe('1 shown');
    await page.uncheck('#only-failed');
    await page.locator('#c1 a.thumb').click();
    await page.waitForFunction(() => {
      const img = document.querySelector('#lightbox img') as HTMLImageElement;
      return !document.getElementById('lightbox')!.hidden && img.complete && img.naturalWidth === 256;
    });
    await page.keyboard.press('Escape');
    expect(await page.locator('#lightbox').isHidden()).toBe(true);
    await page.close();
  });

  it('takes a screenshot a person can read: a PNG of the viewport, not blank', async () => {
    const { page } = await openGallery();
    await page.waitForFunction(() => Array.from(document.querySelectorAll('main img')).slice(0, 4).every((i) => (i as HTMLImageElement).complete));
    const file = path.join(shots, 'gallery.png');
    await page.screenshot({ path: file });
    await page.close();
    const png = await readFile(file);
    const meta = await sharp(png).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', VIEWPORT.width, VIEWPORT.height]);
    const stats = await sharp(png).stats();
    // A blank page has no variance; text, cards and thumbnails give plenty.
    expect(Math.min(...stats.channels.slice(0, 3).map((c) => c.stdev))).toBeGreaterThan(20);
    if (process.env.GALLERY_SCREENSHOT) {
      const small = await sharp(png).png({ palette: true, colours: 128, effort: 10 }).toBuffer();
      expect(small.length).toBeLessThan(300_000);
      await writeFile(path.join(ROOT, 'docs/gallery.png'), small);
    }
  });
});
