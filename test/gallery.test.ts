// The gallery builder with plain data: jobs and lock entries made here, real image files, no CLI.
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ArtifactContext } from '../src/artifacts/index.js';
import { DEFAULT_CONFIG } from '../src/config/types.js';
import type { LockEntry } from '../src/lock/entry.js';
import { buildGallery, isGalleryFile } from '../src/report/gallery.js';
import { renderGallery } from '../src/report/gallery-html.js';
import { headerRows, layoutGroup } from '../src/report/gallery-layout.js';
import { collectGallery } from '../src/report/gallery-model.js';
import type { RunSummary } from '../src/run/events.js';
import type { Job } from '../src/types.js';
import { tempProject } from './helpers/cli.js';

const NOW = () => new Date('2025-01-02T03:04:05Z');

const SUMMARY: RunSummary = {
  total: 0, generated: 0, rebuilt: 0, skipped: 0, failed: 0, interrupted: 0, failures: {}, paid: 0,
  ambiguousRetries: 0, regenerations: 0, polls: 0, downloads: 0, cost: 0, wallMs: 1234, outOfCredits: false,
};

let project: { dir: string; cleanup: () => Promise<void> };
beforeEach(async () => {
  project = await tempProject({});
});
afterEach(async () => {
  await project.cleanup();
});

function job(name: string, p: string, vars: Job['vars'], request: Record<string, unknown> = {}, model = 'flux-dev'): Job {
  return {
    name, id: `${name}:${p}`, key: `key-${name}-${p}`, model, path: p, vars, post: [], outputs: [], index: 0,
    source: { file: 'm.yaml' },
    request: { prompt: `${name} ${Object.values(vars).join(' ')}`, width: 512, height: 512, output_format: 'png', ...request },
  };
}

/** A done entry with a real PNG output (its colour from `shade`), written under out/. */
async function done(j: Job, shade = 0, ext = 'png'): Promise<LockEntry> {
  const rel = `out/${j.path}.${ext}`;
  const abs = path.join(project.dir, rel);
  await mkdir(path.dirname(abs), { recursive: true });
  const bytes = await sharp({ create: { width: 64, height: 48, channels: 3, background: { r: shade % 256, g: 90, b: 160 } } })[ext === 'webp' ? 'webp' : 'png']().toBuffer();
  await writeFile(abs, bytes);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  return { id: j.id, key: j.key, model: j.model, provider: 'mock', state: 'done', seed: 42, outputs: [{ path: rel, sha256, recipe: 'r', bytes: bytes.length }] };
}

function context(jobs: Job[], entries: LockEntry[], summary: Partial<RunSummary> = {}): ArtifactContext {
  return {
    project: {
      config: { ...DEFAULT_CONFIG },
      manifest: { file: path.join(project.dir, 'm.yaml'), dir: project.dir, version: 1, outputDir: path.join(project.dir, 'out'), jobs },
      lockPath: path.join(project.dir, 'm.lock'),
      cacheDir: path.join(project.dir, '.flux-cache'),
    },
    entries: new Map(entries.map((e) => [e.id, e])),
    summary: { ...SUMMARY, ...summary },
  };
}

const thumbsIn = async () => (await readdir(path.join(project.dir, 'out/.gallery'))).sort();

describe('gallery builder', () => {
  it('writes report.html beside the outputs with relative links, content-hash thumbnails and escaped user text', async () => {
    const evil = job('evil', 'odd dir/a#b?c', {}, { prompt: '<script>alert(1)</script> & "quoted" \'single\'' });
    const hero = job('hero', 'hero/knight', { class: 'knight' });
    const ctx = context([hero, evil], [await done(hero, 10), await done(evil, 20)]);
    const result = await buildGallery(ctx, { now: NOW });
    const html = await readFile(path.join(project.dir, 'out/report.html'), 'utf8');
    expect(result.written[0]).toBe(path.join(project.dir, 'out/report.html'));
    expect(await thumbsIn()).toHaveLength(2);
    expect((await thumbsIn()).every((f) => /^[0-9a-f]{24}-64x48\.webp$/.test(f))).toBe(true);
    expect(html).toContain('href="hero/knight.png"');
    expect(html).toContain('href="odd%20dir/a%23b%3Fc.png"');
    expect(html).toMatch(/src="\.gallery\/[0-9a-f]{24}-64x48\.webp" width="64" height="48" loading="lazy"/);
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quoted&quot; &#39;single&#39;');
    expect(html).not.toContain('<script>alert');
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    expect(html).toContain('2025-01-02 03:04 UTC');
  });

  it('reuses thumbnails on a rerun, makes one only for a changed image, and drops the stale one', async () => {
    const jobs = [job('a', 'a', {}), job('b', 'b', {})];
    const first = await buildGallery(context(jobs, [await done(jobs[0]!, 1), await done(jobs[1]!, 2)]), { now: NOW });
    expect(first.written).toHaveLength(3);
    const before = await thumbsIn();
    const mtimes = await Promise.all(before.map(async (f) => (await stat(path.join(project.dir, 'out/.gallery', f))).mtimeMs));

    const again = await buildGallery(context(jobs, [await done(jobs[0]!, 1), await done(jobs[1]!, 2)]), { now: NOW });
    expect(again.written).toEqual([path.join(project.dir, 'out/report.html')]);
    expect(again.unchanged).toHaveLength(2);
    expect(await thumbsIn()).toEqual(before);
    const after = await Promise.all(before.map(async (f) => (await stat(path.join(project.dir, 'out/.gallery', f))).mtimeMs));
    expect(after).toEqual(mtimes);

    const changed = await buildGallery(context(jobs, [await done(jobs[0]!, 1), await done(jobs[1]!, 99)]), { now: NOW });
    expect(changed.written).toHaveLength(2);
    const now = await thumbsIn();
    expect(now).toHaveLength(2);
    expect(now.filter((f) => before.includes(f))).toHaveLength(1);
  });

  it('shows failed, interrupted, never-run and missing-file cells without a broken image', async () => {
    const jobs = [job('j', 'ok', { n: 1 }), job('j', 'bad', { n: 2 }), job('j', 'mid', { n: 3 }), job('j', 'new', { n: 4 }), job('j', 'gone', { n: 5 })];
    const gone = await done(jobs[4]!, 5);
    gone.outputs![0]!.path = 'out/gone-elsewhere.png';
    const entries: LockEntry[] = [
      await done(jobs[0]!, 1),
      { id: jobs[1]!.id, key: 'k', model: 'flux-dev', provider: 'mock', state: 'failed', error: { kind: 'Request Moderated', reason: 'prompt <moderated>' } },
      { id: jobs[2]!.id, key: 'k', model: 'flux-dev', provider: 'mock', state: 'submitted', task: { id: 't', submittedAt: 'x' } },
      gone,
    ];
    await buildGallery(context(jobs, entries, { failed: 1, failures: { 'Request Moderated': 1 } }), { now: NOW });
    const html = await readFile(path.join(project.dir, 'out/report.html'), 'utf8');
    expect(html.match(/<img src=/g)).toHaveLength(1);
    expect(html).toContain('Failed · Request Moderated');
    expect(html).toContain('prompt &lt;moderated&gt;');
    expect(html).toMatch(/<section class="failures">.*j:bad/);
    expect(html).toContain('in progress when the run ended');
    expect(html).toContain('not generated yet');
    expect(html).toContain('output file missing');
  });

  it('is byte-identical for the same lock and run', async () => {
    const jobs = [job('a', 'a', { x: 1 }), job('a', 'b', { x: 2 })];
    const entries = [await done(jobs[0]!, 1), await done(jobs[1]!, 2)];
    await buildGallery(context(jobs, entries), { now: NOW });
    const one = await readFile(path.join(project.dir, 'out/report.html'));
    await buildGallery(context(jobs, entries), { now: NOW });
    expect((await readFile(path.join(project.dir, 'out/report.html'))).equals(one)).toBe(true);
  });

  it('names its own files so gc can tell them from orphaned outputs', () => {
    expect(isGalleryFile('/p/out', '/p/out/report.html')).toBe(true);
    expect(isGalleryFile('/p/out', '/p/out/.gallery/0123-10x10.webp')).toBe(true);
    expect(isGalleryFile('/p/out', '/p/out/hero/report.html')).toBe(false);
    expect(isGalleryFile('/p/out', '/p/out/a.webp')).toBe(false);
  });

  it('redacts secret-looking request fields and shortens long values', () => {
    const j = job('a', 'a', {}, { webhook_secret: 'whsec_123', image_prompt: `data:image/png;base64,${'A'.repeat(500)}` });
    const [group] = collectGallery([j], new Map(), { manifestDir: '/m', outputDir: '/m/out' });
    const params = Object.fromEntries(group!.cells[0]!.params);
    expect(params.webhook_secret).toBe('(redacted)');
    expect(params.image_prompt!.length).toBeLessThanOrEqual(64);
    expect(params.size).toBe('512×512');
  });
});

describe('gallery layout', () => {
  const cellsOf = (jobs: Job[]) => collectGallery(jobs, new Map(), { manifestDir: '/m', outputDir: '/m/out' });

  it('finds the axes that vary: matrix variables, then model and request fields', () => {
    const jobs = ['knight', 'mage'].flatMap((c) => [1, 2].map((s) => job('hero', `${c}-${s}`, { class: c, style: 'pixel' }, { seed: s })));
    const [g] = cellsOf(jobs);
    expect(g!.axes).toEqual(['class', 'seed']);
    expect(g!.cells[1]!.coords).toEqual({ class: 'knight', seed: 'seed 2' });
  });

  it('puts trailing axes across the top while they fit, with merged header cells', () => {
    const jobs = ['knight', 'mage', 'rogue'].flatMap((c) => ['idle', 'run'].flatMap((p) => [1, 2].map((s) => job('hero', `${c}-${p}-${s}`, { class: c, pose: p }, { seed: s }))));
    const layout = layoutGroup(cellsOf(jobs)[0]!);
    if (layout.kind !== 'table') throw new Error('expected a table');
    expect([layout.rowAxes, layout.colAxes]).toEqual([['class'], ['pose', 'seed']]);
    expect(layout.rows.map((r) => r.values)).toEqual([['knight'], ['mage'], ['rogue']]);
    expect(layout.rows[2]!.cells.map((c) => c.map((x) => x.path))).toEqual([['rogue-idle-1'], ['rogue-idle-2'], ['rogue-run-1'], ['rogue-run-2']]);
    expect(headerRows(layout.cols, 2)).toEqual([
      [{ label: 'idle', span: 2 }, { label: 'run', span: 2 }],
      [{ label: 'seed 1', span: 1 }, { label: 'seed 2', span: 1 }, { label: 'seed 1', span: 1 }, { label: 'seed 2', span: 1 }],
    ]);
  });

  it('uses a grid for one axis, and when no axis fits as columns', () => {
    expect(layoutGroup(cellsOf([job('a', 'x', { v: 1 }), job('a', 'y', { v: 2 })])[0]!).kind).toBe('grid');
    const wide = Array.from({ length: 100 }, (_, n) => job('w', `${n}`, { a: `a${Math.floor(n / 10)}`, b: `b${n % 10}` }));
    expect(layoutGroup(cellsOf(wide)[0]!).kind).toBe('grid');
  });

  it('renders a table group with its axes in the corner', () => {
    const jobs = ['knight', 'mage'].flatMap((c) => [1, 2].map((s) => job('hero', `${c}-${s}`, { class: c }, { seed: s })));
    const html = renderGallery({ title: 't', provider: 'mock', generatedAt: NOW(), summary: SUMMARY, groups: cellsOf(jobs), thumbs: new Map(), problems: new Map() });
    expect(html).toContain('<th class="corner" rowspan="1"><span>class ↓</span><span>seed →</span></th><th>seed 1</th><th>seed 2</th>');
    expect(html).toContain('<th scope="row">mage</th>');
  });
});
