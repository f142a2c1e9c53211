import { describe, expect, test } from 'vitest';
import { checkRequestField, estimateCost, getModel, IMAGE_FIELDS, inFlightLimit, listModels, modelsForProvider } from '../src/models.js';

const BFL_IDS = [
  'flux-dev', 'flux-pro', 'flux-pro-1.1', 'flux-pro-1.1-ultra', 'flux-pro-1.0-fill', 'flux-pro-1.0-expand',
  'flux-pro-1.0-canny', 'flux-pro-1.0-depth', 'flux-kontext-pro', 'flux-kontext-max', 'flux-2-pro',
  'flux-2-pro-preview', 'flux-2-max', 'flux-2-flex', 'flux-2-klein-4b', 'flux-2-klein-9b',
];

describe('model table', () => {
  test('providers', () => {
    expect(modelsForProvider('bfl').map((m) => m.id).sort()).toEqual([...BFL_IDS].sort());
    expect(modelsForProvider('cometapi').map((m) => m.id).sort()).toEqual([...BFL_IDS].sort());
    expect(modelsForProvider('mock')).toHaveLength(17);
    expect(Object.fromEntries(modelsForProvider('replicate').map((m) => [m.id, m.replicateId]))).toEqual({
      'flux-schnell': 'black-forest-labs/flux-schnell',
      'flux-dev': 'black-forest-labs/flux-dev',
      'flux-pro': 'black-forest-labs/flux-pro',
      'flux-pro-1.1': 'black-forest-labs/flux-1.1-pro',
      'flux-pro-1.1-ultra': 'black-forest-labs/flux-1.1-pro-ultra',
      'flux-2-pro': 'black-forest-labs/flux-2-pro',
      'flux-2-flex': 'black-forest-labs/flux-2-flex',
      'flux-kontext-pro': 'black-forest-labs/flux-kontext-pro',
      'flux-kontext-max': 'black-forest-labs/flux-kontext-max',
    });
  });

  test('defaults follow PROTOCOLS 1.4', () => {
    const d = (id: string, f: string) => getModel(id)?.fields[f]?.default;
    expect([d('flux-dev', 'steps'), d('flux-dev', 'guidance'), d('flux-dev', 'width'), d('flux-dev', 'height')]).toEqual([28, 3, 1024, 768]);
    expect([d('flux-pro', 'steps'), d('flux-pro', 'guidance'), d('flux-pro', 'interval')]).toEqual([40, 2.5, 2]);
    expect([d('flux-2-flex', 'prompt_upsampling'), d('flux-2-flex', 'guidance'), d('flux-2-flex', 'steps')]).toEqual([true, 5, 50]);
    expect([d('flux-kontext-pro', 'output_format'), d('flux-pro-1.1', 'output_format')]).toEqual(['png', 'jpeg']);
    expect([d('flux-pro-1.1-ultra', 'aspect_ratio'), d('flux-pro-1.1-ultra', 'image_prompt_strength')]).toEqual(['16:9', 0.1]);
    expect([d('flux-pro-1.0-fill', 'guidance'), d('flux-pro-1.0-canny', 'guidance')]).toEqual([60, 30]);
  });

  test('image fields, limits, required', () => {
    expect(IMAGE_FIELDS).toEqual(expect.arrayContaining(['image_prompt', 'input_image', 'input_image_8', 'image', 'mask', 'control_image']));
    for (const m of listModels()) {
      for (const [name, f] of Object.entries(m.fields)) expect(Boolean(f.image), `${m.id}.${name}`).toBe(IMAGE_FIELDS.includes(name));
    }
    expect(['flux-2-pro', 'flux-2-max', 'flux-2-flex', 'flux-2-klein-4b', 'flux-kontext-max', 'flux-dev'].map((id) => getModel(id)?.maxInputImages)).toEqual([8, 8, 8, 4, 4, 0]);
    expect(getModel('flux-pro-1.0-fill')?.required).toEqual([['image'], ['mask']]); // mask required by decision (models.ts)
    expect(getModel('flux-pro-1.0-expand')?.required).toEqual([['image']]);
    expect(getModel('flux-pro-1.0-canny')?.required).toContainEqual(['control_image', 'preprocessed_image']);
    expect([inFlightLimit('flux-kontext-max'), inFlightLimit('flux-dev'), inFlightLimit('nope')]).toEqual([6, 24, 24]);
  });
});

describe('checkRequestField', () => {
  test.each([
    ['flux-dev', 'width', 512, undefined],
    ['flux-dev', 'width', 250, '`width` must be a multiple of 32 between 256 and 1440 for flux-dev, got 250'],
    ['flux-dev', 'height', 1472, '`height` must be a multiple of 32 between 256 and 1440 for flux-dev, got 1472'],
    ['flux-2-pro', 'width', 1000, '`width` must be a multiple of 16 at least 64 (or 0 to let the model choose) for flux-2-pro, got 1000'],
    ['flux-2-pro', 'width', 2048, undefined],
    ['flux-2-pro', 'width', 0, undefined],
    ['flux-2-pro', 'safety_tolerance', 6, '`safety_tolerance` must be an integer between 0 and 5 for flux-2-pro, got 6'],
    ['flux-dev', 'safety_tolerance', 6, undefined],
    ['flux-kontext-pro', 'aspect_ratio', '3:7', undefined],
    ['flux-kontext-pro', 'aspect_ratio', '21:9', undefined],
    ['flux-kontext-pro', 'aspect_ratio', '1:3', '`aspect_ratio` must be a ratio between 3:7 and 7:3 for flux-kontext-pro, got "1:3"'],
    ['flux-pro-1.1-ultra', 'aspect_ratio', '9:21', undefined],
    ['flux-pro-1.1-ultra', 'aspect_ratio', 'wide', '`aspect_ratio` must be a ratio like "16:9" between 9:21 and 21:9 for flux-pro-1.1-ultra, got "wide"'],
    ['flux-dev', 'output_format', 'gif', '`output_format` must be one of jpeg, png, webp for flux-dev, got "gif"'],
    ['flux-dev', 'seed', -1, '`seed` must be an integer at least 0 for flux-dev, got -1'],
    ['flux-dev', 'guidance', 3.5, undefined],
    ['flux-dev', 'steps', 2.5, '`steps` must be an integer between 1 and 50 for flux-dev, got 2.5'],
    ['flux-dev', 'raw', true, '`raw` is not a field of flux-dev; it takes: prompt, image_prompt, width, height, steps, prompt_upsampling, seed, guidance, safety_tolerance, output_format, webhook_url, webhook_secret'],
  ])('%s %s=%j', (model, field, value, expected) => {
    expect(checkRequestField(model, field, value)).toBe(expected);
  });
});

describe('estimateCost', () => {
  test('flat prices and the FLUX.2 megapixel formula', () => {
    expect(estimateCost('flux-dev', {})).toBe(0.025);
    expect(estimateCost('flux-kontext-max', {})).toBe(0.08);
    expect(estimateCost('flux-2-pro', {})).toBe(0.03);
    expect(estimateCost('flux-2-pro', { width: 1024, height: 1024 })).toBeCloseTo(0.03 + 0.05 * 0.015, 6);
    expect(estimateCost('flux-2-pro', { input_image: 'a.png' })).toBeCloseTo(0.045, 6);
    expect(estimateCost('flux-pro-1.0-expand', {})).toBeUndefined();
    expect(estimateCost('nope', {})).toBeUndefined();
  });
});
