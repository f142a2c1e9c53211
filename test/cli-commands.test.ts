// The CLI as a user meets it: the broken-manifest corpus through `validate` and `run`, `plan`,
// `status`, `gc`, help and usage errors. Real processes; the mock provider needs no server.
import { copyFile, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, runCli, tempProject } from './helpers/cli.js';

const BAD = path.join(ROOT, 'test/fixtures/manifests/bad');
const MOCK_CONFIG = 'provider: mock\nmock: { taskMs: 0 }\n';

const sprites = `version: 1
output: out
defaults: { model: flux-dev, width: 256, height: 256, output_format: png }
jobs:
  - name: hero
    prompt: "pixel {class} hero"
    matrix:
      class: [knight, mage]
      seed: [1, 2]
    path: "{class}-{seed}"
    post:
      - resize: { width: 32, height: 32 }
    outputs:
      - webp: { quality: 80 }
  - name: bad
    prompt: "hero [moderated]"
    seed: 5
`;

describe('the broken-manifest corpus', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let files: string[];
  beforeAll(async () => {
    ({ dir, cleanup } = await tempProject({ 'flux.config.yaml': MOCK_CONFIG }));
    files = (await readdir(BAD)).filter((f) => f.endsWith('.yaml')).sort();
    for (const f of files) await copyFile(path.join(BAD, f), path.join(dir, f));
  });
  afterAll(() => cleanup());

  it('has at least 14 kinds of mistakes, binary garbage among them', () => {
    expect(files.length).toBeGreaterThanOrEqual(14);
    expect(files).toContain('binary-garbage.yaml');
  });

  it('validate and run each exit 2 naming the file (and line), with no stack trace and nothing written', async () => {
    for (const f of files) {
      for (const command of ['validate', 'run']) {
        const r = await runCli([command, f], { cwd: dir });
        const where = `${command} ${f}`;
        expect(r.code, `${where}: ${r.stderr}`).toBe(2);
        expect(r.stderr, where).toContain(f);
        expect(r.stderr, where).not.toMatch(/\n\s+at .+:\d+:\d+/);
        expect(r.stderr, where).toMatch(/nothing was sent or written|error/);
        if (!['binary-garbage.yaml', 'latin1.yaml', 'input-missing.yaml'].includes(f)) expect(r.stderr, where).toMatch(new RegExp(`${f.replace('.', '\\.')}:\\d+`));
      }
    }
    const left = (await readdir(dir)).filter((f) => !f.endsWith('.yaml'));
    expect(left).toEqual([]); // no lock, no cache, no output folder
  }, 120_000);
});

describe('plan, run, status, gc on the mock provider', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ dir, cleanup } = await tempProject({ 'flux.config.yaml': MOCK_CONFIG, 's.yaml': sprites }));
  });
  afterAll(() => cleanup());

  it('plan shows the jobs by action and model, with a cost estimate, and writes nothing', async () => {
    const r = await runCli(['plan', 's.yaml', '--jobs'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/5 jobs on provider mock/);
    expect(r.stdout).toMatch(/submit 5/);
    expect(r.stdout).toMatch(/flux-dev/);
    expect(r.stdout).toMatch(/estimated cost/);
    expect(r.stdout).toMatch(/No request was made/);
    expect((await readdir(dir)).sort()).toEqual(['flux.config.yaml', 's.yaml']);
    const j = JSON.parse((await runCli(['plan', 's.yaml', '--json'], { cwd: dir })).stdout);
    expect(j.byAction.submit).toBe(5);
    expect(j.jobs).toHaveLength(5);
  });

  it('run exits 1 when a job is moderated, names the reason, and finishes the others', async () => {
    const r = await runCli(['run', 's.yaml'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/4 generated/);
    expect(r.stdout).toMatch(/1 failed/);
    expect(r.stdout).toMatch(/Request Moderated/);
    expect((await readdir(path.join(dir, 'out'))).filter((f) => f.endsWith('.webp'))).toHaveLength(4);
  });

  it('status reports done / stale / pending / failed from the lock and files, with no request', async () => {
    await rm(path.join(dir, 'out/knight-1.webp'));
    const r = await runCli(['status', 's.yaml'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/done 3, stale 1, pending 0, failed 1/);
    const j = JSON.parse((await runCli(['status', 's.yaml', '--json'], { cwd: dir })).stdout);
    expect(j.totals).toEqual({ done: 3, stale: 1, pending: 0, failed: 1 });
    expect(j.jobs.find((x: { id: string }) => x.id.startsWith('bad')).error).toMatch(/moderated/i);
  });

  it('a rerun keeps the failed job failed unless --retry-failed, and restores the deleted output', async () => {
    const r = await runCli(['run', 's.yaml'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/1 rebuilt/);
    expect(r.stdout).toMatch(/0 generated/);
    expect(r.stdout).toMatch(/--retry-failed/);
    const again = await runCli(['run', 's.yaml', '--retry-failed'], { cwd: dir });
    expect(again.code).toBe(1);
    expect(again.stdout).toMatch(/paid generations 1\b/);
  });

  it('gc removes cached originals no lock refers to, and --outputs lists orphans before deleting', async () => {
    // Drop one job from the manifest: its lock entry leaves at compaction, its files become orphans.
    await writeFile(path.join(dir, 's.yaml'), sprites.replace('class: [knight, mage]', 'class: [knight]'));
    expect((await runCli(['run', 's.yaml'], { cwd: dir })).code).toBe(1);
    const lock = await readFile(path.join(dir, 's.lock'), 'utf8');
    expect(lock).not.toMatch(/mage/);
    const dry = await runCli(['gc', 's.yaml', '--outputs', '--dry-run'], { cwd: dir });
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/would remove 2 cached originals/);
    expect(dry.stdout).toMatch(/mage-1\.webp/);
    const real = await runCli(['gc', 's.yaml', '--outputs', '--yes'], { cwd: dir });
    expect(real.stdout).toMatch(/removed 2 cached originals/);
    expect(real.stdout).toMatch(/removed 2 output file/);
    expect((await readdir(path.join(dir, 'out'))).filter((f) => f.endsWith('.webp')).sort()).toEqual(['knight-1.webp', 'knight-2.webp']);
    // What the lock still refers to is intact: a rerun has nothing to generate.
    const after = await runCli(['run', 's.yaml'], { cwd: dir });
    expect(after.stdout).toMatch(/0 generated, 0 rebuilt, 2 up to date/);
  });
});

describe('a post-processing error', () => {
  it('fails the job (exit 1) without recording it: after fixing the manifest the rerun rebuilds from the cache, paying nothing', async () => {
    const crop = (left: number) => `version: 1
output: out
defaults: { model: flux-dev, width: 256, height: 256, output_format: png }
jobs:
  - name: crop
    prompt: "a crate"
    seed: 3
    post:
      - extract: { left: ${left}, top: 0, width: 64, height: 64 }
`;
    const { dir, cleanup } = await tempProject({ 'flux.config.yaml': MOCK_CONFIG, 'c.yaml': crop(400) });
    try {
      const bad = await runCli(['run', 'c.yaml'], { cwd: dir });
      expect(bad.code).toBe(1);
      expect(bad.stdout).toMatch(/1 failed/);
      expect(bad.stdout).toMatch(/extract/);
      expect(bad.stdout).toMatch(/paid generations 1\b/);
      await writeFile(path.join(dir, 'c.yaml'), crop(10));
      const fixed = await runCli(['run', 'c.yaml'], { cwd: dir });
      expect(fixed.code).toBe(0);
      expect(fixed.stdout).toMatch(/0 generated, 1 rebuilt/);
      expect(fixed.stdout).toMatch(/paid generations 0\b/);
    } finally {
      await cleanup();
    }
  });
});

describe('usage', () => {
  it('--help for every command, --version, and clear usage errors with exit 2', async () => {
    for (const c of ['run', 'plan', 'validate', 'status', 'gc', 'models', 'sim']) {
      const r = await runCli([c, '--help'], { cwd: ROOT });
      expect(r.code, c).toBe(0);
      expect(r.stdout, c).toMatch(new RegExp(`Usage: flux-batch ${c}`));
    }
    const v = await runCli(['--version'], { cwd: ROOT });
    expect(v.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    const bad = await runCli(['run'], { cwd: ROOT });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/missing the manifest/);
    const flag = await runCli(['plan', 'x.yaml', '--concurrency', 'lots'], { cwd: ROOT });
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(/--concurrency must be a whole number/);
    const unknown = await runCli(['frobnicate'], { cwd: ROOT });
    expect(unknown.code).toBe(2);
  });
});
