// `flux-batch sim`: start the simulator for offline dry runs and print where it listens.
// The process stays alive while the servers listen; the caller decides when to close.
import { REGION_NAMES, startSimulator, type Simulator } from './index.js';
import type { FaultConfig } from './options.js';

export interface RunSimulatorArgs {
  port: number;
  seed?: number;
  /** Median task duration, ms (log-normal with `sigma`); default 0 (tasks finish at once). */
  latencyMs?: number;
  sigma?: number;
  maxInFlight?: number;
  resultTtlMs?: number;
  taskTtlMs?: number;
  unknownStatus?: string;
  keys?: { cometapi?: string; bfl?: string };
  faults?: FaultConfig;
  /** Where lines go; default stdout. */
  print?: (line: string) => void;
}

export async function runSimulator(args: RunSimulatorArgs): Promise<Simulator> {
  const print = args.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  const latencyMs = args.latencyMs ?? 0;
  const sim = await startSimulator({
    port: args.port,
    ...(args.seed === undefined ? {} : { seed: args.seed }),
    latency: args.sigma && latencyMs > 0 ? { medianMs: latencyMs, sigma: args.sigma } : { fixedMs: latencyMs },
    ...(args.maxInFlight === undefined ? {} : { maxInFlight: args.maxInFlight }),
    ...(args.resultTtlMs === undefined ? {} : { resultTtlMs: args.resultTtlMs }),
    ...(args.taskTtlMs === undefined ? {} : { taskTtlMs: args.taskTtlMs }),
    ...(args.unknownStatus === undefined ? {} : { unknownStatus: args.unknownStatus }),
    ...(args.keys ? { keys: args.keys } : {}),
    ...(args.faults ? { faults: args.faults } : {}),
  });
  print(`flux-batch simulator listening`);
  print(`  api       ${sim.url}   (BFL /v1/{model}, CometAPI /flux/v1/{model}, /replicate/v1/...)`);
  sim.regionUrls.forEach((u, i) => print(`  region    ${u}   (${REGION_NAMES[i] ?? `region-${i}`}: /v1/get_result, x-key)`));
  print(`  delivery  ${sim.deliveryUrl}`);
  print(`Point a provider's base URL at the api address; any non-empty key works.`);
  print(`Prompts containing [moderated] or [nsfw] are moderated. Press Ctrl-C to stop.`);
  return sim;
}
