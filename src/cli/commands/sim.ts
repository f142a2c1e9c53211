import { UserError } from '../../errors.js';
import { startSimulator } from '../../sim/index.js';
import { parseCommand } from '../args.js';
import { writeLine, type CliIO } from '../io.js';
import { EXIT } from '../main.js';

export async function simCommand(argv: string[], io: CliIO): Promise<number> {
  const { values } = parseCommand(argv, { port: { type: 'string' }, latency: { type: 'string' }, faults: { type: 'string' }, seed: { type: 'string' } }, 'sim');
  const num = (v: unknown, flag: string, def: number, max = Number.MAX_SAFE_INTEGER): number => {
    if (v === undefined) return def;
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0 || n > max) throw new UserError('usage', `${flag} must be a number from 0 to ${max}, got "${String(v)}"`);
    return n;
  };
  const port = num(values.port, '--port', 8787, 65535);
  const latency = num(values.latency, '--latency', 0);
  const rate = num(values.faults, '--faults', 0, 1);
  const each = rate / 5;
  const sim = await startSimulator({
    port,
    seed: num(values.seed, '--seed', 1),
    latency: latency > 0 ? { medianMs: latency, sigma: 0.6 } : { fixedMs: 0 },
    faults: rate > 0 ? {
      submit: { '500': each, '503': each, '429': each, reset: each, '502': each },
      poll: { '500': each, '502': each, '503': each, '429': each, reset: each },
      download: { '500': each, '503': each, reset: each, truncate: each, '502': each },
    } : undefined,
  });
  writeLine(io.stdout, `flux-batch simulator listening
  API (CometAPI /flux/v1, BFL /v1, Replicate /replicate/v1): ${sim.url}
  regional polling hosts: ${sim.regionUrls.join(', ')}
  delivery host: ${sim.deliveryUrl}
Use it with: flux-batch run <manifest> --provider cometapi  (baseUrl: ${sim.url} in flux.config.yaml)
Any non-empty key is accepted (export COMETAPI_KEY=sim). Ctrl-C stops it.`);
  await new Promise<void>((resolve) => {
    if (io.signal?.aborted) return resolve();
    io.signal?.addEventListener('abort', () => resolve(), { once: true });
  });
  await sim.close();
  writeLine(io.stdout, `served ${sim.stats.submits} submits, ${sim.stats.polls} polls, ${sim.stats.downloads} downloads`);
  return EXIT.ok;
}
