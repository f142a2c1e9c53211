// `flux-batch export --format imagefolder`: the Hugging Face ImageFolder layout, done jobs only.
import { readFile, readdir, stat, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { metadataJsonl } from '../src/export/imagefolder.js';
import { readEmbeddedProvenance } from '../src/post/provenance.js';
import { runCli, tempProject } from './helpers/cli.js';

const MANIFEST = `version: 1
output: out
defaults: { model: flux-dev, width: 256, height: 256, output_format: png, provenance: embed }
jobs:
  - name: icons
    prompt: "{thing} icon {mood}"
    matrix: { thing: [sword, "shield [nsfw]"], seed: [1, 2] }
    include: [{ thing: bow, seed: 3, mood: happy }]
    path: "icons/{thing}-{seed}"
    outputs: [{ webp: {} }, { png: {}, suffix: "-full" }]
  - name: plain
    prompt: "a plain square"
    seed: 9
`;

describe('flux-batch export', () => {
  let project: Awaited<ReturnType<typeof tempProject>> | undefined;
  afterEach(async () => project?.cleanup());

  it('writes train/ with metadata.jsonl for done jobs, refuses a non-empty folder without --force', async () => {
    project = await tempProject({ 'a.yaml': MANIFEST.replace(' {mood}', ''), 'flux.config.yaml': 'provider: mock\nmock: { taskMs: 0 }\n' });
    const run = await runCli(['run', 'a.yaml'], { cwd: project.dir });
    expect(run.code).toBe(1); // the two [nsfw] cells are moderated
    const ex = await runCli(['export', 'a.yaml', '--format', 'imagefolder', 'ds'], { cwd: project.dir });
    expect([ex.code, ex.stderr]).toEqual([0, '']);
    expect(ex.stdout).toMatch(/exported 4 images .* 2 skipped/);
    const train = path.join(project.dir, 'ds/train');
    const lines = (await readFile(path.join(train, 'metadata.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.file_name)).toEqual(['icons/bow-3.webp', 'icons/sword-1.webp', 'icons/sword-2.webp', 'plain.png']);
    expect(lines[0]).toEqual({ file_name: 'icons/bow-3.webp', prompt: 'bow icon', seed: 3, model: 'flux-dev', job: 'icons', mood: 'happy', thing: 'bow' });
    expect(lines[3]).toEqual({ file_name: 'plain.png', prompt: 'a plain square', seed: 9, model: 'flux-dev', job: 'plain', mood: null, thing: null });
    expect(Object.keys(lines[3])).toEqual(['file_name', 'prompt', 'seed', 'model', 'job', 'mood', 'thing']);
    // The exported image is the chosen output, its metadata agrees with what is embedded in it.
    const img = await readFile(path.join(train, 'icons/sword-2.webp'));
    expect(img.equals(await readFile(path.join(project.dir, 'out/icons/sword-2.webp')))).toBe(true);
    expect(await readEmbeddedProvenance(img)).toMatchObject({ prompt: lines[2].prompt, seed: 2, model: 'flux-dev', vars: { thing: 'sword' } });
    expect((await stat(path.join(train, 'plain.png'))).nlink).toBe(2); // hard-linked

    const again = await runCli(['export', 'a.yaml', 'ds'], { cwd: project.dir });
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/export folder .*ds is not empty\n  fix: .*--force/);
    await writeFile(path.join(train, 'stray.txt'), 'x');
    // Another output by its suffix (jobs without it are skipped), copied rather than linked.
    const forced = await runCli(['export', 'a.yaml', 'ds', '--force', '--copy', '--output=-full'], { cwd: project.dir });
    expect(forced.code).toBe(0);
    expect(forced.stdout).toMatch(/exported 3 images \(0 hard-linked\).*3 skipped/);
    expect((await readdir(train)).sort()).toEqual(['icons', 'metadata.jsonl']);
    expect((await readdir(path.join(train, 'icons'))).sort()).toEqual(['bow-3.png', 'sword-1.png', 'sword-2.png']);
    expect((await stat(path.join(train, 'icons/bow-3.png'))).nlink).toBe(1);
  });

  it('refuses an unknown format and a folder holding the outputs', async () => {
    project = await tempProject({ 'a.yaml': MANIFEST, 'flux.config.yaml': 'provider: mock\n' });
    await mkdir(path.join(project.dir, 'x'));
    expect((await runCli(['export', 'a.yaml', '--format', 'webdataset', 'x'], { cwd: project.dir })).stderr).toMatch(/unknown --format "webdataset"/);
    const r = await runCli(['export', 'a.yaml', '..', '--split', path.basename(project.dir)], { cwd: project.dir });
    expect(r.code).toBe(2);
  });

  it('gives every line every column', () => {
    expect(metadataJsonl([{ file_name: 'b.png', prompt: 'p', seed: 1, model: 'm', job: 'j', z: 1 }, { file_name: 'a.png', prompt: 'q', seed: null, model: 'm', job: 'k', a: true }])).toBe(
      '{"file_name":"a.png","prompt":"q","seed":null,"model":"m","job":"k","a":true,"z":null}\n{"file_name":"b.png","prompt":"p","seed":1,"model":"m","job":"j","a":null,"z":1}\n',
    );
  });
});
