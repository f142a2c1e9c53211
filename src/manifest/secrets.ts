// Refuse API keys written into the manifest (DESIGN decision 12): keys come from the environment only.
import type { ManifestContext, Rule } from './context.js';
import { isPlain } from './context.js';
import type { Seg } from './source.js';

const SECRET_KEY =
  /^(api[-_]?key|apikey|x[-_]?key|(access[-_]?|auth[-_]?|bearer[-_]?|api[-_]?)?token|auth|authori[sz]ation|bearer|password|secret[-_]?key|[a-z0-9]+[-_]api[-_](key|token)|cometapi[-_]?key|bfl[-_]?key|replicate[-_]?token)$/i;
// A whole value that is a token: `Bearer <16+ token chars with a digit>`, `sk-…`, `r8_…` (Replicate).
const SECRET_VALUE = /^\s*(bearer\s+(?=[^\s]*\d)[A-Za-z0-9._~+/=-]{16,}|sk-[A-Za-z0-9_-]{16,}|r8_[A-Za-z0-9]{20,})\s*$/i;

const HINT = 'keys come only from the environment COMETAPI_KEY / BFL_API_KEY; remove it from the manifest (and rotate it if it was committed)';

function redact(value: unknown): string {
  if (typeof value !== 'string') return '(not shown)';
  return value.length <= 6 ? '****' : `${value.slice(0, 4)}…****`;
}

export const ruleNoSecrets: Rule = (ctx: ManifestContext) => {
  const walk = (value: unknown, path: Seg[]): void => {
    if (Array.isArray(value)) value.forEach((v, i) => walk(v, [...path, i]));
    else if (isPlain(value)) {
      for (const [k, v] of Object.entries(value)) {
        const at = [...path, k];
        if (SECRET_KEY.test(k)) {
          ctx.secretPaths.add(JSON.stringify(at));
          ctx.sink.add({
            code: 'secret-in-manifest',
            path: at,
            atKey: true,
            message: `\`${k}\` looks like an API key; the manifest may not hold keys`,
            received: redact(v),
            hint: HINT,
          });
        } else walk(v, at);
      }
    } else if (typeof value === 'string' && SECRET_VALUE.test(value)) {
      ctx.secretPaths.add(JSON.stringify(path));
      ctx.sink.add({
        code: 'secret-in-manifest',
        path,
        message: 'this value looks like an API key or bearer token; the manifest may not hold keys',
        received: redact(value),
        hint: HINT,
      });
    }
  };
  walk(ctx.data, []);
};
