// Per-model parameters: mistakes refused before anything is sent, the in-flight limit of
// flux-kontext-max, reference images in the job key, webhook fields, and `flux-batch models`.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { loadManifest } from '../src/manifest/index.js';
import { getModel, listModels, toReplicateRequest } from '../src/models.js';
import type { InputIssue } from '../src/types.js';
import { startFakeBfl, type FakeBfl } from './fixtures/bfl/fake-bfl.js';
import { runCli, tempProject } from './helpers/cli.js';

const KEY = 'bfl-params-KEY-0001';

let bfl: FakeBfl | undefined;
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await bfl?.close();
  bfl = undefined;
  for (const c of cleanups.splice(0)) await c();
});

const png = (colour: string) => sharp({ create: { width: 8, height: 8, channels: 3, background: colour } }).png().toBuffer();

async function project(files: Record<string, string | Buffer>) {
  const p = await tempProject(files);
  cleanups.push(p.cleanup);
  return p;
}

async function issuesOf(manifest: string, provider: 'bfl' | 'replicate' = 'bfl'): Promise<InputIssue[]> {
  const p = await project({ 'm.yaml': manifest, 'ref.png': await png('#f00') });
  const { issues } = await loadManifest(path.join(p.dir, 'm.yaml'), { provider, family: provider });
  return issues.filter((i) => i.severity === 'error');
}

const one = (model: string, fields: string) => `version: 1
output: out
jobs:
  - { name: j, model: ${model}, prompt: "x"${fields ? `, ${fields}` : ''} }
`;

describe('per-model mistakes are refused before sending', () => {
  it('width on flux-pro-1.1-ultra names the model and the fields it takes', async () => {
    const [issue, ...rest] = await issuesOf(one('flux-pro-1.1-ultra', 'width: 1024'));
    expect(rest).toEqual([]);
    expect(issue).toMatchObject({ code: 'field-not-accepted', path: 'jobs[0].width' });
    expect(issue!.message).toContain('`width` is not a field of flux-pro-1.1-ultra; it takes: prompt, prompt_upsampling, seed, aspect_ratio');
    expect(issue!.message).toContain('raw');
    expect(issue!.hint).toContain('flux-dev');
  });

  it('flux-pro-1.0-fill without a mask (decided: mask is required, see models.ts)', async () => {
    const issues = await issuesOf(one('flux-pro-1.0-fill', 'image: ref.png'));
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ code: 'required-missing', message: 'flux-pro-1.0-fill needs `mask`' });
    expect(await issuesOf(one('flux-pro-1.0-fill', 'image: ref.png, mask: ref.png'))).toEqual([]);
    expect(await issuesOf(one('flux-pro-1.0-fill', 'mask: ref.png'))).toMatchObject([{ code: 'required-missing', message: 'flux-pro-1.0-fill needs `image`' }]);
  });

  it('a 9th input image on FLUX.2 [pro], a 5th on Kontext and [klein]', async () => {
    const eight = Array.from({ length: 8 }, (_, i) => `input_image${i ? `_${i + 1}` : ''}: ref.png`).join(', ');
    expect(await issuesOf(one('flux-2-pro', eight))).toEqual([]);
    const nine = await issuesOf(one('flux-2-pro', `${eight}, input_image_9: ref.png`));
    expect(nine.length).toBeGreaterThan(0);
    expect(nine.map((i) => i.path)).toContain('jobs[0].input_image_9');
    const kontext = await issuesOf(one('flux-kontext-pro', 'input_image: ref.png, input_image_5: ref.png'));
    expect(kontext).toMatchObject([{ code: 'too-many-images', path: 'jobs[0].input_image_5' }]);
    expect(kontext[0]!.message).toContain('flux-kontext-pro takes at most 4 input images');
    expect(await issuesOf(one('flux-2-klein-4b', 'input_image_5: ref.png'))).toMatchObject([{ code: 'too-many-images' }]);
  });

  it('FLUX.2 sizes: multiples of 16, at least 64, at most 4 MP; 0 lets the model choose', async () => {
    expect(await issuesOf(one('flux-2-pro', 'width: 1000, height: 768'))).toMatchObject([{ code: 'width-range', path: 'jobs[0].width' }]);
    expect(await issuesOf(one('flux-2-flex', 'width: 1024, height: 40'))).toMatchObject([{ code: 'height-range' }]);
    expect(await issuesOf(one('flux-2-max', 'width: 4096, height: 2048'))).toMatchObject([{ code: 'pixel-limit' }]);
    expect(await issuesOf(one('flux-2-pro', 'width: 1040, height: 784'))).toEqual([]);
    expect(await issuesOf(one('flux-2-pro', 'width: 0, height: 0'))).toEqual([]);
    // FLUX.1 sizes are multiples of 32
    expect(await issuesOf(one('flux-dev', 'width: 1040'))).toMatchObject([{ code: 'width-range' }]);
  });

  it('other per-model ranges: FLUX.2 safety 0–5, kontext aspect ratio 3:7–7:3, ultra 9:21–21:9, canny thresholds', async () => {
    expect(await issuesOf(one('flux-2-pro', 'safety_tolerance: 6'))).toMatchObject([{ code: 'field-value' }]);
    expect(await issuesOf(one('flux-kontext-pro', 'safety_tolerance: 6'))).toEqual([]);
    expect(await issuesOf(one('flux-kontext-pro', 'aspect_ratio: "5:2"'))).toMatchObject([{ code: 'aspect-ratio' }]);
    expect(await issuesOf(one('flux-pro-1.1-ultra', 'aspect_ratio: "21:9"'))).toEqual([]);
    expect(await issuesOf(one('flux-pro-1.0-canny', 'control_image: ref.png, canny_low_threshold: 600'))).toMatchObject([{ code: 'field-value' }]);
    expect(await issuesOf(one('flux-pro-1.0-depth', ''))).toMatchObject([{ code: 'required-missing', message: 'flux-pro-1.0-depth needs `control_image` or `preprocessed_image`' }]);
  });

  it('the CLI refuses them all at once with exit 2 and sends nothing', async () => {
    bfl = await startFakeBfl({ key: KEY });
    const p = await project({
      'ref.png': await png('#00f'),
      'flux.config.yaml': `provider: bfl\nbaseUrl: ${bfl.mainUrl}\n`,
      'm.yaml': `version: 1
output: out
jobs:
  - { name: ultra, model: flux-pro-1.1-ultra, prompt: "x", width: 1024 }
  - { name: fill, model: flux-pro-1.0-fill, prompt: "x", image: ref.png }
  - name: nine
    model: flux-2-pro
    prompt: "x"
    input_image: ref.png
    input_image_2: ref.png
    input_image_3: ref.png
    input_image_4: ref.png
    input_image_5: ref.png
    input_image_6: ref.png
    input_image_7: ref.png
    input_image_8: ref.png
    input_image_9: ref.png
  - { name: odd, model: flux-2-pro, prompt: "x", width: 1000, height: 1000 }
`,
    });
    const r = await runCli(['run', 'm.yaml'], { cwd: p.dir, env: { BFL_API_KEY: KEY } });
    expect(r.code).toBe(2);
    expect(bfl.stats.submits).toBe(0);
    const out = r.stdout + r.stderr;
    expect(out).toContain('`width` is not a field of flux-pro-1.1-ultra; it takes:');
    expect(out).toContain('flux-pro-1.0-fill needs `mask`');
    expect(out).toContain('input_image_9');
    expect(out).toMatch(/`width` must be a multiple of 16/);
  }, 30_000);
});

describe('in flight', () => {
  it('flux-kontext-max: at most 6 tasks in flight, whatever the concurrency', async () => {
    bfl = await startFakeBfl({ key: KEY, readyAfterMs: 250 });
    const p = await project({
      'ref.png': await png('#0f0'),
      'flux.config.yaml': `provider: bfl\nbaseUrl: ${bfl.mainUrl}\nconcurrency: 24\npolling: { expectedTaskMs: 50, minIntervalMs: 20, maxIntervalMs: 100 }\n`,
      'm.yaml': `version: 1
output: out
jobs:
  - name: k
    model: flux-kontext-max
    prompt: "edit {n}"
    input_image: ref.png
    matrix: { n: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14] }
  - name: p
    model: flux-kontext-pro
    prompt: "edit {n}"
    input_image: ref.png
    matrix: { n: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12] }
`,
    });
    const r = await runCli(['run', 'm.yaml'], { cwd: p.dir, env: { BFL_API_KEY: KEY } });
    expect(r.code).toBe(0);
    expect(bfl.stats.rejected422).toBe(0);
    expect(bfl.stats.accepted).toBe(26);
    expect(bfl.stats.maxInFlight['flux-kontext-max']).toBe(6);
    expect(bfl.stats.maxInFlight['flux-kontext-pro']).toBeGreaterThan(6);
    expect(getModel('flux-kontext-max')!.inFlight).toBe(6);
  }, 60_000);
});

describe('local reference images are part of the job key', () => {
  it('editing one reference image regenerates exactly the jobs that use it', async () => {
    const p = await project({
      'a.png': await png('#f00'),
      'b.png': await png('#0f0'),
      'm.yaml': `version: 1
output: out
defaults: { model: flux-kontext-pro }
jobs:
  - name: edit
    prompt: "winter {n}"
    matrix: { n: [1, 2], ref: [a.png, b.png] }
    input_image: "{ref}"
  - name: two
    model: flux-2-pro
    prompt: "both"
    input_image: b.png
    input_image_2: https://example.com/x.png
  - { name: plain, model: flux-dev, prompt: "no refs" }
`,
    });
    const first = await runCli(['run', 'm.yaml', '--provider', 'mock'], { cwd: p.dir });
    expect(first.code).toBe(0);
    const plan = async () => {
      const r = await runCli(['plan', 'm.yaml', '--provider', 'mock', '--json', '--jobs'], { cwd: p.dir });
      expect(r.code).toBe(0);
      const json = JSON.parse(r.stdout) as { jobs: { id: string; action: string }[] };
      return json.jobs.filter((j) => j.action === 'submit').map((j) => j.id).sort();
    };
    expect(await plan()).toEqual([]);
    await writeFile(path.join(p.dir, 'b.png'), await png('#00f'));
    expect(await plan()).toEqual(['edit:edit/n-1_ref-b.png', 'edit:edit/n-2_ref-b.png', 'two:two']);
    // Same bytes again (a touch, a copy): nothing to do.
    await writeFile(path.join(p.dir, 'b.png'), await png('#0f0'));
    expect(await plan()).toEqual([]);
  }, 60_000);
});

describe('webhook fields', () => {
  it('every model takes webhook_url and webhook_secret, and BFL gets them unchanged', async () => {
    for (const m of listModels().filter((x) => x.id !== 'flux-schnell')) {
      expect(Object.keys(m.fields), m.id).toEqual(expect.arrayContaining(['webhook_url', 'webhook_secret']));
    }
    bfl = await startFakeBfl({ key: KEY });
    const p = await project({
      'flux.config.yaml': `provider: bfl\nbaseUrl: ${bfl.mainUrl}\npolling: { expectedTaskMs: 50, minIntervalMs: 20, maxIntervalMs: 100 }\n`,
      'm.yaml': one('flux-2-flex', 'webhook_url: "https://hooks.example.com/a?b=c&d=%20e", webhook_secret: "whsec_AbC/+=="'),
    });
    const r = await runCli(['run', 'm.yaml'], { cwd: p.dir, env: { BFL_API_KEY: KEY } });
    expect(r.code).toBe(0);
    expect(bfl.stats.bodies[0]!.body).toMatchObject({ webhook_url: 'https://hooks.example.com/a?b=c&d=%20e', webhook_secret: 'whsec_AbC/+==' });
  }, 30_000);

  it('Replicate format: webhook_url becomes the top-level webhook; webhook_secret is refused', () => {
    expect(toReplicateRequest('flux-pro-1.1', { prompt: 'x', webhook_url: 'https://h.example.com' })).toEqual({
      input: { prompt: 'x' },
      webhook: 'https://h.example.com',
      problems: [],
    });
    expect(toReplicateRequest('flux-pro-1.1', { prompt: 'x', webhook_secret: 's' }).problems).toHaveLength(1);
  });
});

describe('flux-batch models', () => {
  it('text: every model with its fields, ranges and limits', async () => {
    const r = await runCli(['models'], { cwd: process.cwd() });
    expect(r.code).toBe(0);
    for (const m of listModels()) {
      expect(r.stdout, m.id).toMatch(new RegExp(`^${m.id.replace(/\./g, '\\.')} `, 'm'));
      for (const f of Object.keys(m.fields)) expect(r.stdout).toContain(f);
    }
    expect(r.stdout).toMatch(/flux-kontext-max .*in flight ≤ 6/);
    expect(r.stdout).toMatch(/flux-pro-1\.0-fill .*needs image \+ mask/);
    expect(r.stdout).toMatch(/flux-2-pro .*up to 8 input images/);
  });

  it('--json: every model with every field, and --provider filters', async () => {
    const r = await runCli(['models', '--json'], { cwd: process.cwd() });
    expect(r.code).toBe(0);
    const models = JSON.parse(r.stdout) as { id: string; fields: Record<string, { type: string }>; inFlight: number; maxInputImages: number }[];
    expect(models.map((m) => m.id)).toEqual(listModels().map((m) => m.id));
    for (const m of models) expect(Object.keys(m.fields)).toEqual(Object.keys(getModel(m.id)!.fields));
    expect(models.find((m) => m.id === 'flux-pro-1.1-ultra')!.fields.width).toBeUndefined();
    expect(models.find((m) => m.id === 'flux-2-pro')!.maxInputImages).toBe(8);
    const rep = JSON.parse((await runCli(['models', '--json', '--provider', 'replicate'], { cwd: process.cwd() })).stdout) as { id: string }[];
    expect(rep.map((m) => m.id)).toContain('flux-schnell');
    expect(rep.map((m) => m.id)).not.toContain('flux-pro-1.0-fill');
  });
});
