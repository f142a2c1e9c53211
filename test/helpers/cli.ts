// Run the built CLI as a real process (npm test builds before vitest runs).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const BIN = path.join(ROOT, 'dist/cli/bin.js');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export interface CliOptions {
  cwd: string;
  env?: Record<string, string | undefined>;
  /** Called once the process is started (to kill it, for instance). */
  onSpawn?: (child: ChildProcess) => void;
  timeoutMs?: number;
}

export function runCli(args: string[], opts: CliOptions): Promise<CliResult> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const env = { ...process.env, NO_COLOR: '1', CI: 'true', COMETAPI_KEY: undefined, BFL_API_KEY: undefined, ...opts.env };
    for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
    const child = spawn(process.execPath, [BIN, ...args], { cwd: opts.cwd, env: env as NodeJS.ProcessEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - t0 });
    });
    opts.onSpawn?.(child);
  });
}

/** A fresh temp folder with the given files; removed by the returned cleanup. */
export async function tempProject(files: Record<string, string | Buffer>): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'flux-batch-'));
  for (const [name, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await writeFile(path.join(dir, name), content);
  }
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * A manifest of `n` flux-dev tiles (`t/1` … `t/n`), the shape most end-to-end tests need;
 * `tail` is appended under the tiles job (post, outputs) or after it (more jobs).
 */
export function tilesManifest(n: number, opts: { prompt?: string; tail?: string } = {}): string {
  return `version: 1
output: out
defaults: { model: flux-dev, width: 256, height: 256, output_format: png }
jobs:
  - name: tiles
    prompt: "${opts.prompt ?? 'tile number {n}'}"
    matrix:
      n: [${Array.from({ length: n }, (_, i) => i + 1).join(', ')}]
    path: "t/{n}"
${opts.tail ?? ''}`;
}
