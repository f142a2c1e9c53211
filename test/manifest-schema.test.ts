// schemas/manifest.schema.json and the TypeScript side must not drift apart.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { describe, expect, test } from 'vitest';
import { allRequestFields, listModels } from '../src/models.js';
import { manifestSchema } from '../src/manifest/index.js';
import { OUTPUT_FORMATS } from '../src/types.js';

type Schema = { properties?: Record<string, Schema>; type?: string | string[]; examples?: unknown[]; anyOf?: Schema[] } & Record<string, unknown>;
const schema = manifestSchema() as Schema & { definitions: Record<string, Schema> };
const jobBody = schema.definitions.jobBody as Schema;
const MANIFEST_ONLY = ['name', 'model', 'matrix', 'include', 'exclude', 'path', 'post', 'outputs', 'atlas', 'contact_sheet', 'provenance'];

describe('manifest schema', () => {
  test('job properties = request fields of models.ts + manifest-only keys', () => {
    expect(Object.keys(jobBody.properties ?? {}).sort()).toEqual([...new Set([...allRequestFields(), ...MANIFEST_ONLY])].sort());
  });

  test('each request field has the type the models give it', () => {
    for (const model of listModels()) {
      for (const [field, spec] of Object.entries(model.fields)) {
        if (field === 'seed') continue;
        const prop = jobBody.properties?.[field];
        const types = [prop?.type].flat();
        const ok = types.includes(spec.type) || (spec.type === 'integer' && types.includes('number'));
        expect(ok, `${model.id}.${field}: schema ${String(types)} vs ${spec.type}`).toBe(true);
      }
    }
  });

  test('every output format is a property of an output entry', () => {
    const items = (jobBody.properties?.outputs as { items: Schema }).items;
    expect(Object.keys(items.properties ?? {}).sort()).toEqual([...OUTPUT_FORMATS, 'suffix'].sort());
  });

  test('top level and descriptions', () => {
    expect(Object.keys(schema.properties ?? {})).toEqual(['version', 'output', 'defaults', 'jobs', 'atlases']);
    expect(schema.additionalProperties).toBe(false);
    expect(jobBody.additionalProperties).toBe(false);
    for (const [key, prop] of Object.entries(jobBody.properties ?? {})) expect(prop.description, key).toBeTruthy();
  });

  test('compiles with ajv, accepts the good fixtures and its own examples', () => {
    const ajv = new Ajv({ allErrors: true, strict: false });
    const validate = ajv.compile(schema);
    const dir = join(import.meta.dirname, 'fixtures/manifests/good');
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.yaml'))) {
      expect(validate(parse(readFileSync(join(dir, file), 'utf8'))), `${file}: ${ajv.errorsText(validate.errors)}`).toBe(true);
    }
    for (const [key, prop] of Object.entries(jobBody.properties ?? {})) {
      const check = ajv.compile({ ...prop, definitions: schema.definitions });
      for (const example of prop.examples ?? []) expect(check(example), `${key}: ${JSON.stringify(example)}`).toBe(true);
    }
  });

  test('the DESIGN example manifest is valid', () => {
    const validate = new Ajv({ strict: false }).compile(schema);
    const text = readFileSync(join(import.meta.dirname, 'fixtures/manifests/good/sprites.yaml'), 'utf8');
    expect(validate(parse(text))).toBe(true);
    expect(text).toContain('yaml-language-server: $schema=');
  });
});
