// Turns one checked PostOp into the sharp call, and predicts the canvas it produces so an absurd
// size is refused before any pixel is allocated. Options have passed `checkPostOp` already.
import type { Sharp } from 'sharp';
import { isPlainObject } from './option-rules.js';

export interface Size {
  width: number;
  height: number;
}

type Obj = Record<string, unknown>;
// Options were checked against sharp's shapes in ops.ts; this cast only hands them over.
type Any = any;

const isBare = (v: unknown) =>
  v === undefined || v === null || v === true || (isPlainObject(v) && Object.keys(v).length === 0);

/** The 4 affine coefficients, from `[a,b,c,d]`, `[[a,b],[c,d]]` or `{ matrix }`. */
function affineMatrix(options: unknown): [number, number, number, number] {
  const m = (isPlainObject(options) ? options.matrix : options) as number[] | number[][];
  return m.flat() as [number, number, number, number];
}

/** Applies one operation to the pipeline (sharp's method, sharp's argument shape). */
export function applyOp(img: Sharp, op: string, options: unknown): Sharp {
  const o = (isPlainObject(options) ? options : {}) as Obj;
  const bare = isBare(options);
  switch (op) {
    case 'resize':
      return typeof options === 'number' ? img.resize(options) : img.resize(o as Any);
    case 'extract':
      return img.extract(o as Any);
    case 'trim':
      return bare ? img.trim() : img.trim(o as Any);
    case 'extend':
      return img.extend(options as Any);
    case 'rotate':
      return typeof options === 'number'
        ? img.rotate(options)
        : img.rotate(o.angle as number, o.background === undefined ? {} : { background: o.background as Any });
    case 'autoOrient':
      return img.autoOrient();
    case 'affine': {
      const { matrix: _matrix, ...rest } = o;
      return img.affine(affineMatrix(options), rest as Any);
    }
    case 'blur':
      return bare ? img.blur() : img.blur(options as Any);
    case 'sharpen':
      return bare ? img.sharpen() : img.sharpen(o as Any);
    case 'gamma':
      return typeof options === 'number'
        ? img.gamma(options)
        : img.gamma(o.gamma as number | undefined, o.gammaOut as number | undefined);
    case 'linear':
      return img.linear(o.a as Any, o.b as Any);
    case 'threshold':
      return typeof options === 'number'
        ? img.threshold(options)
        : img.threshold(o.threshold as number | undefined, { greyscale: (o.greyscale ?? o.grayscale) as Any });
    case 'tint':
      return img.tint(options as Any);
    case 'modulate':
    case 'clahe':
      return img[op](o as Any);
    case 'normalise':
    case 'normalize':
      return bare ? img[op]() : img[op](o);
    case 'median':
    case 'dilate':
    case 'erode':
    case 'ensureAlpha':
      return typeof options === 'number' ? img[op](options) : img[op]();
    case 'flatten':
    case 'negate':
      return bare ? img[op]() : img[op](options as Any);
    case 'flip':
    case 'flop':
    case 'greyscale':
    case 'grayscale':
      return img[op](options === false ? false : true);
    case 'unflatten':
    case 'removeAlpha':
      return img[op]();
    default:
      throw new Error(`no sharp mapping for operation "${op}"`);
  }
}

/** An upper bound of the canvas an operation produces from `size` (exact for most). */
export function predictSize(op: string, options: unknown, size: Size): Size {
  const { width: w, height: h } = size;
  const o = (isPlainObject(options) ? options : {}) as Obj;
  switch (op) {
    case 'resize':
      return resizedSize(typeof options === 'number' ? { width: options } : o, size);
    case 'extract':
      return { width: o.width as number, height: o.height as number };
    case 'extend': {
      const n = typeof options === 'number' ? options : undefined;
      const get = (k: string) => n ?? ((o[k] as number | undefined) ?? 0);
      return { width: w + get('left') + get('right'), height: h + get('top') + get('bottom') };
    }
    case 'rotate': {
      const degrees = typeof options === 'number' ? options : (o.angle as number);
      const radians = (degrees * Math.PI) / 180;
      const [c, s] = [Math.abs(Math.cos(radians)), Math.abs(Math.sin(radians))];
      const round = (x: number) => Math.round(x * 1e6) / 1e6; // 90° is exact, not 1e-16 off
      return { width: Math.ceil(round(w * c + h * s)), height: Math.ceil(round(w * s + h * c)) };
    }
    case 'autoOrient':
      return { width: Math.max(w, h), height: Math.max(w, h) }; // orientation may swap sides
    case 'affine': {
      const [a, b, c, d] = affineMatrix(options);
      return {
        width: Math.ceil(Math.abs(a) * w + Math.abs(b) * h),
        height: Math.ceil(Math.abs(c) * w + Math.abs(d) * h),
      };
    }
    default:
      return size; // trim shrinks; every other operation keeps the canvas
  }
}

function resizedSize(o: Obj, { width: w, height: h }: Size): Size {
  const tw = o.width as number | undefined;
  const th = o.height as number | undefined;
  const scaled = (scale: number) => ({
    width: Math.max(1, Math.round(w * scale)),
    height: Math.max(1, Math.round(h * scale)),
  });
  let next: Size;
  if (th === undefined) next = { ...scaled(tw! / w), width: tw! };
  else if (tw === undefined) next = { ...scaled(th / h), height: th };
  else if (o.fit === 'inside') next = scaled(Math.min(tw / w, th / h));
  else if (o.fit === 'outside') next = scaled(Math.max(tw / w, th / h));
  else next = { width: tw, height: th }; // cover, contain, fill
  // sharp then leaves the image as it is
  if (o.withoutEnlargement === true && (next.width > w || next.height > h)) return { width: w, height: h };
  if (o.withoutReduction === true && (next.width < w || next.height < h)) return { width: w, height: h };
  return next;
}
