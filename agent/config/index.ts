export * from './types.js';
export { parseGoDuration, formatGoDuration, DurationError, type Milliseconds } from './duration.js';
export { defaultKubeletConfiguration } from './defaults.js';
export { evictionThresholdsOf } from './eviction-check.js';
export { applyFlags, parseKubeletArgs, kubeletFlagNames, isBooleanFlag, type FlagValue, type KubeletFlags } from './flags.js';
export { loadKubeletConfig, defaultValidationParsers, type LoadKubeletConfigInput, type LoadedKubeletConfig } from './load.js';
export { validateKubeletConfiguration, type ValidationParsers } from './validate.js';
export { parseMapStringString, parseLangleSeparated } from './flag-syntax.js';
export { runtimeConfigConflicts, type RuntimeReportedConfig } from './runtime-conflicts.js';
