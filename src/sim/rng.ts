// Seeded randomness for the simulator. Every decision is drawn from a stream named by what it
// decides (`submit`, `task`, …) and the request's ordinal within that stream, so the same seed and
// the same sequence of requests give the same run, even when unrelated requests interleave.

/** 32-bit FNV-1a hash of a string. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** mulberry32: a tiny, fast PRNG good enough for simulated latency and faults. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Named, counted random streams derived from one seed. */
export class SeededStreams {
  private readonly counters = new Map<string, number>();
  constructor(readonly seed: number) {}

  /** A fresh generator for the next event of `stream`. */
  next(stream: string): () => number {
    const n = this.counters.get(stream) ?? 0;
    this.counters.set(stream, n + 1);
    return mulberry32(hash32(`${this.seed}:${stream}:${n}`));
  }
}

/** A standard normal draw (Box–Muller). */
export function normal(rand: () => number): number {
  const u = Math.max(rand(), 1e-12);
  const v = rand();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** A log-normal duration with the given median (ms) and sigma (of the underlying normal). */
export function logNormalMs(rand: () => number, medianMs: number, sigma: number): number {
  return Math.max(0, medianMs * Math.exp(sigma * normal(rand)));
}

/** A lower-case hex string of `bytes` random bytes. */
export function randomHex(rand: () => number, bytes: number): string {
  let out = '';
  for (let i = 0; i < bytes; i++) out += Math.floor(rand() * 256).toString(16).padStart(2, '0');
  return out;
}

/** A UUID-shaped id (BFL task ids look like this). */
export function randomUuid(rand: () => number): string {
  const h = randomHex(rand, 16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** A Replicate-shaped id: 26 characters of lower-case base32. */
export function randomReplicateId(rand: () => number): string {
  const alphabet = '0123456789abcdefghjkmnpqrstvwxyz';
  let out = '';
  for (let i = 0; i < 26; i++) out += alphabet[Math.floor(rand() * 32)];
  return out;
}
