// Contact sheets: rows × columns by two matrix axes, labelled, failed cells marked; rebuilt only
// when a cell changes.
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { validateManifestText } from '../src/manifest/index.js';
import { runCli, tempProject } from './helpers/cli.js';

const MANIFEST = `version: 1
output: out
defaults: { model: flux-dev, width: 256, height: 256, output_format: png }
jobs:
  - name: grid
    prompt: "{style} cat {extra}"
    matrix: { style: [ink, oil, "pixel [nsfw]"], seed: [1, 2], extra: [a, b] }
    contact_sheet: { rows: style, columns: seed, cell: 64 }
`;

describe('contact sheets', () => {
  let project: Awaited<ReturnType<typeof tempProject>> | undefined;
  afterEach(async () => project?.cleanup());

  it('draws one labelled grid per value of the other axes, marks failed cells, and skips unchanged reruns', async () => {
    project = await tempProject({ 'a.yaml': MANIFEST, 'flux.config.yaml': 'provider: mock\nmock: { taskMs: 0 }\n' });
    expect((await runCli(['run', 'a.yaml'], { cwd: project.dir })).code).toBe(1);
    const sheet = path.join(project.dir, 'out/contact/grid/extra-a.png');
    expect((await stat(path.join(project.dir, 'out/contact/grid/extra-b.png'))).isFile()).toBe(true);
    const { data, info } = await sharp(sheet).raw().toBuffer({ resolveWithObject: true });
    expect(info.height).toBe(54 + 3 * 72); // title + column labels, 3 rows of 64 + 8
    expect(info.width).toBeGreaterThanOrEqual(2 * 72);
    // Third row (pixel [nsfw]) was moderated: its cells are drawn with a red border and cross.
    const redIn = (x0: number, y0: number) => {
      let n = 0;
      for (let y = y0; y < y0 + 64; y++) {
        for (let x = x0; x < x0 + 64; x++) {
          const i = (y * info.width + x) * info.channels;
          if (data[i]! > 180 && data[i + 1]! < 90 && data[i + 2]! < 90) n++;
        }
      }
      return n;
    };
    const left = 12 + 'pixel [nsfw]'.length * 8; // the row labels' column
    expect(redIn(left, 54 + 2 * 72)).toBeGreaterThan(200);
    expect(redIn(left + 72, 54 + 2 * 72)).toBeGreaterThan(200);
    expect(redIn(left, 54)).toBeLessThan(20);
    const mtime = (await stat(sheet)).mtimeMs;
    expect((await runCli(['run', 'a.yaml'], { cwd: project.dir })).code).toBe(1);
    expect((await stat(sheet)).mtimeMs).toBe(mtime);
    expect((await readFile(sheet)).includes(Buffer.from('flux-batch:inputs'))).toBe(true);
  });

  it('reports an axis the job does not have, at its line', () => {
    const r = validateManifestText(MANIFEST.replace('rows: style', 'rows: stlye'), 'a.yaml', { provider: 'mock', family: 'mock' });
    expect(r.issues.map((i) => [i.code, i.path, i.line, i.hint])).toEqual([['contact-sheet-axis', 'jobs[0].contact_sheet.rows', 8, expect.stringContaining('style')]]);
  });
});
