export * from './types.js';
export { parseGoDuration, formatGoDuration, DurationError, type Milliseconds } from './duration.js';
export { DEFAULT_EVICTION_HARD, defaultKubeletConfiguration } from './defaults.js';
export { applyFlags, parseKubeletArgs, kubeletFlagNames, isBooleanFlag, type FlagValue, type KubeletFlags } from './flags.js';
export { loadKubeletConfig, defaultValidationParsers, type LoadKubeletConfigInput, type LoadedKubeletConfig } from './load.js';
export { validateKubeletConfiguration, type ValidationParsers } from './validate.js';
export { parseMapStringString, parseLangleSeparated } from './flag-syntax.js';
