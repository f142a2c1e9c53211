// Provenance: the record embedded in PNG/JPEG/WebP without touching the pixels, read back through
// sharp; the sidecar beside the outputs; both agree, end to end on the mock provider.
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { embedProvenance, parseXmp, readEmbeddedProvenance, toXmp, type ProvenanceRecord, type ProvenanceSidecar } from '../src/post/provenance.js';
import { runCli, tempProject } from './helpers/cli.js';

const RECORD: ProvenanceRecord = {
  generator: 'flux-batch', job: 'hero', id: 'hero:a', path: 'a', model: 'flux-dev',
  prompt: 'a <knight> & "squire", ünïcode', seed: 7, params: { width: 512 }, vars: { pose: 'idle' }, key: 'k'.repeat(64), source: 's'.repeat(64),
};

describe('embedProvenance', () => {
  const base = () => sharp({ create: { width: 24, height: 16, channels: 4, background: { r: 200, g: 40, b: 90, alpha: 0.5 } } });
  const cases: [string, () => Promise<Buffer>][] = [
    ['png', () => base().png().toBuffer()],
    ['png', () => base().png({ palette: true, colours: 8 }).toBuffer()],
    ['jpeg', () => base().jpeg({ quality: 70 }).toBuffer()],
    ['webp', () => base().webp({ quality: 60 }).toBuffer()], // VP8X + ALPH
    ['webp', () => base().flatten().webp({ quality: 60 }).toBuffer()], // simple VP8
    ['webp', () => base().webp({ lossless: true }).toBuffer()], // simple VP8L
  ];
  for (const [ext, make] of cases) {
    it(`${ext}: sharp reads the record back and decodes the same pixels`, async () => {
      const plain = await make();
      const embedded = embedProvenance(plain, ext, RECORD);
      expect(await readEmbeddedProvenance(embedded)).toEqual(RECORD);
      const [a, b] = await Promise.all([plain, embedded].map((d) => sharp(d).raw().toBuffer()));
      expect(b!.equals(a!)).toBe(true);
      // Embedding twice replaces, never stacks.
      const twice = embedProvenance(embedded, ext, { ...RECORD, seed: 8 });
      expect((await readEmbeddedProvenance(twice))?.seed).toBe(8);
      expect(Math.abs(twice.length - embedded.length)).toBeLessThan(4);
    });
  }
  it('escapes XML in the packet', () => {
    expect(toXmp(RECORD)).toContain('a &lt;knight&gt; &amp; &quot;squire&quot;');
    expect(parseXmp(toXmp(RECORD))).toEqual(RECORD);
  });
});

describe('provenance end to end (mock provider)', () => {
  let project: Awaited<ReturnType<typeof tempProject>> | undefined;
  afterEach(async () => project?.cleanup());

  it('embeds the record in every output and writes a sidecar that agrees with it; gc keeps sidecars and artifacts', async () => {
    project = await tempProject({
      'flux.config.yaml': 'provider: mock\nmock: { taskMs: 0 }\n',
      'a.yaml': `version: 1
output: out
defaults: { model: flux-dev, width: 256, height: 256, output_format: png, provenance: embed }
jobs:
  - name: hero
    prompt: "{class} hero"
    matrix: { class: [knight, mage], seed: [5] }
    outputs: [{ png: {} }, { webp: { quality: 80 } }, { jpeg: {}, suffix: "-j" }]
    atlas: true
    contact_sheet: true
  - name: unseeded
    prompt: "a lone tree"
    provenance: sidecar
`,
    });
    const r = await runCli(['run', 'a.yaml'], { cwd: project.dir });
    expect([r.code, r.stderr]).toEqual([0, '']);
    const out = (p: string) => path.join(project!.dir, 'out', p);
    const sidecar = JSON.parse(await readFile(out('hero/class-knight_seed-5.json'), 'utf8')) as ProvenanceSidecar;
    expect(sidecar).toMatchObject({ job: 'hero', model: 'flux-dev', prompt: 'knight hero', seed: 5, vars: { class: 'knight' } });
    expect(sidecar.outputs.map((o) => o.file)).toEqual(['class-knight_seed-5.png', 'class-knight_seed-5.webp', 'class-knight_seed-5-j.jpg']);
    const { outputs, ...record } = sidecar;
    for (const o of outputs) {
      const data = await readFile(out(`hero/${o.file}`));
      expect(createHash('sha256').update(data).digest('hex')).toBe(o.sha256);
      expect(await readEmbeddedProvenance(data)).toEqual(record);
    }
    const lock = await readFile(path.join(project.dir, 'a.lock'), 'utf8');
    expect(lock).toContain(sidecar.source);
    expect(lock).toContain(sidecar.key);

    // No seed in the manifest: the sidecar has the one the API picked (pinned in the lock), no XMP.
    const tree = JSON.parse(await readFile(out('unseeded.json'), 'utf8')) as ProvenanceSidecar;
    expect(typeof tree.seed).toBe('number');
    expect(await readEmbeddedProvenance(await readFile(out('unseeded.png')))).toBeUndefined();

    const before = (await stat(out('unseeded.json'))).mtimeMs;
    expect((await runCli(['run', 'a.yaml'], { cwd: project.dir })).code).toBe(0);
    expect((await stat(out('unseeded.json'))).mtimeMs).toBe(before);

    const gc = await runCli(['gc', 'a.yaml', '--outputs', '--dry-run'], { cwd: project.dir });
    expect(gc.code).toBe(0);
    // Sidecars, atlas files and contact sheets are not orphans. (The gallery's `.gallery/` thumbnails
    // are its builder's business, not checked here.)
    const orphans = gc.stdout.split('\n').filter((l) => l.includes('orphan ') && !l.includes('.gallery/'));
    expect(orphans).toEqual([]);
  });
});
