// Secret redaction (DESIGN decision 12): every API key is registered here the moment it is read from
// the environment, and every error message / log line built from HTTP exchanges passes through
// `redact`. The registry is a plain module-level set: registering is idempotent and cheap.

const secrets = new Set<string>();

/** Keys shorter than this are not registered: replacing e.g. "a" everywhere would shred messages. */
const MIN_SECRET_LENGTH = 4;
const MASK = '[REDACTED]';

/** Remember a secret so that `redact` removes it from any text. */
export function registerSecret(secret: string | undefined): void {
  const s = secret?.trim();
  if (s && s.length >= MIN_SECRET_LENGTH) secrets.add(s);
}

/** Forget every registered secret (tests). */
export function clearSecrets(): void {
  secrets.clear();
}

// Belt and braces: whatever follows an auth scheme or an x-key header is masked even if the
// secret was never registered (e.g. a key echoed back by a server in another spelling).
const AUTH_PATTERNS: readonly RegExp[] = [
  /(\bBearer\s+)[^\s"',;)}\]]+/gi,
  /(\bx-key["']?\s*[:=]\s*["']?)[^\s"',;)}\]]+/gi,
];

/** Replace every registered secret, and anything after `Bearer ` or `x-key:`, with a mask. */
export function redact(text: string): string {
  let out = text;
  // Longest first, so a secret that contains another one is masked whole.
  for (const s of [...secrets].sort((a, b) => b.length - a.length)) {
    if (out.includes(s)) out = out.split(s).join(MASK);
  }
  for (const re of AUTH_PATTERNS) out = out.replace(re, `$1${MASK}`);
  return out;
}

/** `redact` applied to every string inside a JSON-like value (error bodies kept on HttpError). */
export function redactDeep<T>(value: T): T {
  if (typeof value === 'string') return redact(value) as T;
  if (Array.isArray(value)) return value.map((v) => redactDeep(v)) as T;
  if (value !== null && typeof value === 'object' && !Buffer.isBuffer(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = redactDeep(v);
    return out as T;
  }
  return value;
}
