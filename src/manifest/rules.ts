// Named cross-field rules over the whole document (before expansion).
import { checkOutputOptions, checkPostOp, POST_OPERATIONS } from '../post/ops.js';
import { OUTPUT_FORMATS } from '../types.js';
import { BUILTIN_VARS, isPlain, jobsOf, MANIFEST_KEYS, type Plain, type Rule } from './context.js';
import type { Seg } from './source.js';
import { ruleNoSecrets } from './secrets.js';

/** Each job's own mapping, plus `defaults`, with its path. */
function jobLike(data: Plain): [Seg[], Plain][] {
  const out: [Seg[], Plain][] = isPlain(data.defaults) ? [[['defaults'], data.defaults]] : [];
  for (const [i, job] of jobsOf(data)) out.push([['jobs', i], job]);
  return out;
}

export const ruleDuplicateJobNames: Rule = ({ data, sink }) => {
  const seen = new Map<string, [number, string]>();
  for (const [i, job] of jobsOf(data)) {
    if (typeof job.name !== 'string') continue;
    const first = seen.get(job.name.toLowerCase());
    if (!first) {
      seen.set(job.name.toLowerCase(), [i, job.name]);
      continue;
    }
    const caseOnly = first[1] !== job.name ? ' (names are compared ignoring case)' : '';
    sink.add({
      code: 'duplicate-job-name',
      path: ['jobs', i, 'name'],
      message: `job name ${JSON.stringify(job.name)} is already used by jobs[${first[0]}]${caseOnly}`,
      received: job.name,
      hint: 'job names must be unique: they become folders and `{job}`',
    });
  }
};

export const ruleDefaultsHaveNoName: Rule = ({ data, sink }) => {
  if (isPlain(data.defaults) && 'name' in data.defaults) {
    sink.add({
      code: 'defaults-name',
      path: ['defaults', 'name'],
      atKey: true,
      message: '`defaults` cannot set `name`: every job needs its own',
      hint: 'move `name` to each job',
    });
  }
};

const RESERVED = new Set([...MANIFEST_KEYS.filter((k) => k !== 'model'), ...BUILTIN_VARS.filter((k) => k !== 'model' && k !== 'seed')]);

export const ruleReservedVariables: Rule = ({ data, sink }) => {
  for (const [at, job] of jobLike(data)) {
    const sources: [Seg[], unknown][] = [[[...at, 'matrix'], job.matrix]];
    for (const list of ['include', 'exclude'] as const) {
      if (Array.isArray(job[list])) (job[list] as unknown[]).forEach((item, k) => sources.push([[...at, list, k], item]));
    }
    for (const [path, obj] of sources) {
      if (!isPlain(obj)) continue;
      for (const key of Object.keys(obj)) {
        if (!RESERVED.has(key)) continue;
        sink.add({
          code: 'reserved-variable',
          path: [...path, key],
          atKey: true,
          message: `\`${key}\` cannot be a matrix variable: it is ${BUILTIN_VARS.includes(key) ? 'a template builtin' : 'a job key'}`,
          hint: 'rename the variable',
        });
      }
    }
  }
};

/** `{from, to}` needs to ≥ from; a range has `count` or `to`, not both. */
export const ruleSeedRanges: Rule = ({ data, sink }) => {
  for (const [at, job] of jobLike(data)) {
    const ranges: [Seg[], unknown][] = [[[...at, 'seed'], job.seed]];
    if (isPlain(job.matrix)) ranges.push([[...at, 'matrix', 'seed'], job.matrix.seed]);
    for (const [path, r] of ranges) {
      if (!isPlain(r) || typeof r.from !== 'number') continue;
      const hasCount = r.count !== undefined;
      const hasTo = r.to !== undefined;
      if (hasCount === hasTo) {
        sink.add({
          code: 'seed-invalid',
          path,
          message: `a seed range needs exactly one of \`count\` or \`to\`, got ${hasCount ? 'both' : 'neither'}`,
          received: r,
          hint: 'write `{from: 100, count: 8}` or `{from: 100, to: 107}`',
        });
      } else if (hasTo && typeof r.to === 'number' && r.to < r.from) {
        sink.add({ code: 'seed-invalid', path: [...path, 'to'], message: `seed range ends (${r.to}) before it starts (${r.from})`, received: r });
      }
    }
  }
};

export const ruleOneSeedAxis: Rule = ({ data, sink }) => {
  for (const [at, job] of jobLike(data)) {
    const axis = Array.isArray(job.seed) || isPlain(job.seed);
    const matrixSeed = isPlain(job.matrix) && job.matrix.seed !== undefined;
    if (axis && matrixSeed) {
      sink.add({
        code: 'seed-conflict',
        path: [...at, 'seed'],
        atKey: true,
        message: 'seeds are given twice: in `seed` and in `matrix.seed`',
        hint: 'keep one of them',
      });
    }
  }
};

export const rulePostOps: Rule = ({ data, sink }) => {
  for (const [at, job] of jobLike(data)) {
    if (!Array.isArray(job.post)) continue;
    job.post.forEach((step, k) => {
      if (!isPlain(step) || Object.keys(step).length !== 1) return; // the schema reports the shape
      const [op, options] = Object.entries(step)[0] as [string, unknown];
      const problem = checkPostOp(op, options);
      if (!problem) return;
      const known = POST_OPERATIONS.includes(op);
      sink.add({
        code: known ? 'bad-post-options' : 'unknown-post-op',
        path: [...at, 'post', k, op],
        atKey: !known,
        message: problem,
        received: known ? options : op,
        hint: known ? "options are sharp's own, see https://sharp.pixelplumbing.com/api-operation" : `post operations are sharp's method names: ${POST_OPERATIONS.join(', ')}`,
      });
    });
  }
};

export const ruleOutputs: Rule = ({ data, sink }) => {
  for (const [at, job] of jobLike(data)) {
    if (!Array.isArray(job.outputs)) continue;
    const seen = new Map<string, number>();
    job.outputs.forEach((item, k) => {
      if (!isPlain(item)) return;
      const formats = Object.keys(item).filter((key) => key !== 'suffix');
      const path: Seg[] = [...at, 'outputs', k];
      if (formats.length !== 1) {
        sink.add({
          code: 'bad-output',
          path,
          message: `each output names one format, got ${formats.length ? formats.join(', ') : 'none'}`,
          hint: `write e.g. \`- webp: {quality: 90}\`; formats: ${OUTPUT_FORMATS.join(', ')}`,
        });
        return;
      }
      const format = formats[0] as string;
      const problem = checkOutputOptions(format, item[format]);
      if (problem) {
        const known = (OUTPUT_FORMATS as readonly string[]).includes(format);
        sink.add({
          code: known ? 'bad-output-options' : 'unknown-output-format',
          path: [...path, format],
          atKey: !known,
          message: problem,
          received: known ? item[format] : format,
          hint: known ? "options are sharp's own, see https://sharp.pixelplumbing.com/api-output" : `formats: ${OUTPUT_FORMATS.join(', ')}`,
        });
        return;
      }
      const suffix = typeof item.suffix === 'string' ? item.suffix : '';
      const id = `${format}\0${suffix}`;
      const first = seen.get(id);
      if (first !== undefined) {
        sink.add({
          code: 'output-collision',
          path,
          message: `outputs[${first}] and outputs[${k}] both write ${format} with suffix ${JSON.stringify(suffix)}: the second would overwrite the first`,
          hint: 'give one of them a different `suffix`',
        });
      } else seen.set(id, k);
    });
  }
};

/** Static rules, in order. Secrets run first so the schema check does not also call them unknown keys. */
export const DOCUMENT_RULES: readonly Rule[] = [
  ruleNoSecrets,
  ruleDuplicateJobNames,
  ruleDefaultsHaveNoName,
  ruleReservedVariables,
  ruleSeedRanges,
  ruleOneSeedAxis,
  rulePostOps,
  ruleOutputs,
];
