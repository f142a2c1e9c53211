#!/usr/bin/env node
// flux-batch benchmarks: numbers, never pass/fail. `npm run bench` (builds first), or
// `node bench/run.js [overhead] [makespan] [rerun]` to pick sections.
//
// 1. overhead  — per-job overhead of flux-batch against a minimal hand-written fetch loop doing the same
//                submit → poll → download → write, 2000 jobs, zero-latency simulator, 24 in flight.
// 2. makespan  — 480 jobs at 24 in flight, log-normal task times (median 600 ms, σ 0.6): wall time
//                against the ideal schedule of the same task durations, polls per task, ready→seen delay;
//                with the docs' fixed 0.5 s polling loop as a reference.
// 3. rerun     — a finished 5000-job manifest rerun with nothing to do: wall time of the real CLI and
//                requests made; peak RSS of the 5000-job run itself.
import { spawn } from 'node:child_process';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runManifest } from '../dist/pipeline.js';
import { setRenderCacheLimit, startSimulator } from '../dist/sim/index.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const KEY = 'bench-key';
const sections = process.argv.slice(2);
const want = (s) => sections.length === 0 || sections.includes(s);

function manifest(n, { size = 256, format = 'png', model = 'flux-dev' } = {}) {
  return `version: 1
output: out
defaults: { model: ${model}, width: ${size}, height: ${size}, output_format: ${format} }
jobs:
  - name: b
    prompt: "bench image {n}"
    matrix:
      n: [${Array.from({ length: n }, (_, i) => i + 1).join(', ')}]
    path: "{n}"
`;
}

async function project(files) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'flux-bench-'));
  for (const [name, text] of Object.entries(files)) await writeFile(path.join(dir, name), text);
  return dir;
}

function config(sim, extra = '') {
  return `provider: cometapi\nbaseUrl: ${sim.url}\nconcurrency: 24\n${extra}`;
}

/** The minimal loop: what a careful person writes by hand, with the same concurrency. */
async function minimalLoop(sim, n, outDir, { pollMs = 0 } = {}) {
  await mkdir(outDir, { recursive: true });
  const headers = { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' };
  let next = 0;
  let polls = 0;
  const worker = async () => {
    while (next < n) {
      const i = ++next;
      const sub = await (await fetch(`${sim.url}/flux/v1/flux-dev`, { method: 'POST', headers, body: JSON.stringify({ prompt: `bench image ${i}`, width: 256, height: 256, output_format: 'png' }) })).json();
      let res;
      for (;;) {
        if (pollMs) await new Promise((r) => setTimeout(r, pollMs));
        polls++;
        res = await (await fetch(`${sim.url}/flux/v1/get_result?id=${sub.id}`, { headers })).json();
        if (res.status === 'Ready') break;
      }
      const img = Buffer.from(await (await fetch(res.result.sample)).arrayBuffer());
      await writeFile(path.join(outDir, `${i}.png`), img);
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: 24 }, worker));
  return { ms: performance.now() - t0, polls };
}

async function runFluxBatch(dir) {
  const t0 = performance.now();
  let imagesMs = 0; // to the last image written (the 'end' event), before the gallery and lock compaction
  const emit = (e) => {
    if (e.type === 'end') imagesMs = performance.now() - t0;
  };
  const r = await runManifest({ manifestPath: path.join(dir, 'm.yaml'), env: { COMETAPI_KEY: KEY }, emit });
  return { ms: performance.now() - t0, imagesMs, summary: r.summary };
}

function table(title, rows) {
  console.log(`\n## ${title}`);
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => String(r[c]).length)));
  for (const [i, r] of rows.entries()) {
    console.log(`| ${r.map((v, c) => String(v).padEnd(widths[c])).join(' | ')} |`);
    if (i === 0) console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  }
}

/** Greedy list schedule of the same durations on `slots` machines, in submission order. */
function idealMakespan(durations, slots) {
  const free = new Array(slots).fill(0);
  let end = 0;
  for (const d of durations) {
    free.sort((a, b) => a - b);
    free[0] += d;
    end = Math.max(end, free[0]);
  }
  return end;
}

const mean = (xs) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const pct = (xs, q) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))] ?? 0;

async function benchOverhead() {
  const N = 2000;
  const sim = await startSimulator({ keys: { cometapi: KEY }, latency: { fixedMs: 0 }, recordRequests: false });
  const polling = 'polling: { expectedTaskMs: 0, minIntervalMs: 0, maxIntervalMs: 50 }\n';
  const dir = await project({ 'm.yaml': manifest(N), 'flux.config.yaml': config(sim, `${polling}gallery: false\n`) });
  const withGallery = await project({ 'm.yaml': manifest(N), 'flux.config.yaml': config(sim, polling) });
  // The simulator renders each distinct image once (cached): its rendering is out of both numbers.
  setRenderCacheLimit(1024 * 1024 * 1024);
  await minimalLoop(sim, N, path.join(dir, 'warm'));
  const fresh = async (d) => {
    for (const f of ['out', 'loop', 'm.lock', '.flux-cache']) await rm(path.join(d, f), { recursive: true, force: true });
  };
  const rounds = [];
  for (let r = 0; r < 2; r++) {
    await fresh(dir);
    await fresh(withGallery);
    const loop = await minimalLoop(sim, N, path.join(dir, 'loop'));
    const fb = await runFluxBatch(dir);
    const fbg = await runFluxBatch(withGallery);
    rounds.push({ loop, fb, fbg });
  }
  await sim.close();
  await rm(dir, { recursive: true, force: true });
  await rm(withGallery, { recursive: true, force: true });
  const best = (k) => Math.min(...rounds.map((r) => r[k].ms));
  const l = best('loop');
  const row = (name, ms) => [name, ms.toFixed(0), (ms / N).toFixed(2), `${(ms / l).toFixed(2)}×`];
  table(`Per-job overhead, ${N} jobs, zero-latency simulator, 24 in flight (best of ${rounds.length})`, [
    ['runner', 'wall ms', 'ms/job', 'vs loop'],
    row('minimal fetch loop (no fsync, no checks)', l),
    row('flux-batch, gallery: false (journal fsync, cache, verify, atomic writes)', best('fb')),
    row('flux-batch with the gallery (a thumbnail per image)', best('fbg')),
  ]);
}

async function benchMakespan() {
  const N = 480;
  const rows = [['runner', 'last image s', 'vs ideal', 'wall s (with gallery)', 'ideal s', 'polls/task', 'ready→seen mean ms', 'p90 ms']];
  for (const runner of ['flux-batch', 'fixed 0.5 s loop']) {
    const sim = await startSimulator({ keys: { cometapi: KEY }, latency: { medianMs: 600, sigma: 0.6 }, seed: 42, recordRequests: false });
    const dir = await project({ 'm.yaml': manifest(N), 'flux.config.yaml': config(sim, 'polling: { expectedTaskMs: 700 }\n') });
    const t0 = performance.now();
    const fb = runner === 'flux-batch' ? await runFluxBatch(dir) : undefined;
    if (!fb) await minimalLoop(sim, N, path.join(dir, 'loop'), { pollMs: 500 });
    const wall = performance.now() - t0;
    const images = fb?.imagesMs ?? wall;
    const tasks = sim.stats.tasks;
    const ideal = idealMakespan(tasks.map((t) => t.readyAt - t.createdAt), 24);
    const delays = tasks.filter((t) => t.seenReadyAt).map((t) => t.seenReadyAt - t.readyAt);
    rows.push([runner, (images / 1000).toFixed(2), `${(images / ideal).toFixed(2)}×`, (wall / 1000).toFixed(2), (ideal / 1000).toFixed(2), (sim.stats.polls / N).toFixed(2), mean(delays).toFixed(0), pct(delays, 0.9).toFixed(0)]);
    await sim.close();
    await rm(dir, { recursive: true, force: true });
  }
  table(`Makespan, ${N} jobs, 24 in flight, log-normal task times (median 600 ms, σ 0.6)`, rows);
}

async function benchRerun() {
  const N = 5000;
  // The simulator runs here, the CLI in its own process: its peak RSS is flux-batch's alone.
  const sim = await startSimulator({ keys: { cometapi: KEY }, latency: { fixedMs: 0 }, recordRequests: false });
  const dir = await project({
    'm.yaml': manifest(N, { size: 64, model: 'flux-2-klein-4b' }),
    'flux.config.yaml': config(sim, `polling: { expectedTaskMs: 0, minIntervalMs: 0, maxIntervalMs: 50 }\n${process.env.BENCH_NO_GALLERY ? 'gallery: false\n' : ''}`),
  });
  const bin = path.join(ROOT, 'dist/cli/bin.js');
  const timed = async (label) => {
    const before = sim.stats.submits + sim.stats.polls + sim.stats.downloads;
    const t0 = performance.now();
    const child = spawn('/usr/bin/time', ['-f', '%M', process.execPath, bin, 'run', 'm.yaml'], { cwd: dir, env: { ...process.env, CI: 'true', COMETAPI_KEY: KEY } });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.stdout.resume();
    const code = await new Promise((r) => child.on('close', r));
    const ms = performance.now() - t0;
    if (code !== 0) throw new Error(`${label} failed: ${stderr}`);
    const rssKb = Number(stderr.trim().split('\n').pop());
    return { ms, rssMb: rssKb / 1024, requests: sim.stats.submits + sim.stats.polls + sim.stats.downloads - before };
  };
  const first = await timed('first run');
  const reruns = [await timed('rerun'), await timed('rerun'), await timed('rerun')];
  const best = reruns.reduce((a, b) => (a.ms < b.ms ? a : b));
  await sim.close();
  await rm(dir, { recursive: true, force: true });
  table(`Reruns, ${N}-job manifest (real CLI process against the simulator; gallery on)`, [
    ['run', 'wall ms', 'peak RSS MB', 'requests'],
    ['first run (generate all)', first.ms.toFixed(0), first.rssMb.toFixed(0), first.requests],
    ['no-op rerun (best of 3)', best.ms.toFixed(0), best.rssMb.toFixed(0), best.requests],
  ]);
}

console.log(`flux-batch bench — node ${process.version}, ${os.cpus().length} cores, ${os.cpus()[0]?.model ?? ''}`);
if (want('overhead')) await benchOverhead();
if (want('makespan')) await benchMakespan();
if (want('rerun')) await benchRerun();
