// Image fields: URLs and data URIs go as they are; anything else is a file beside the manifest.
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { sha256Hex } from './keys.js';

export type ImageRef =
  | { kind: 'inline' }
  | { kind: 'file'; abs: string; sha256: string }
  | { kind: 'missing'; abs: string; why: string };

export function isInlineImage(value: string): boolean {
  return /^(https?:\/\/|data:)/i.test(value) || (value.length > 256 && /^[A-Za-z0-9+/=\r\n]+$/.test(value));
}

/** Resolves image references, hashing each file once per validation. */
export class ImageResolver {
  private readonly cache = new Map<string, ImageRef>();

  constructor(private readonly dir: string) {}

  resolve(value: string): ImageRef {
    if (isInlineImage(value)) return { kind: 'inline' };
    const abs = resolve(this.dir, value);
    let ref = this.cache.get(abs);
    if (!ref) {
      ref = this.read(abs);
      this.cache.set(abs, ref);
    }
    return ref;
  }

  private read(abs: string): ImageRef {
    try {
      if (!statSync(abs).isFile()) return { kind: 'missing', abs, why: 'is not a file' };
      return { kind: 'file', abs, sha256: sha256Hex(readFileSync(abs)) };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      return { kind: 'missing', abs, why: code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? 'error'})` };
    }
  }
}
