import { listModels, modelsForProvider } from '../../models.js';
import { parseCommand } from '../args.js';
import { writeLine, type CliIO } from '../io.js';
import { EXIT } from '../main.js';

export async function modelsCommand(argv: string[], io: CliIO): Promise<number> {
  const { flags } = parseCommand(argv, {}, 'models');
  const models = flags.provider ? modelsForProvider(flags.provider) : listModels();
  if (flags.json) {
    writeLine(io.stdout, JSON.stringify(models, null, 2));
    return EXIT.ok;
  }
  for (const m of models) {
    const fields = Object.entries(m.fields).map(([name, f]) => `${name}${describeField(f)}`);
    writeLine(io.stdout, `${m.id}  (in flight ≤ ${m.inFlight ?? 24}${m.priceUsd !== undefined ? `, ~$${m.priceUsd} per image` : ''})\n    ${fields.join(', ')}`);
  }
  return EXIT.ok;
}

function describeField(f: { type?: string; min?: number; max?: number; multipleOf?: number; enum?: readonly unknown[] }): string {
  if (f.enum) return ` [${f.enum.join('|')}]`;
  if (f.min !== undefined || f.max !== undefined) return ` ${f.min ?? ''}–${f.max ?? ''}${f.multipleOf ? ` ×${f.multipleOf}` : ''}`;
  return '';
}
