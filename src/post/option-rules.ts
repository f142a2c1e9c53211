// Small, shallow checks for sharp option values. Each rule returns what is wrong (to follow the
// option's name in a message) or undefined. No sharp import: the manifest validator uses these.

/** Checks one value; returns e.g. `must be an integer from 1 to 16384, got "abc"`, or undefined. */
export type Rule = (value: unknown) => string | undefined;

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A short rendering of a received value for messages. */
export function show(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

export function int(min: number, max: number): Rule {
  return (v) =>
    Number.isInteger(v) && (v as number) >= min && (v as number) <= max
      ? undefined
      : `must be an integer from ${min} to ${max}, got ${show(v)}`;
}

export function num(min = -Infinity, max = Infinity): Rule {
  const range =
    min === -Infinity && max === Infinity
      ? ''
      : max === Infinity
        ? ` of at least ${min}`
        : ` from ${min} to ${max}`;
  return (v) =>
    isFiniteNumber(v) && v >= min && v <= max ? undefined : `must be a number${range}, got ${show(v)}`;
}

/** A number strictly greater than zero (sharp's "number above zero"). */
export const positive: Rule = (v) =>
  isFiniteNumber(v) && v > 0 ? undefined : `must be a number above zero, got ${show(v)}`;

export const bool: Rule = (v) =>
  typeof v === 'boolean' ? undefined : `must be true or false, got ${show(v)}`;

export function oneOf(values: readonly (string | number)[]): Rule {
  return (v) => {
    if (values.includes(v as string | number)) return undefined;
    const hint = typeof v === 'string' ? didYouMean(v, values.map(String)) : undefined;
    return `must be one of ${values.map((x) => show(x)).join(', ')}, got ${show(v)}${hint ? `; did you mean "${hint}"?` : ''}`;
  };
}

/** A colour as sharp parses it: a CSS-like string, or `{ r, g, b, alpha? }`. */
export const colour: Rule = (v) => {
  if (typeof v === 'string' && v.trim() !== '') return undefined;
  if (isPlainObject(v)) {
    const channel = int(0, 255);
    for (const key of Object.keys(v)) {
      if (!['r', 'g', 'b', 'alpha'].includes(key)) return `has unknown colour channel "${key}" (use r, g, b, alpha)`;
    }
    for (const key of ['r', 'g', 'b']) {
      const problem = channel(v[key]);
      if (problem) return `.${key} ${problem}`;
    }
    if (v.alpha !== undefined && num(0, 1)(v.alpha)) return `.alpha ${num(0, 1)(v.alpha)}`;
    return undefined;
  }
  return `must be a colour ("#rrggbb", "white", or { r, g, b, alpha }), got ${show(v)}`;
};

export const numberOrNumbers: Rule = (v) =>
  isFiniteNumber(v) || (Array.isArray(v) && v.length > 0 && v.every(isFiniteNumber))
    ? undefined
    : `must be a number or a list of numbers, got ${show(v)}`;

/** Array of 4 numbers, or a 2x2 matrix, as `affine` takes. */
export const matrix2x2: Rule = (v) => {
  const flat = Array.isArray(v) && v.length === 4 && v.every(isFiniteNumber);
  const square =
    Array.isArray(v) &&
    v.length === 2 &&
    v.every((row) => Array.isArray(row) && row.length === 2 && row.every(isFiniteNumber));
  return flat || square
    ? undefined
    : `must be 4 numbers [a, b, c, d] or a 2x2 matrix [[a, b], [c, d]], got ${show(v)}`;
};

/** Levenshtein distance, small strings only. */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(above + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
}

/** The nearest candidate, if near enough to be a likely typo (case and separators ignored). */
export function didYouMean(name: string, candidates: readonly string[]): string | undefined {
  const fold = (s: string) => s.toLowerCase().replace(/[-_\s]/g, '');
  let best: string | undefined;
  let bestScore = Infinity;
  for (const candidate of candidates) {
    const score = distance(fold(name), fold(candidate));
    if (score < bestScore) [best, bestScore] = [candidate, score];
  }
  const allowed = Math.max(2, Math.floor(name.length / 3));
  return bestScore <= allowed ? best : undefined;
}

/**
 * Checks an options object against named rules: unknown names (with a did-you-mean), values,
 * required names. Returns the first problem, e.g. `unknown option "heigth"; did you mean "height"?`.
 */
export function checkFields(
  options: Record<string, unknown>,
  fields: Record<string, Rule>,
  required: readonly string[] = [],
): string | undefined {
  const known = Object.keys(fields);
  for (const [key, value] of Object.entries(options)) {
    const rule = fields[key];
    if (!rule) {
      const hint = didYouMean(key, known);
      return hint
        ? `unknown option "${key}"; did you mean "${hint}"?`
        : `unknown option "${key}" (known: ${known.join(', ') || 'none'})`;
    }
    if (value === undefined) continue;
    const problem = rule(value);
    if (problem) return problem.startsWith('.') ? `${key}${problem}` : `${key} ${problem}`;
  }
  const missing = required.filter((key) => options[key] === undefined);
  if (missing.length > 0) return `missing required option${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`;
  return undefined;
}
