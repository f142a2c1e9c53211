// Public API of the manifest stage.
export type { LoadManifestOptions, Rule, ManifestContext } from './context.js';
export { DEFAULT_MAX_JOBS, loadManifest, validateManifestText, type ManifestResult } from './validate.js';
export { canonicalJson, jobKey, sha256Hex } from './keys.js';
export { parseTemplate, renderTemplate } from './templates.js';
export { manifestSchema } from './schema.js';
