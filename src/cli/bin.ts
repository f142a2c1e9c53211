#!/usr/bin/env node
// The only place that exits. First Ctrl-C/SIGTERM: stop submitting, record what is in flight,
// exit 130 within a few seconds. Second Ctrl-C: exit at once.
import { runCli } from './main.js';

const controller = new AbortController();
let interrupts = 0;
const onSignal = () => {
  interrupts++;
  if (interrupts > 1) process.exit(130);
  process.stderr.write('\ninterrupted: finishing what is in flight (Ctrl-C again to quit now)\n');
  controller.abort();
  setTimeout(() => process.exit(130), 8000).unref();
};
process.on('SIGINT', onSignal);
// `flux-batch models | head`: a closed pipe is not an error worth a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}
process.on('SIGTERM', onSignal);

const code = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  interactive: Boolean(process.stdout.isTTY) && !process.env.CI,
  env: process.env,
  cwd: process.cwd(),
  signal: controller.signal,
});
process.exitCode = controller.signal.aborted && code !== 2 ? 130 : code;
// Lingering keep-alive sockets or worker threads must not hold the exit back.
setTimeout(() => process.exit(process.exitCode), 500).unref();
