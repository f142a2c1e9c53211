// Help texts, one per command. Kept together so `--help` output reads as one document.
export const COMMON_HELP = `Common options:
  --config <file>      use this config file instead of searching for flux.config.yaml
  --provider <name>    cometapi | bfl | replicate | mock (overrides the config)
  --concurrency <n>    tasks in flight at once (default 24)
  --json               machine-readable output (run: newline-delimited events)
  -v, --verbose        more detail (retries, every phase)
  --debug              show stack traces of internal errors
  -h, --help           this help`;

export const HELP: Record<string, string> = {
  main: `flux-batch — reproducible batches of Flux images from a YAML manifest

Usage: flux-batch <command> [options]

Commands:
  run <manifest>       generate what is missing or changed, resume interrupted work
  plan <manifest>      show what run would do, with a cost estimate; makes no request
  validate <manifest>  check the manifest and config; report every problem at once
  status <manifest>    done / stale / pending / failed per job, from the lock and files
  gc <manifest>        remove cached originals (and with --outputs, files) no lock refers to
  export <manifest> <dir>  write finished images as a dataset (Hugging Face ImageFolder + metadata.jsonl)
  models               list the models each provider offers and the fields they take
  sim                  run the offline Flux API simulator (for dry runs against a local server)

Keys come only from the environment: COMETAPI_KEY (cometapi, replicate), BFL_API_KEY (bfl).
Exit codes: 0 ok, 1 some jobs failed, 2 invalid input or usage, 130 interrupted.
Run \`flux-batch <command> --help\` for a command's options. --version prints the version.`,
  run: `Usage: flux-batch run <manifest> [options]

Validates, plans against <manifest>.lock, then submits, polls, downloads and post-processes every job
that is not already done. Safe to interrupt (Ctrl-C) and rerun: submitted tasks are resumed, not paid again.

Options:
  --force[=<pattern>]     regenerate matching jobs (all without a pattern); the pinned seed is kept
  --reroll[=<pattern>]    regenerate matching jobs with new seeds
  --retry-failed          submit again jobs that failed on an earlier run (default: they stay failed)
  --max-jobs <n>          refuse manifests that expand to more jobs than this (default 10000)
Patterns match job ids, names or output paths; * is a wildcard; separate several with commas.

${COMMON_HELP}`,
  plan: `Usage: flux-batch plan <manifest> [options]

Shows the jobs by action (submit, resume, rebuild, skip, failed), by model, and the estimated cost of
the new generations where the model's price is known. Makes no request and writes nothing.

Options:
  --jobs                  list every job with its action and reason
  --retry-failed, --force[=<pattern>], --reroll[=<pattern>]   as for run

${COMMON_HELP}`,
  validate: `Usage: flux-batch validate <manifest> [options]

Checks the manifest (YAML, schema, per-model rules, templates, output paths) and the config, and
reports every problem at once with file:line:col. Exit 0 if valid, 2 if not. Writes nothing.

${COMMON_HELP}`,
  status: `Usage: flux-batch status <manifest> [options]

Per job and in total: done, stale (changed since generated, or outputs missing), pending (not yet
generated or in flight) and failed — from the lock and the files, with no request made.

${COMMON_HELP}`,
  gc: `Usage: flux-batch gc <manifest> [more manifests] [options]

Removes cached originals that no given manifest's lock refers to. With --outputs, also removes image
files in the output folders that no lock entry refers to, after showing them (use --yes to delete).

Options:
  --outputs     also collect orphaned output files
  --dry-run     show what would be removed, remove nothing
  --yes         do not ask (required for --outputs without a terminal)

${COMMON_HELP}`,
  export: `Usage: flux-batch export <manifest> --format imagefolder <dir> [options]

Writes the finished images of <manifest> (jobs in state done, outputs intact) to <dir>/train/ in
Hugging Face's ImageFolder layout, with metadata.jsonl: file_name, prompt, seed, model, job and the
matrix variables, one line per image. Files are hard-linked when possible, else copied.

Options:
  --format <name>      imagefolder (the only one for now; the default)
  --output <n|suffix>  which output of each job: its index in \`outputs\` (default 0) or its suffix
  --split <name>       split folder (default train)
  --force              replace <dir>/<split> when <dir> is not empty (default: refuse)
  --copy               copy files instead of hard-linking them

${COMMON_HELP}`,
  models: `Usage: flux-batch models [--provider <name>] [--json]

Lists the models the provider offers, with the request fields each takes and their ranges.

${COMMON_HELP}`,
  sim: `Usage: flux-batch sim [--port <n>] [options]

Starts the Flux API simulator on 127.0.0.1: CometAPI (/flux/v1/...), BFL (/v1/..., regional polling
hosts, signed expiring delivery URLs) and CometAPI's Replicate format. Point baseUrl at it for offline
dry runs. See docs/SIMULATOR.md for latency and fault options.

Options:
  --port <n>           port of the main API host (default 8787; 0 picks a free one)
  --latency <ms>       median task time (log-normal, sigma 0.6); default 0
  --faults <rate>      probability of an injected fault per request (500/502/503/429/reset), default 0
  --seed <n>           RNG seed for latency and faults

${COMMON_HELP}`,
};
