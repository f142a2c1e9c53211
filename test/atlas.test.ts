// Atlases: packing (trim, extrude, pages), the data layouts, the manifest keys and their issues,
// and the end-to-end promise: the same frames give byte-identical files, rebuilt only on change.
import { readFile, readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { validateManifestText } from '../src/manifest/index.js';
import { atlasFiles } from '../src/post/atlas-formats.js';
import { ATLAS_DEFAULTS } from '../src/post/atlas-spec.js';
import { packAtlas } from '../src/post/atlas.js';
import { runCli, tempProject } from './helpers/cli.js';

const OPTS = { ...ATLAS_DEFAULTS };

/** A w×h frame: transparent margin `m`, an opaque colour inside. */
async function frame(w: number, h: number, colour: string, m = 0): Promise<Buffer> {
  const inner = await sharp({ create: { width: w - 2 * m, height: h - 2 * m, channels: 4, background: colour } }).png().toBuffer();
  return sharp({ create: { width: w, height: h, channels: 4, background: '#00000000' } }).composite([{ input: inner, left: m, top: m }]).png().toBuffer();
}

async function pixel(png: Buffer, x: number, y: number): Promise<number[]> {
  const { data, info } = await sharp(png).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  const i = (y * info.width + x) * 4;
  return [...data.subarray(i, i + 4)];
}

describe('packAtlas', () => {
  it('packs frames sorted by name, with power-of-two sheets, and the same frames give the same bytes', async () => {
    const inputs = [
      { name: 'b', data: await frame(40, 30, '#ff0000') },
      { name: 'a', data: await frame(20, 50, '#00ff00') },
      { name: 'c', data: await frame(33, 17, '#0000ff') },
    ];
    const one = await packAtlas(inputs, OPTS);
    const two = await packAtlas([...inputs].reverse(), OPTS);
    expect(one).toHaveLength(1);
    expect(one[0]!.png.equals(two[0]!.png)).toBe(true);
    expect(one[0]!.frames.map((f) => f.name)).toEqual(['a', 'b', 'c']);
    const { width, height } = one[0]!;
    expect([width & (width - 1), height & (height - 1)]).toEqual([0, 0]);
    const b = one[0]!.frames.find((f) => f.name === 'b')!;
    expect([b.w, b.h]).toEqual([40, 30]);
    expect(await pixel(one[0]!.png, b.x + 5, b.y + 5)).toEqual([255, 0, 0, 255]);
  });

  it('trims transparent borders (keeping source size and offset) and extrudes edges', async () => {
    const [page] = await packAtlas([{ name: 'x', data: await frame(32, 32, '#123456', 4) }], { ...OPTS, trim: true, extrude: 2, pot: false });
    const f = page!.frames[0]!;
    expect(f).toMatchObject({ w: 24, h: 24, sourceW: 32, sourceH: 32, offX: 4, offY: 4, trimmed: true });
    expect(await pixel(page!.png, f.x - 1, f.y - 1)).toEqual([0x12, 0x34, 0x56, 255]); // extruded corner
    expect(await pixel(page!.png, f.x + f.w + 1, f.y)).toEqual([0x12, 0x34, 0x56, 255]);
  });

  it('spills onto more pages, or refuses when multipage is false; a frame larger than a sheet is an error', async () => {
    const inputs = await Promise.all(['a', 'b', 'c'].map(async (name) => ({ name, data: await frame(60, 60, '#808080') })));
    const small = { ...OPTS, maxWidth: 64, maxHeight: 64, padding: 0 };
    expect(await packAtlas(inputs, small)).toHaveLength(3);
    await expect(packAtlas(inputs, { ...small, multipage: false }, 'tiles')).rejects.toThrow(/atlas `tiles`: 3 frames need 3 sheets/);
    await expect(packAtlas(inputs, { ...small, maxWidth: 32 })).rejects.toThrow(/larger than the sheet's maximum 32×64/);
  });

  it('writes TexturePacker hash/array and Phaser 3 multi-atlas data, related packs and per-page animations', async () => {
    const inputs = await Promise.all(['w0', 'w1', 'i0'].map(async (name) => ({ name, data: await frame(60, 60, '#808080') })));
    const pages = await packAtlas(inputs, { ...OPTS, maxWidth: 128, maxHeight: 64, padding: 0 });
    expect(pages).toHaveLength(2);
    const files = atlasFiles({ base: 'hero', pages, formats: ['json-hash', 'json-array', 'phaser3'], animations: new Map([['walk', ['w0', 'w1']]]), smartupdate: 'abc' });
    expect(files.sheets).toEqual(['hero-0.png', 'hero-1.png']);
    expect([...files.data.keys()]).toEqual(['hero-0.json', 'hero-1.json', 'hero-0.array.json', 'hero-1.array.json', 'hero.multiatlas.json']);
    const hash0 = JSON.parse(files.data.get('hero-0.json')!);
    expect(Object.keys(hash0)).toEqual(['frames', 'animations', 'meta'].filter((k) => k !== 'animations' || hash0.animations));
    expect(hash0.meta).toMatchObject({ image: 'hero-0.png', related_multi_packs: ['hero-1.json'], smartupdate: 'abc', scale: '1' });
    const multi = JSON.parse(files.data.get('hero.multiatlas.json')!);
    expect(multi.textures.map((t: { image: string }) => t.image)).toEqual(['hero-0.png', 'hero-1.png']);
    expect(multi.animations).toEqual({ walk: ['w0', 'w1'] });
    expect(multi.textures[0].frames[0]).toHaveProperty('filename');
    expect(files.data.get('hero.multiatlas.json')).not.toMatch(/\d{4}-\d\d-\d\dT/); // no timestamps
  });
});

const MOCK = { provider: 'mock' as const, family: 'mock' };

describe('atlas keys in the manifest', () => {
  const base = `version: 1
defaults: { model: flux-dev, width: 256, height: 256 }
jobs:
  - name: hero
    prompt: "{pose} {frame}"
    matrix: { pose: [idle, walk], frame: [0, 1], seed: [1] }
    outputs: [{ png: {} }, { webp: {}, suffix: "-w" }]
`;
  const issues = (text: string) => validateManifestText(text, 'a.yaml', MOCK).issues.map((i) => `${i.code} ${i.path} a.yaml:${i.line}`);

  it('resolves frame names, animations and options', () => {
    const r = validateManifestText(`${base}    atlas: { frame: "{pose}_{frame}", animations: pose, max_size: [512, 256], output: "-w", formats: [phaser3] }\n`, 'a.yaml', MOCK);
    expect(r.issues).toEqual([]);
    const [atlas] = r.manifest!.atlases!;
    expect(atlas).toMatchObject({ name: 'hero', path: 'atlases/hero', maxWidth: 512, maxHeight: 256, output: '-w', formats: ['phaser3'] });
    expect(atlas!.frames.map((f) => `${f.name}:${f.animation}`)).toEqual(['idle_0:idle', 'idle_1:idle', 'walk_0:walk', 'walk_1:walk']);
  });

  it('reports each problem at its line: duplicate frames, unknown variables, outputs, jobs, animations', () => {
    expect(issues(`${base}    atlas: { frame: "{pose}" }\n`)).toEqual(['atlas-duplicate-frame jobs[0].atlas.frame a.yaml:8']);
    expect(issues(`${base}    atlas: { frame: "{pos}_{frame}" }\n`)).toEqual(['template-undefined jobs[0].atlas.frame a.yaml:8']);
    expect(issues(`${base}    atlas: { output: 2 }\n`)).toEqual(['bad-output-selector jobs[0].atlas.output a.yaml:8']);
    expect(issues(`${base}    atlas: { animations: poze }\n`)).toEqual(['atlas-animations jobs[0].atlas.animations a.yaml:8']);
    expect(issues(`${base}atlases:\n  all:\n    jobs: [hero, heros]\n`)).toEqual(['atlas-unknown-job atlases.all.jobs[1] a.yaml:10']);
    expect(issues(`${base}    atlas: { max_size: 0, formats: [xml] }\n`).map((s) => s.split(' ')[0])).toEqual(['out-of-range', 'schema']);
  });
});

describe('atlas end to end (mock provider)', () => {
  let project: Awaited<ReturnType<typeof tempProject>> | undefined;
  afterEach(async () => project?.cleanup());

  const manifest = (seeds: number[]) => `version: 1
output: out
defaults: { model: flux-dev, width: 256, height: 256, output_format: png }
jobs:
  - name: hero
    prompt: "{pose} frame {frame}"
    matrix: { pose: [idle, walk], frame: [0, 1], seed: [${seeds.join(', ')}] }
    path: "hero/{pose}-{frame}-{seed}"
    post: [{ resize: { width: 48, height: 40 } }]
    outputs: [{ png: {} }]
    atlas: { frame: "{pose}_{frame}_{seed}", animations: pose, extrude: 1, formats: [json-hash, json-array, phaser3] }
`;

  async function atlasBytes(dir: string): Promise<Record<string, string>> {
    const folder = path.join(dir, 'out/atlases');
    const names = (await readdir(folder)).sort();
    return Object.fromEntries(await Promise.all(names.map(async (n) => [n, (await readFile(path.join(folder, n))).toString('base64')] as const)));
  }

  it('writes byte-identical atlases for the same images, skips unchanged reruns and rebuilds on a new frame', async () => {
    const files = { 'a.yaml': manifest([1]), 'flux.config.yaml': 'provider: mock\nmock: { taskMs: 0 }\n' };
    project = await tempProject(files);
    const other = await tempProject(files);
    try {
      const [r1, r2] = await Promise.all([runCli(['run', 'a.yaml'], { cwd: project.dir }), runCli(['run', 'a.yaml'], { cwd: other.dir })]);
      expect([r1.code, r1.stderr, r2.code]).toEqual([0, '', 0]);
      const first = await atlasBytes(project.dir);
      expect(Object.keys(first)).toEqual(['hero.array.json', 'hero.json', 'hero.multiatlas.json', 'hero.png']);
      expect(await atlasBytes(other.dir)).toEqual(first);
    } finally {
      await other.cleanup();
    }
    const pngPath = path.join(project.dir, 'out/atlases/hero.png');
    const mtime = (await stat(pngPath)).mtimeMs;
    expect((await runCli(['run', 'a.yaml'], { cwd: project.dir })).code).toBe(0);
    expect((await stat(pngPath)).mtimeMs).toBe(mtime);
    expect(await atlasBytes(project.dir)).toEqual(await atlasBytes(project.dir));

    await writeFile(path.join(project.dir, 'a.yaml'), manifest([1, 2]));
    expect((await runCli(['run', 'a.yaml'], { cwd: project.dir })).code).toBe(0);
    const data = JSON.parse(await readFile(path.join(project.dir, 'out/atlases/hero.json'), 'utf8'));
    expect(Object.keys(data.frames)).toHaveLength(8);
    expect(data.animations.walk).toEqual(['walk_0_1', 'walk_0_2', 'walk_1_1', 'walk_1_2']);
    const meta = await sharp(pngPath).metadata();
    expect([meta.width, meta.height]).toEqual([data.meta.size.w, data.meta.size.h]);
  });
});
