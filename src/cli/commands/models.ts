import { listModels, modelsForProvider, type FieldSpec, type ModelSpec } from '../../models.js';
import { parseCommand } from '../args.js';
import { writeLine, type CliIO } from '../io.js';
import { EXIT } from '../main.js';

/** `flux-batch models [--provider p] [--json]`: the model table (src/models.ts), as text or JSON. */
export async function modelsCommand(argv: string[], io: CliIO): Promise<number> {
  const { flags } = parseCommand(argv, {}, 'models');
  const models = flags.provider ? modelsForProvider(flags.provider) : listModels();
  if (flags.json) {
    writeLine(io.stdout, JSON.stringify(models, null, 2));
    return EXIT.ok;
  }
  for (const m of models) {
    const fields = Object.entries(m.fields).map(([name, f]) => `${name}${describeField(f)}`);
    writeLine(io.stdout, `${m.id}  ${m.title} (${summary(m).join(', ')})\n    ${fields.join(', ')}`);
  }
  return EXIT.ok;
}

function summary(m: ModelSpec): string[] {
  const out = [`in flight ≤ ${m.inFlight}`];
  if (m.priceUsd !== undefined) out.push(m.pricePerMpUsd !== undefined ? `from $${m.priceUsd} + $${m.pricePerMpUsd}/MP` : `~$${m.priceUsd} per image`);
  const needs = m.required.map((g) => g.join(' or '));
  if (needs.length) out.push(`needs ${needs.join(' + ')}`);
  if (m.maxInputImages > 0) out.push(`up to ${m.maxInputImages} input images`);
  if (m.replicate) out.push(`replicate: ${m.replicate.id}`);
  if (m.note) out.push(m.note);
  return out;
}

function describeField(f: FieldSpec): string {
  const dflt = f.default !== undefined && f.default !== '' ? ` =${String(f.default)}` : '';
  if (f.image) return ' (image)';
  if (f.enum) return ` [${f.enum.join('|')}]${dflt}`;
  if (f.ratio) return ` ${f.ratio.text.replace(' and ', '–')}${dflt}`;
  if (f.min !== undefined || f.max !== undefined) {
    return ` ${f.min ?? ''}–${f.max ?? ''}${f.multipleOf ? ` ×${f.multipleOf}` : ''}${f.zeroMeansAuto ? ' or 0' : ''}${dflt}`;
  }
  return f.type === 'boolean' ? ` (bool)${dflt}` : dflt;
}
