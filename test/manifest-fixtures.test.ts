// Every broken fixture yields its issue: code, line and key path. Good fixtures yield none.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { loadManifest, type LoadManifestOptions } from '../src/manifest/index.js';

const DIR = join(import.meta.dirname, 'fixtures/manifests');
const BFL: LoadManifestOptions = { provider: 'bfl', family: 'bfl' };

const load = (kind: 'good' | 'bad', name: string, opts = BFL) => loadManifest(join(DIR, kind, name), opts);

// [fixture, code, line, path]
const BAD: [string, string, number, string][] = [
  ['yaml-syntax.yaml', 'yaml-syntax', 4, ''],
  ['duplicate-key.yaml', 'duplicate-key', 6, ''],
  ['binary-garbage.yaml', 'not-text', 3, ''],
  ['latin1.yaml', 'not-text', 3, ''],
  ['not-a-mapping.yaml', 'not-a-mapping', 1, ''],
  ['unknown-key.yaml', 'unknown-key', 5, 'jobs[0].promt'],
  ['wrong-type.yaml', 'wrong-type', 7, 'jobs[0].width'],
  ['bad-version.yaml', 'bad-version', 1, 'version'],
  ['empty-jobs.yaml', 'no-jobs', 3, 'jobs'],
  ['duplicate-names.yaml', 'duplicate-job-name', 9, 'jobs[2].name'],
  ['unknown-model.yaml', 'unknown-model', 5, 'jobs[0].model'],
  ['field-not-accepted.yaml', 'field-not-accepted', 6, 'jobs[0].steps'],
  ['width-range.yaml', 'width-range', 8, 'jobs[0].matrix.width[1]'],
  ['flux2-size.yaml', 'pixel-limit', 6, 'jobs[0].width'],
  ['aspect-ratio.yaml', 'aspect-ratio', 6, 'jobs[0].aspect_ratio'],
  ['seed-negative.yaml', 'seed-invalid', 10, 'jobs[1].matrix.seed[2]'],
  ['seed-not-integer.yaml', 'seed-invalid', 6, 'jobs[0].seed'],
  ['template-undefined.yaml', 'template-undefined', 6, 'jobs[0].prompt'],
  ['path-collision.yaml', 'path-collision', 10, 'jobs[0].path'],
  ['path-escape.yaml', 'path-outside-output', 7, 'jobs[0].path'],
  ['unknown-post-op.yaml', 'unknown-post-op', 9, 'jobs[0].post[1].resise'],
  ['unknown-output-format.yaml', 'unknown-output-format', 9, 'jobs[0].outputs[1].jpg'],
  ['output-collision.yaml', 'output-collision', 9, 'jobs[0].outputs[1]'],
  ['required-missing.yaml', 'required-missing', 3, 'jobs[0]'],
  ['too-many-images.yaml', 'too-many-images', 10, 'jobs[0].input_image_5'],
  ['api-key.yaml', 'secret-in-manifest', 2, 'api_key'],
  ['bearer-value.yaml', 'secret-in-manifest', 6, 'jobs[0].prompt'],
  ['too-many-jobs.yaml', 'too-many-jobs', 4, 'jobs'],
  ['input-missing.yaml', 'input-missing', 6, 'jobs[0].input_image'],
];

describe('bad manifests', () => {
  test('every fixture in bad/ is covered', () => {
    expect(readdirSync(join(DIR, 'bad')).sort()).toEqual(BAD.map(([f]) => f).sort());
  });

  test.each(BAD)('%s → %s at line %i (%s)', async (file, code, line, path) => {
    const { manifest, issues } = await load('bad', file);
    expect(manifest).toBeUndefined();
    const errors = issues.filter((i) => i.severity === 'error');
    expect(errors.map((i) => i.code)).toContain(code);
    const issue = errors.find((i) => i.code === code);
    expect(issue).toMatchObject({ line, path, file: join(DIR, 'bad', file) });
    expect(issue?.message).toBeTruthy();
    // One problem per fixture: nothing else piles on.
    expect(errors).toHaveLength(1);
  });

  test('messages say what, where and the fix', async () => {
    const width = (await load('bad', 'width-range.yaml')).issues[0];
    expect(width?.message).toMatchInlineSnapshot(`"\`width\` must be a multiple of 32 between 256 and 1440 for flux-dev, got 250"`);
    const key = (await load('bad', 'unknown-key.yaml')).issues[0];
    expect([key?.message, key?.hint]).toMatchInlineSnapshot(`
      [
        "unknown key \`promt\` in \`jobs[0]\`",
        "did you mean \`prompt\`?",
      ]
    `);
    const secret = (await load('bad', 'api-key.yaml')).issues[0];
    expect(secret?.hint).toMatch(/keys come only from the environment COMETAPI_KEY \/ BFL_API_KEY/);
    expect(JSON.stringify(secret)).not.toContain('0123456789abcdef0123');
  });

  test('too-many-jobs names --max-jobs, and a higher limit lets it through', async () => {
    const { issues } = await load('bad', 'too-many-jobs.yaml');
    expect(issues[0]?.hint).toContain('--max-jobs');
    const raised = await load('bad', 'too-many-jobs.yaml', { ...BFL, maxJobs: 20_000 });
    expect(raised.issues).toEqual([]);
    expect(raised.manifest?.jobs).toHaveLength(20_000);
  });

  test('a model another provider offers is named as such', async () => {
    const { issues } = await loadManifest(join(DIR, 'good', 'minimal.yaml'), { provider: 'replicate', family: 'replicate' });
    expect(issues).toEqual([]);
    const ultra = await loadManifest(join(DIR, 'good', 'edit-flux2.yaml'), { provider: 'replicate', family: 'replicate' });
    expect(ultra.issues.find((i) => i.code === 'unknown-model')?.message).toContain('model `flux-pro-1.0-fill` is not offered by replicate');
  });

  test('a missing file is an issue, not a throw', async () => {
    const { issues } = await load('bad', 'nope.yaml');
    expect(issues).toMatchObject([{ code: 'file-not-found', severity: 'error' }]);
  });
});

describe('good manifests', () => {
  test.each(readdirSync(join(DIR, 'good')).filter((f) => f.endsWith('.yaml')))('%s has no issues', async (file) => {
    const { manifest, issues } = await load('good', file);
    expect(issues).toEqual([]);
    expect(manifest?.jobs.length).toBeGreaterThan(0);
  });
});
