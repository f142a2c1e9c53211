export { loadConfig, type LoadConfigOptions, type LoadedConfig } from './load.js';
export { DEFAULT_CONFIG, type ConfigOverrides, type FluxConfig } from './types.js';
