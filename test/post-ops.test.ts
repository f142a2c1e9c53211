import { describe, expect, it } from 'vitest';
import { checkOutputOptions, checkPostOp, POST_OPERATIONS } from '../src/post/ops.js';

describe('POST_OPERATIONS', () => {
  it("uses sharp's own method names", () => {
    expect(POST_OPERATIONS).toEqual(
      expect.arrayContaining(['resize', 'extract', 'trim', 'extend', 'flatten', 'unflatten', 'rotate', 'autoOrient',
        'flip', 'flop', 'affine', 'modulate', 'tint', 'greyscale', 'grayscale', 'blur', 'sharpen', 'median',
        'normalise', 'normalize', 'clahe', 'gamma', 'negate', 'linear', 'threshold', 'removeAlpha', 'ensureAlpha']),
    );
    expect(POST_OPERATIONS).not.toContain('composite');
  });
});

describe('checkPostOp', () => {
  it('accepts the forms sharp accepts', () => {
    const ok: [string, unknown][] = [
      ['resize', { width: 128, height: 128, fit: 'contain', kernel: 'nearest' }],
      ['resize', 64],
      ['resize', { height: 10, position: 'right top', background: '#00000000' }],
      ['extract', { left: 0, top: 0, width: 10, height: 10 }],
      ['trim', {}],
      ['trim', null],
      ['trim', { threshold: 20, lineArt: true }],
      ['extend', 8],
      ['extend', { top: 4, extendWith: 'mirror', background: { r: 0, g: 0, b: 0, alpha: 0 } }],
      ['rotate', 90],
      ['rotate', { angle: 33, background: 'white' }],
      ['autoOrient', undefined],
      ['flip', true],
      ['flop', {}],
      ['affine', [1, 0.3, 0, 1]],
      ['affine', { matrix: [[1, 0], [0, 2]], interpolator: 'nohalo' }],
      ['modulate', { brightness: 1.2, hue: 90 }],
      ['tint', '#ff8800'],
      ['tint', { r: 255, g: 128, b: 0 }],
      ['greyscale', true],
      ['grayscale', false],
      ['blur', 2],
      ['blur', true],
      ['blur', { sigma: 1.5, precision: 'approximate' }],
      ['sharpen', {}],
      ['sharpen', { sigma: 1, m2: 3 }],
      ['median', 5],
      ['normalise', { lower: 2, upper: 98 }],
      ['normalize', null],
      ['clahe', { width: 8, height: 8 }],
      ['gamma', 2.2],
      ['gamma', { gamma: 2, gammaOut: 1.5 }],
      ['negate', { alpha: false }],
      ['linear', { a: 1.2, b: [-10, 0, 10] }],
      ['threshold', 100],
      ['threshold', { threshold: 100, grayscale: false }],
      ['removeAlpha', {}],
      ['ensureAlpha', 0.5],
      ['flatten', { background: '#fff' }],
      ['unflatten', null],
    ];
    for (const [op, options] of ok) expect([op, checkPostOp(op, options)]).toEqual([op, undefined]);
  });

  it('names an unknown operation and suggests a near one', () => {
    expect(checkPostOp('resise', {})).toBe('unknown operation "resise"; did you mean "resize"?');
    expect(checkPostOp('greyScale', {})).toBe('unknown operation "greyScale"; did you mean "greyscale"?');
    expect(checkPostOp('autoorient', {})).toBe('unknown operation "autoorient"; did you mean "autoOrient"?');
    expect(checkPostOp('composite', [])).toMatch(/^unknown operation "composite" \(known: resize, extract, /);
    expect(checkPostOp('toString', {})).toMatch(/^unknown operation "toString"/);
  });

  it('names an unknown option and suggests a near one', () => {
    expect(checkPostOp('resize', { width: 10, heigth: 10 })).toBe(
      'resize: unknown option "heigth"; did you mean "height"?',
    );
    expect(checkPostOp('modulate', { colourfulness: 2 })).toBe(
      'modulate: unknown option "colourfulness" (known: brightness, saturation, hue, lightness)',
    );
    expect(checkPostOp('removeAlpha', { keep: true })).toBe('removeAlpha: takes no options, got {"keep":true}');
  });

  it('rejects wrong types and out-of-range values, saying what it got', () => {
    expect(checkPostOp('resize', { width: '128' })).toBe('resize: width must be an integer from 1 to 16384, got "128"');
    expect(checkPostOp('resize', { width: 20000 })).toBe('resize: width must be an integer from 1 to 16384, got 20000');
    expect(checkPostOp('resize', { fit: 'contian', width: 4 })).toBe(
      'resize: fit must be one of "cover", "contain", "fill", "inside", "outside", got "contian"; did you mean "contain"?',
    );
    expect(checkPostOp('resize', {})).toBe('resize: needs width, height or both');
    expect(checkPostOp('resize', 'big')).toBe(
      'resize: value must be an integer from 1 to 16384, got "big"; expected a width, or { width, height, fit, position, background, kernel, … }',
    );
    expect(checkPostOp('extend', { top: 20000 })).toBe('extend: top must be an integer from 0 to 16384, got 20000');
    expect(checkPostOp('extract', { left: 0, top: 0, width: 4 })).toBe('extract: missing required option height');
    expect(checkPostOp('rotate', 'left')).toMatch(/^rotate: value must be a number, got "left"; expected an angle/);
    expect(checkPostOp('rotate', {})).toBe('rotate: missing required option angle');
    expect(checkPostOp('blur', 0.1)).toMatch(/^blur: value must be a number from 0.3 to 1000, got 0.1/);
    expect(checkPostOp('flip', 'yes')).toBe('flip: expected nothing, or true/false, got "yes"');
    expect(checkPostOp('removeAlpha', false)).toBe('removeAlpha: expected nothing, got false');
    expect(checkPostOp('clahe', null)).toBe('clahe: needs options: { width, height, maxSlope }');
    expect(checkPostOp('tint', { r: 300, g: 0, b: 0 })).toBe('tint: r must be an integer from 0 to 255, got 300');
    expect(checkPostOp('flatten', { background: { r: 0, g: 0 } })).toBe(
      'flatten: background.b must be an integer from 0 to 255, got undefined',
    );
    expect(checkPostOp('normalise', { lower: 50, upper: 40 })).toBe('normalise: lower (50) must be less than upper (40)');
    expect(checkPostOp('affine', [1, 2, 3])).toMatch(/^affine: value must be 4 numbers/);
    expect(checkPostOp('linear', { a: 'x' })).toBe('linear: a must be a number or a list of numbers, got "x"');
  });
});

describe('checkOutputOptions', () => {
  it("accepts sharp's encoder options per format", () => {
    expect(checkOutputOptions('png', { palette: true, colours: 32, compressionLevel: 9, effort: 10 })).toBeUndefined();
    expect(checkOutputOptions('png', { colors: 16, dither: 0 })).toBeUndefined();
    expect(checkOutputOptions('jpeg', { quality: 85, mozjpeg: true, progressive: true, chromaSubsampling: '4:4:4' })).toBeUndefined();
    expect(checkOutputOptions('webp', { lossless: true, effort: 6, alphaQuality: 50 })).toBeUndefined();
    expect(checkOutputOptions('avif', { quality: 50, effort: 4, bitdepth: 10 })).toBeUndefined();
    expect(checkOutputOptions('tiff', { compression: 'lzw', predictor: 'horizontal' })).toBeUndefined();
    expect(checkOutputOptions('gif', { colours: 16, dither: 0.5, loop: 0 })).toBeUndefined();
    expect(checkOutputOptions('png', {})).toBeUndefined();
    expect(checkOutputOptions('png', null)).toBeUndefined();
  });

  it('names unknown formats and options, and wrong values', () => {
    expect(checkOutputOptions('jpg', {})).toBe('unknown output format "jpg"; did you mean "jpeg"?');
    expect(checkOutputOptions('wepb', {})).toBe('unknown output format "wepb"; did you mean "webp"?');
    expect(checkOutputOptions('bmp', {})).toBe('unknown output format "bmp" (known: png, jpeg, webp, avif, tiff, gif)');
    expect(checkOutputOptions('png', { pallete: true })).toBe('png: unknown option "pallete"; did you mean "palette"?');
    expect(checkOutputOptions('jpeg', { lossless: true })).toMatch(/^jpeg: unknown option "lossless"/);
    expect(checkOutputOptions('webp', { quality: 0 })).toBe('webp: quality must be an integer from 1 to 100, got 0');
    expect(checkOutputOptions('webp', { lossless: 'yes' })).toBe('webp: lossless must be true or false, got "yes"');
    expect(checkOutputOptions('png', { colours: 1 })).toBe('png: colours must be an integer from 2 to 256, got 1');
    expect(checkOutputOptions('webp', { effort: 7 })).toBe('webp: effort must be an integer from 0 to 6, got 7');
    expect(checkOutputOptions('png', 90)).toBe('png: options must be an object like { quality: 90 }, got 90');
  });

  it('says where suffix belongs', () => {
    expect(checkOutputOptions('png', { suffix: '-pal' })).toBe(
      'png: suffix is not an encoder option; put it on the output entry beside "png:", not inside its options',
    );
  });
});
