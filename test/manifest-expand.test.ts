// Expansion: defaults, matrix order, include/exclude, seeds, templates, paths and keys.
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { validateManifestText, type LoadManifestOptions } from '../src/manifest/index.js';
import type { Job } from '../src/types.js';

const FILE = join(import.meta.dirname, 'fixtures/manifests/good/inline.yaml');
const OPTS: LoadManifestOptions = { provider: 'mock', family: 'mock' };

function expand(yaml: string, opts = OPTS): Job[] {
  const { manifest, issues } = validateManifestText(yaml, FILE, opts);
  expect(issues.filter((i) => i.severity === 'error')).toEqual([]);
  return manifest?.jobs ?? [];
}

function issuesOf(yaml: string) {
  return validateManifestText(yaml, FILE, OPTS).issues;
}

const HERO = `
version: 1
defaults: { model: flux-dev, width: 512, height: 512 }
jobs:
  - name: hero
    prompt: "pixel-art {class} hero, {pose} pose"
    matrix:
      class: [knight, mage]
      pose: [idle, run]
      seed: [1, 2]
`;

describe('matrix', () => {
  test('cross product in key order, defaults under the job', () => {
    const jobs = expand(HERO);
    expect(jobs.map((j) => j.path)).toEqual([
      'hero/class-knight_pose-idle_seed-1',
      'hero/class-knight_pose-idle_seed-2',
      'hero/class-knight_pose-run_seed-1',
      'hero/class-knight_pose-run_seed-2',
      'hero/class-mage_pose-idle_seed-1',
      'hero/class-mage_pose-idle_seed-2',
      'hero/class-mage_pose-run_seed-1',
      'hero/class-mage_pose-run_seed-2',
    ]);
    expect(jobs[5]).toMatchObject({
      name: 'hero',
      id: 'hero:hero/class-mage_pose-idle_seed-2',
      model: 'flux-dev',
      request: { width: 512, height: 512, seed: 2, prompt: 'pixel-art mage hero, idle pose' },
      vars: { class: 'mage', pose: 'idle' },
      index: 5,
      post: [],
      outputs: [],
    });
    expect(jobs[0]?.request).not.toHaveProperty('model');
    expect(jobs.map((j) => j.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  test('request-field axes set the request (model, width)', () => {
    const jobs = expand(`
version: 1
jobs:
  - name: cmp
    prompt: a fox
    matrix:
      model: [flux-dev, flux-pro-1.1]
      width: [512, 1024]
`);
    expect(jobs.map((j) => [j.model, j.request.width])).toEqual([
      ['flux-dev', 512],
      ['flux-dev', 1024],
      ['flux-pro-1.1', 512],
      ['flux-pro-1.1', 1024],
    ]);
    expect(jobs[0]?.vars).toEqual({});
  });

  test('exclude drops partial matches; include adds cells', () => {
    const jobs = expand(`${HERO}    exclude: [{ class: mage, pose: run }]
    include: [{ class: rogue, pose: idle, seed: 9 }]
`);
    expect(jobs).toHaveLength(7);
    expect(jobs.some((j) => j.vars.class === 'mage' && j.vars.pose === 'run')).toBe(false);
    expect(jobs.at(-1)).toMatchObject({ path: 'hero/class-rogue_pose-idle_seed-9', request: { seed: 9, prompt: 'pixel-art rogue hero, idle pose' }, index: 6 });
  });

  test('an exclude that matches nothing is a warning', () => {
    const issues = issuesOf(`${HERO}    exclude: [{ class: ranger }]\n`);
    expect(issues).toMatchObject([{ code: 'exclude-unused', severity: 'warning', path: 'jobs[0].exclude[0]', line: 11 }]);
  });

  test('include alone lists the cells', () => {
    const jobs = expand(`
version: 1
defaults: { model: flux-dev }
jobs:
  - name: pets
    prompt: "a {animal}"
    include: [{ animal: cat }, { animal: dog }]
`);
    expect(jobs.map((j) => j.request.prompt)).toEqual(['a cat', 'a dog']);
  });
});

describe('seeds', () => {
  const withSeed = (seed: string) => `
version: 1
defaults: { model: flux-dev }
jobs:
  - name: s
    prompt: a fox
    seed: ${seed}
`;
  test('ranges {from, count} and {from, to} are inclusive axes', () => {
    expect(expand(withSeed('{ from: 100, count: 3 }')).map((j) => j.request.seed)).toEqual([100, 101, 102]);
    expect(expand(withSeed('{ from: 5, to: 7 }')).map((j) => j.request.seed)).toEqual([5, 6, 7]);
    expect(expand(withSeed('[3, 1]')).map((j) => j.request.seed)).toEqual([3, 1]);
  });
  test('a single int pins the seed; no value sends none', () => {
    expect(expand(withSeed('42')).map((j) => [j.request.seed, j.path])).toEqual([[42, 's']]);
    const [none] = expand(withSeed(''));
    expect(none?.request).not.toHaveProperty('seed');
  });
  test('range in matrix', () => {
    const jobs = expand(`
version: 1
defaults: { model: flux-dev }
jobs:
  - name: s
    prompt: a fox
    matrix: { style: [ink], seed: { from: 1, count: 2 } }
`);
    expect(jobs.map((j) => j.path)).toEqual(['s/style-ink_seed-1', 's/style-ink_seed-2']);
  });
  test('a backwards range and a doubled seed axis are errors', () => {
    expect(issuesOf(withSeed('{ from: 9, to: 3 }'))).toMatchObject([{ code: 'seed-invalid', path: 'jobs[0].seed.to' }]);
    expect(issuesOf(withSeed('{ from: 9 }'))).toMatchObject([{ code: 'seed-invalid', path: 'jobs[0].seed' }]);
    const both = issuesOf(`${withSeed('[1, 2]')}    matrix: { seed: [3] }\n`);
    expect(both.map((i) => i.code)).toContain('seed-conflict');
  });
  test('{seed} with no seed is an error', () => {
    const issues = issuesOf(withSeed('').replace('a fox', '"a fox #{seed}"'));
    expect(issues).toMatchObject([{ code: 'template-no-seed', path: 'jobs[0].prompt' }]);
  });
});

describe('templates', () => {
  const one = (prompt: string, extra = '') =>
    validateManifestText(
      `version: 1\ndefaults: { model: flux-dev }\njobs:\n  - name: t\n    prompt: ${JSON.stringify(prompt)}\n    matrix: { c: [red] }\n    seed: 3\n${extra}`,
      FILE,
      OPTS,
    );
  test('builtins and escapes', () => {
    const { manifest } = one('{{literal}} {c} {job} {model} {seed} {index} }}');
    expect(manifest?.jobs[0]?.request.prompt).toBe('{literal} red t flux-dev 3 0 }');
  });
  test('malformed templates and {hash} in a request are errors', () => {
    expect(one('a { b').issues).toMatchObject([{ code: 'template-syntax', path: 'jobs[0].prompt', line: 5 }]);
    expect(one('a } b').issues).toMatchObject([{ code: 'template-syntax' }]);
    expect(one('x {hash}').issues).toMatchObject([{ code: 'template-hash-in-request' }]);
  });
  test('{hash} works in path and is the key prefix', () => {
    const { manifest } = one('a {c}', '    path: "{job}/{hash}"\n');
    const job = manifest?.jobs[0];
    expect(job?.path).toBe(`t/${job?.key.slice(0, 8)}`);
  });
  test('variable values are made file-name safe in paths', () => {
    const jobs = expand(`
version: 1
defaults: { model: flux-dev }
jobs:
  - name: t
    prompt: "{what}"
    matrix: { what: ["a red/blue ball?", ".."] }
    path: "{job}/{what}"
`);
    expect(jobs.map((j) => j.path)).toEqual(['t/a-red-blue-ball', 't/_']);
    expect(jobs[0]?.request.prompt).toBe('a red/blue ball?');
  });
});

describe('paths', () => {
  test('adding a matrix value keeps the keys and paths of existing jobs', () => {
    const before = expand(HERO);
    const after = expand(HERO.replace('class: [knight, mage]', 'class: [archer, knight, mage]').replace('seed: [1, 2]', 'seed: [1, 2, 0]'));
    expect(after).toHaveLength(18);
    const byPath = new Map(after.map((j) => [j.path, j]));
    for (const job of before) {
      expect(byPath.get(job.path)?.key).toBe(job.key);
      expect(byPath.get(job.path)?.id).toBe(job.id);
    }
  });

  test('collisions between jobs, including case-only ones', () => {
    const issues = issuesOf(`
version: 1
defaults: { model: flux-dev }
jobs:
  - name: a
    prompt: x
    path: shared/Img
  - name: b
    prompt: y
    path: shared/img
`);
    expect(issues).toMatchObject([{ code: 'path-collision', path: 'jobs[1].path', line: 10 }]);
    expect(issues[0]?.message).toContain('differing only in case');
  });

  test('output suffixes count in collisions', () => {
    const issues = issuesOf(`
version: 1
defaults: { model: flux-dev }
jobs:
  - name: a
    prompt: x
    path: p
    outputs: [{ png: {}, suffix: "-pal" }]
  - name: b
    prompt: y
    path: p-pal
`);
    expect(issues.map((i) => i.code)).toEqual(['path-collision']);
  });

  test.each(['/abs/path', '../up', 'a/../../b', 'C:/win', 'a\\\\b', ''])('path %j is refused', (p) => {
    const issues = issuesOf(`version: 1\ndefaults: { model: flux-dev }\njobs:\n  - name: a\n    prompt: x\n    path: "${p}"\n`);
    expect(issues.map((i) => i.code)).toEqual(['path-outside-output']);
  });

  test('outputs and post are normalised', () => {
    const [job] = expand(`
version: 1
defaults: { model: flux-dev }
jobs:
  - name: a
    prompt: x
    post: [{ resize: { width: 64 } }, { trim: {} }]
    outputs: [{ webp: { quality: 90 } }, { png: { palette: true }, suffix: "-pal" }]
`);
    expect(job?.post).toEqual([
      { op: 'resize', options: { width: 64 } },
      { op: 'trim', options: {} },
    ]);
    expect(job?.outputs).toEqual([
      { format: 'webp', options: { quality: 90 }, suffix: '' },
      { format: 'png', options: { palette: true }, suffix: '-pal' },
    ]);
  });
});

describe('keys', () => {
  test('deterministic, and independent of key order in the YAML', () => {
    const a = expand(HERO);
    const b = expand(HERO);
    expect(a.map((j) => j.key)).toEqual(b.map((j) => j.key));
    const swapped = expand(HERO.replace('defaults: { model: flux-dev, width: 512, height: 512 }', 'defaults: { height: 512, width: 512, model: flux-dev }'));
    expect(swapped.map((j) => j.key)).toEqual(a.map((j) => j.key));
    expect(new Set(a.map((j) => j.key)).size).toBe(a.length);
  });

  test('family is part of the key', () => {
    const mock = expand(HERO);
    const bfl = expand(HERO, { provider: 'bfl', family: 'bfl' });
    expect(bfl[0]?.key).not.toBe(mock[0]?.key);
  });

  test('local image inputs are hashed by content', () => {
    const yaml = `
version: 1
jobs:
  - name: e
    model: flux-kontext-pro
    prompt: night
    input_image: refs/knight.png
`;
    const [job] = expand(yaml);
    expect(job?.request.input_image).toBe('refs/knight.png');
    expect(job?.inputs).toEqual({ input_image: join(import.meta.dirname, 'fixtures/manifests/good/refs/knight.png') });
    const other = validateManifestText(yaml, join(import.meta.dirname, 'fixtures/manifests/bad/x.yaml'), OPTS);
    expect(other.issues).toMatchObject([{ code: 'input-missing' }]);
    const [url] = expand(yaml.replace('refs/knight.png', 'https://example.com/k.png'));
    expect(url?.inputs).toBeUndefined();
  });
});

describe('every problem at once', () => {
  test('issues from schema, rules and cells come together, sorted by line', () => {
    const issues = issuesOf(`
version: 1
defaults: { model: flux-dev }
jobs:
  - name: a
    prompt: x
    colour: red
  - name: b
    prompt: "{nope}"
    width: 250
    post: [{ blurr: 3 }]
  - name: a
    prompt: z
`);
    expect(issues.map((i) => [i.code, i.line])).toEqual([
      ['unknown-key', 7],
      ['template-undefined', 9],
      ['width-range', 10],
      ['unknown-post-op', 11],
      ['duplicate-job-name', 12],
    ]);
  });

  test('garbage never throws', () => {
    for (const text of ['', '~', '[', '{a: 1}', 'jobs: 3', 'version: 1\njobs: [1, "x", null]', '\u0000\u0001', 'a: *x', '- - - ']) {
      expect(() => validateManifestText(text, FILE, OPTS)).not.toThrow();
      expect(validateManifestText(text, FILE, OPTS).issues.length).toBeGreaterThan(0);
    }
  });
});
